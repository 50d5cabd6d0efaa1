"""Sending at each friend's own morning: which friend's post is due now, and when the next is.

For a schedule with `send_at = "friend"`, a day's deliveries are not planned all at once at one
send time: each friend's row is written when their own morning of that day comes
(advent.sending.mornings), and the clock wakes for the next friend's morning. A row is still
written before the provider is called and claimed once, so exactly-once holds per delivery; a
friend whose morning passed while the clock was down is sent within the grace window or recorded
missed, with the reason, on their own row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from advent.content.schedules import Schedule
from advent.people.phones import address
from advent.sending.mornings import morning_of, starts_at
from advent.states import deliveries
from advent.states.subscribers import SubscriberStatus
from advent.store.tables import Delivery, Subscriber

# A friend's date runs from UTC-12 to UTC+14: the days a pass looks at, around today in UTC.
DAYS_BEHIND = 2
DAYS_AHEAD = 1


def window(schedule: Schedule, now: datetime, *, everything: bool = False) -> list[date]:
    """The campaign days whose morning may be passing somewhere now; with `everything`, every
    day up to then (the clock's start, after it was down)."""
    today = now.astimezone(schedule.tz).date()
    first = schedule.first_day if everything else today - timedelta(days=DAYS_BEHIND)
    last = today + timedelta(days=DAYS_AHEAD)
    return [d for d in schedule.days() if first <= d <= last]


def friends_without(session: Session, schedule: Schedule, day: date) -> list[Subscriber]:
    """Friends on the list with no post row for `day` yet."""
    has_row = (
        select(Delivery.id)
        .where(
            Delivery.subscriber_id == Subscriber.id,
            Delivery.campaign == schedule.campaign,
            Delivery.day == day,
            Delivery.kind == "post",
        )
        .exists()
    )
    return list(
        session.exec(
            select(Subscriber).where(
                Subscriber.campaign == schedule.campaign,
                Subscriber.status == SubscriberStatus.ACTIVE,
                col(Subscriber.channel).in_(schedule.channels),
                ~has_row,
            )
        ).all()
    )


def next_post(session: Session, schedule: Schedule, subscriber: Subscriber, now: datetime) -> datetime | None:
    """When this friend's next post goes out (on their own morning), or None when no post is
    left for them. A post that is theirs and due but not sent yet counts, as "now"."""
    sent_days = set(
        session.exec(
            select(Delivery.day).where(
                Delivery.subscriber_id == subscriber.id,
                Delivery.campaign == schedule.campaign,
                Delivery.kind == "post",
            )
        ).all()
    )
    for day in schedule.days():
        if day in sent_days:
            continue
        start = starts_at(schedule, subscriber, day)
        if start is None:
            continue
        if start >= now or morning_of(schedule, subscriber).date_at(now) <= day:
            return max(start, now)
    return None


@dataclass(frozen=True)
class Planned:
    day: date
    added: int
    missed: int


def _row(schedule: Schedule, subscriber: Subscriber, day: date, due: datetime, now: datetime) -> dict:
    return {
        "subscriber_id": subscriber.id,
        "campaign": schedule.campaign,
        "day": day,
        "channel": subscriber.channel,
        "address": address(subscriber.phone, subscriber.channel),
        "kind": "post",
        "used_template": False,
        "template_only": False,
        "due_at": due,
        "created_at": now,
        "updated_at": now,
    }


__all__ = ["Planned", "deliveries", "friends_without", "next_post", "window"]
