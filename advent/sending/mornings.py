"""Each friend's own morning: when a day's post is due for one friend, on their own clock.

A schedule with `send_at = "friend"` sends day N on the campaign's Nth date in each friend's own
timezone, at the schedule's send_time (or the hour the friend chose with TIME), and never in the
quiet hours of the friend's night. With `send_at = "schedule"` every friend's morning is the
schedule's: one moment for everyone, as a calendar on one wall. Pure: no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from advent.content.schedules import Schedule


class Friend(Protocol):
    """What a friend's morning is worked out from: a Subscriber, or a row of just these columns
    (advent.sending.friend_days reads thousands at a time, and whole rows cost half a pass)."""

    @property
    def timezone(self) -> str | None: ...
    @property
    def send_time(self) -> str | None: ...
    @property
    def joined_at(self) -> datetime | None: ...
    @property
    def morning_set_at(self) -> datetime | None: ...


@lru_cache(maxsize=4096)
def _due(zone: str, hour: time, day: date) -> datetime:
    # The same few (zone, hour, day) for every friend of a list: worked out once each.
    tz = ZoneInfo(zone)
    local = datetime.combine(day, hour, tzinfo=tz)
    return local.astimezone(ZoneInfo("UTC")).astimezone(tz)


@dataclass(frozen=True)
class Morning:
    """Where and at what hour one friend's post is due."""

    zone: str
    hour: time

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def due(self, day: date) -> datetime:
        """The moment of `day` at this hour on this clock. On a night the clocks change, an hour
        that does not exist (02:30 in spring) comes an hour later, as a wall clock shows it."""
        return _due(self.zone, self.hour, day)

    def date_at(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def describe(self) -> str:
        return f"{self.hour:%H:%M} {self.zone}"


def parse_hour(text: str | None) -> time | None:
    """A stored own hour ("07:30"), or None."""
    if not text:
        return None
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def known_zone(name: str | None) -> str | None:
    """`name` if it is an IANA timezone this machine knows, else None."""
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def morning_of(schedule: Schedule, subscriber: Friend, *, own: bool = False) -> Morning:
    """The friend's morning: their zone and hour when the schedule sends at each friend's own
    time (or `own`: whatever the schedule, as for the organiser's own phone), the schedule's
    otherwise (and for a zone this machine no longer knows)."""
    if not (schedule.for_each_friend or own):
        return Morning(schedule.timezone, schedule.send_time)
    zone = known_zone(subscriber.timezone) or schedule.timezone
    return Morning(zone, parse_hour(subscriber.send_time) or schedule.send_time)


def is_night(schedule: Schedule, morning: Morning, moment: datetime, *, always: bool = False) -> bool:
    """True when `moment` falls in the friend's quiet hours (on their clock). A schedule that
    sends at one moment for everyone has no per-friend night: the organiser chose that moment
    (`always`: it has, for the organiser's own texts).

    A friend's own hour ends their night early ("TIME 6:30" inside the quiet hours): they asked
    for it, so it and what follows it are their morning."""
    if not (schedule.for_each_friend or always):
        return False
    local = moment.astimezone(morning.tz).time().replace(tzinfo=None)
    if not schedule.is_quiet(local):
        return False
    start, end = schedule.quiet_hours
    own = morning.hour
    if schedule.is_quiet(own) and own < end and own <= local < end:
        return False
    return True


def morning_after(
    schedule: Schedule, morning: Morning, moment: datetime, *, always: bool = False
) -> datetime:
    """The first moment at or after `moment` outside the friend's night."""
    if not is_night(schedule, morning, moment, always=always):
        return moment
    _, end = schedule.quiet_hours
    own = morning.hour
    wake = own if schedule.is_quiet(own) and own < end else end
    local = moment.astimezone(morning.tz)
    candidate = datetime.combine(local.date(), wake, tzinfo=morning.tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), wake, tzinfo=morning.tz)
    return candidate


def starts_at(schedule: Schedule, subscriber: Friend, day: date) -> datetime | None:
    """When `day`'s post may go to this friend, or None when it is not theirs to get: they
    joined after it was due (a schedule for late joiners "tomorrow"), or on a later day.

    Usually their morning of `day`. A late joiner (late_joiners = "today") gets it from the
    moment they joined; a friend who changed their timezone or hour on `day` after its new
    morning had passed gets it from that moment, so moving east skips no day. What would fall
    in their night waits for their morning.
    """
    morning = morning_of(schedule, subscriber)
    due = morning.due(day)
    start = due
    joined = subscriber.joined_at
    if joined is not None and joined > due:
        if schedule.late_joiners == "tomorrow" or morning.date_at(joined) != day:
            return None
        start = joined
    moved = subscriber.morning_set_at
    if moved is not None and moved > start and morning.date_at(moved) == day:
        start = moved
    if start == due and not schedule.is_quiet(morning.hour):
        return due  # the usual case: their morning, outside their night
    awake = morning_after(schedule, morning, start)
    if awake != start and start != due and morning.date_at(awake) != day:
        return None if start == joined else awake  # a late joiner's first post is tomorrow's
    return awake
