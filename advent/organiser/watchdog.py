"""The watchdog inside: a day's send that stalled, or whose posts are not arriving, is found by
the clock's tick and texted to the organiser's own phone (issue 12, point 3).

Two conditions, one alert per campaign day each, found afresh on every tick by the watch:
- send_late: friends whose post was not handed over ADVENT_WATCHDOG_MINUTES after their own time
  (the schedule's send time, or their morning when it sends at each friend's), beyond what the
  send rate needs for the day's list. Those still waiting count, and so do those the send
  reached only later: a clock stopped mid-send and started again finishes the day at once, often
  before its first tick, and the organiser must still hear that it stopped.
- few_delivered: of the posts handed over at least an hour ago, less than
  ADVENT_WATCHDOG_DELIVERED_SHARE delivered (or read).
A friend's time is their own, per post; a post past the grace window is recorded missed by the
clock and told as such elsewhere, so it is not counted here. A day sent by hand after it was
recorded missed is not late: the organiser chose when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from advent.config import Settings
from advent.content.schedules import Schedule
from advent.sending.friend_days import friends_without, window
from advent.sending.mornings import starts_at
from advent.states.deliveries import DeliveryStatus as D
from advent.store.tables import Delivery, OrganiserAlert, Subscriber

SEND_LATE = "send_late"
FEW_DELIVERED = "few_delivered"
WATCHDOG = (SEND_LATE, FEW_DELIVERED)
# Receipts normally come within a minute or two; an hour is when the issue asks for the share.
DELIVERED_AFTER = timedelta(hours=1)
WAITING = (D.PENDING, D.CLAIMED)
# Told elsewhere or rightly never sent: a STOP, a missed moment, a post the network could not
# place (the unknown_delivery alert), one WhatsApp refused without a template (short_day).
NOT_JUDGED = (D.CANCELLED, D.MISSED, D.UNKNOWN, D.NEEDS_TEMPLATE)
ARRIVED = (D.DELIVERED, D.READ)


@dataclass(frozen=True)
class Limits:
    """The watchdog's settings, and what the send itself needs."""

    minutes: int = 30
    delivered_share: float = 0.8
    send_rate: float = 1.0  # posts per second
    grace_minutes: int = 180

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            settings.watchdog_minutes,
            settings.watchdog_delivered_share,
            settings.send_rate_per_second,
            settings.misfire_grace_minutes,
        )

    def allowance(self, posts: int) -> timedelta:
        """How long after their time a day's posts may still be going out: the minutes set,
        plus what the send rate needs for the whole list (2,000 friends at one a second take
        33 minutes, and that is not a stall)."""
        return timedelta(minutes=self.minutes, seconds=posts / self.send_rate)


@dataclass(frozen=True)
class Found:
    kind: str
    campaign: str
    day: date
    message: str


@dataclass(frozen=True)
class Post:
    due: datetime
    handed_over_at: datetime | None  # None: not yet
    status: str


def watchdog(session: Session, schedules: list[Schedule], limits: Limits, now: datetime) -> list[Found]:
    """What the watchdog finds now, for every campaign day whose posts may still matter."""
    found = []
    for schedule in schedules:
        for day in window(schedule, now):
            posts = _posts(session, schedule, day, limits, now)
            found += _late(schedule, day, posts, limits, now)
            found += _few_delivered(schedule, day, posts, limits, now)
    return found


def _posts(session: Session, schedule: Schedule, day: date, limits: Limits, now: datetime) -> list[Post]:
    """The day's posts with each one's own time: rows written, and friends whose time has come
    within the grace window without a row yet (the clock stopped before their morning)."""
    if _told_missed(session, schedule.campaign, day):
        return []
    rows = session.exec(
        select(Delivery, Subscriber)
        .join(Subscriber, col(Subscriber.id) == Delivery.subscriber_id)
        .where(
            Delivery.campaign == schedule.campaign,
            Delivery.day == day,
            Delivery.kind == "post",
            col(Delivery.status).not_in(NOT_JUDGED),
        )
    ).all()
    posts = []
    for delivery, friend in rows:
        due = delivery.due_at or starts_at(schedule, friend, day)
        handed = delivery.handed_over_at
        if handed is None and delivery.provider_sid is not None:
            handed = delivery.updated_at  # a crash kept the time from being stored
        if delivery.status == D.FAILED and handed is None:
            continue  # refused before the network took it: the short_day alert says so
        if due is not None:
            posts.append(Post(due, handed, delivery.status))
    grace = timedelta(minutes=limits.grace_minutes)
    for friend in friends_without(session, schedule, day):
        start = starts_at(schedule, friend, day)
        if start is not None and start <= now and now - start <= grace:
            posts.append(Post(start, None, D.PENDING))
    session.commit()
    return posts


def _told_missed(session: Session, campaign: str, day: date) -> bool:
    # The day was recorded missed and the organiser told so; if they send it by hand later,
    # they chose when, and it is not late.
    return (
        session.exec(
            select(OrganiserAlert.id).where(
                OrganiserAlert.kind == "missed_day",
                OrganiserAlert.campaign == campaign,
                OrganiserAlert.day == day,
            )
        ).first()
        is not None
    )


def _when(schedule: Schedule, posts: list[Post]) -> str:
    """ "08:00" when the late posts shared one moment (as on the schedule's clock), else "their
    own morning"."""
    moments = {p.due for p in posts}
    if len(moments) == 1:
        return f"{moments.pop().astimezone(schedule.tz):%H:%M}"
    return "their own morning"


def _late(schedule: Schedule, day: date, posts: list[Post], limits: Limits, now: datetime) -> list[Found]:
    allowance = limits.allowance(len(posts))
    judged = [p for p in posts if p.due + allowance <= now]
    waiting = [p for p in judged if p.handed_over_at is None and p.status in WAITING]
    sent_late = [p for p in judged if p.handed_over_at is not None and p.handed_over_at > p.due + allowance]
    if not waiting and not sent_late:
        return []
    name = f"{schedule.campaign} day {schedule.day_number(day)}"
    late = len(waiting) + len(sent_late)
    if waiting:
        message = (
            f"{name}: {len(waiting)} of {len(judged)} friends not sent {limits.minutes} minutes "
            f"after {_when(schedule, waiting)}; the clock may have stopped mid-send: check "
            "`advent doctor`, then restart the clock (`advent run`), which finishes the day "
            "without repeats"
        )
    else:
        message = (
            f"{name}: {late} of {len(judged)} friends sent more than {limits.minutes} minutes "
            f"after {_when(schedule, sent_late)}: the send stalled (the clock stopped?) and has "
            "caught up since, nobody twice; check the clock's log and `advent doctor`"
        )
    return [Found(SEND_LATE, schedule.campaign, day, message)]


def _few_delivered(
    schedule: Schedule, day: date, posts: list[Post], limits: Limits, now: datetime
) -> list[Found]:
    handed = [p for p in posts if p.handed_over_at is not None and p.handed_over_at <= now - DELIVERED_AFTER]
    if not handed or not limits.delivered_share:
        return []
    arrived = sum(p.status in ARRIVED for p in handed)
    if arrived >= limits.delivered_share * len(handed):
        return []
    lost = sum(p.status in (D.UNDELIVERED, D.FAILED) for p in handed)
    quiet = len(handed) - arrived - lost
    share = round(100 * limits.delivered_share)
    return [
        Found(
            FEW_DELIVERED,
            schedule.campaign,
            day,
            f"{schedule.campaign} day {schedule.day_number(day)}: {arrived} of {len(handed)} "
            f"delivered an hour after going out (under {share}%): {lost} undelivered, "
            f"{quiet} with no receipt yet; check the provider's status page, then "
            f"`advent stats --problems --date {day}`",
        )
    ]
