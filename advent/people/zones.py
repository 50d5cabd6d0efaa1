"""Where and when a friend's morning is: the timezone guessed from their number when they join,
the place or hour they ask for with TIME (or the organiser sets on the People page), and the one
function that changes it.

The hour and zone are only used when the schedule sends at each friend's own time
(`send_at = "friend"`, advent.sending.mornings); the guess is stored whatever the schedule says,
so switching a campaign to each friend's morning later finds everyone's zone already there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import available_timezones

import phonenumbers
from phonenumbers import timezone as number_zones

from advent.content.schedules import Schedule
from advent.sending.mornings import known_zone
from advent.store.tables import Subscriber

# phonenumbers' answer for a number it cannot place (the UK's drama range, a new block).
UNKNOWN_ZONE = "Etc/Unknown"
# The areas of the IANA names people live in; the rest are old aliases ("US/Eastern", "GB")
# and fixed offsets ("Etc/GMT+5") that a friend would not write and we would rather not store.
AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
# 7, 7:30, 07:30, 7.30, 7h30, with am or pm written on or after it.
_HOUR = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?(am|pm)?$")


def guess_zone(phone: str, schedule: Schedule) -> str:
    """The timezone a number most likely lives in. Where a number's country spans several
    (an Australian mobile could be in Perth or Sydney), the schedule's own zone if it is one of
    them (the organiser's friends tend to live near the organiser), else the first."""
    try:
        zones = number_zones.time_zones_for_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        return schedule.timezone
    usable = [z for z in zones if z != UNKNOWN_ZONE and known_zone(z)]
    if not usable:
        return schedule.timezone
    return schedule.timezone if schedule.timezone in usable else usable[0]


def _key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


@lru_cache(maxsize=1)
def _places() -> dict[str, str]:
    """Every way of writing a zone we accept, as a key: its full name and its city part."""
    names = sorted(n for n in available_timezones() if n.split("/")[0] in AREAS) + ["UTC"]
    places: dict[str, str] = {}
    for name in names:
        places.setdefault(_key(name), name)
    for name in names:
        places.setdefault(_key(name.rsplit("/", 1)[-1]), name)
    return places


def find_zone(place: str) -> str | None:
    """The IANA zone a friend means: "Europe/Paris", "paris", "new york"; None if none."""
    return _places().get(_key(place)) if place.strip() else None


def read_hour(text: str) -> time | None:
    """A time of day as people write it ("7:30", "07:30", "7.30", "7", "7pm"); None if not one."""
    found = _HOUR.match(text.strip().lower())
    if found is None:
        return None
    hours, minutes, half = int(found[1]), int(found[2] or 0), found[3]
    if half:
        if not 1 <= hours <= 12:
            return None
        hours = hours % 12 + (12 if half == "pm" else 0)
    if hours > 23 or minutes > 59:
        return None
    return time(hours, minutes)


class MorningRefused(ValueError):
    """What was asked cannot be someone's morning; the message says what and how to write it."""

    def __init__(self, message: str, *, quiet: bool = False) -> None:
        super().__init__(message)
        self.quiet = quiet  # refused for falling in the night, not for being unreadable


@dataclass(frozen=True)
class MorningRequest:
    """What a friend (or the organiser) asked for: a place, an hour, or both."""

    zone: str | None = None
    hour: time | None = None

    @property
    def empty(self) -> bool:
        return self.zone is None and self.hour is None


def read_request(words: list[str] | tuple[str, ...]) -> MorningRequest:
    """The words after TIME, the hour first or last: "7:30", "Toronto", "7:30 new york", "7 pm"."""
    words = [w for w in words if w.strip()]
    hour_words: list[str] = []
    if words and words[0][:1].isdigit():
        hour_words = words[:2] if len(words) > 1 and words[1].lower() in ("am", "pm") else words[:1]
        words = words[len(hour_words) :]
    elif words and (words[-1][:1].isdigit() or words[-1].lower() in ("am", "pm")):
        hour_words = words[-2:] if words[-1].lower() in ("am", "pm") else words[-1:]
        words = words[: -len(hour_words)]
    return request_from(place=" ".join(words), hour="".join(hour_words))


def request_from(*, place: str, hour: str) -> MorningRequest:
    """A place and an hour as written (either may be empty), as the People page's form has them."""
    zone = None
    if place.strip():
        zone = find_zone(place)
        if zone is None:
            raise MorningRefused(f'we don\'t know the place "{place.strip()[:40]}"')
    when = None
    if hour.strip():
        when = read_hour(hour)
        if when is None:
            raise MorningRefused(f'"{hour.strip()[:20]}" is not a time of day')
    return MorningRequest(zone, when)


def check_hour(schedule: Schedule, hour: time) -> None:
    """Refuse an hour in the evening part of the quiet hours: a post there would wait for the
    morning anyway (advent.sending.mornings.is_night), so the friend would be told something
    untrue. An hour in the early-morning part is theirs: it ends their night early."""
    start, end = schedule.quiet_hours
    if schedule.is_quiet(hour) and not hour < end:
        raise MorningRefused(
            f"{hour:%H:%M} is in the quiet hours ({start:%H:%M} to {end:%H:%M}), when nothing is sent",
            quiet=True,
        )


def set_morning(schedule: Schedule, subscriber: Subscriber, request: MorningRequest, now: datetime) -> bool:
    """Change a friend's zone and/or hour (TIME, or the organiser on the People page); the caller
    commits. True if anything changed; `morning_set_at` then says when, so a post due earlier
    under the new morning still goes (advent.sending.mornings.starts_at)."""
    if request.hour is not None:
        check_hour(schedule, request.hour)
    if request.zone is not None and known_zone(request.zone) is None:
        raise MorningRefused(f'we don\'t know the timezone "{request.zone[:40]}"')
    zone = request.zone or subscriber.timezone
    hour = f"{request.hour:%H:%M}" if request.hour is not None else subscriber.send_time
    if (zone, hour) == (subscriber.timezone, subscriber.send_time):
        return False
    subscriber.timezone, subscriber.send_time, subscriber.morning_set_at = zone, hour, now
    return True
