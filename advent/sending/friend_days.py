"""Sending at each friend's own morning: which friend's post is due now, and when the next is.

For a schedule with `send_at = "friend"`, a day's deliveries are not planned all at once at one
send time: each friend's row is written when their own morning of that day comes
(advent.sending.mornings), and the clock wakes for the next friend's morning. A row is still
written before the provider is called and claimed once, so exactly-once holds per delivery; a
friend whose morning passed while the clock was down is sent within the grace window or recorded
missed, with the reason, on their own row.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from advent.content.schedules import Schedule
from advent.people.phones import address
from advent.sending.mornings import morning_after, morning_of, starts_at
from advent.states import deliveries
from advent.states.deliveries import DeliveryStatus
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


class FriendRow(NamedTuple):
    """The columns a friend's morning and their row are made from (not the whole Subscriber)."""

    id: int
    phone: str
    channel: str
    timezone: str | None
    send_time: str | None
    joined_at: datetime | None
    morning_set_at: datetime | None


def friends_without(
    session: Session, schedule: Schedule, day: date, only: frozenset[int] | None = None
) -> list[FriendRow]:
    """Friends on the list with no post row for `day` yet (of `only`, when given)."""
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
    # SQLAlchemy's own select: SQLModel's types no more than four columns.
    query = sa_select(
        Subscriber.id,
        Subscriber.phone,
        Subscriber.channel,
        Subscriber.timezone,
        Subscriber.send_time,
        Subscriber.joined_at,
        Subscriber.morning_set_at,
    ).where(
        Subscriber.campaign == schedule.campaign,
        Subscriber.status == SubscriberStatus.ACTIVE,
        col(Subscriber.channel).in_(schedule.channels),
        ~has_row,
    )
    if only is not None:
        query = query.where(col(Subscriber.id).in_(only))
    return [FriendRow(*row) for row in session.execute(query).all()]


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


def _row(
    schedule: Schedule, subscriber: FriendRow, day: date, due: datetime, now: datetime
) -> dict[str, Any]:
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
        "next_attempt_at": due if due > now else None,
        "created_at": now,
        "updated_at": now,
    }


def _missed_reason(schedule: Schedule, subscriber: FriendRow, day: date, grace: timedelta) -> str:
    morning = morning_of(schedule, subscriber)
    return (
        f"not sent: its moment ({morning.describe()}) passed while the clock was not running, "
        f"more than the grace window ({int(grace.total_seconds() // 60)} minutes) ago; send it "
        f"by hand with `advent send --date {day}` if you still want to"
    )


def plan_due(
    session: Session,
    schedule: Schedule,
    days: list[date],
    now: datetime,
    grace: timedelta,
    only: frozenset[int] | None = None,
) -> int:
    """Write the rows of every friend (of `only`, when given) whose morning of one of `days`
    has come: pending when it came within the grace window, missed (with the reason) when longer
    ago. Commits; returns how many rows were written pending."""
    added = 0
    for day in days:
        due, late = [], []
        for friend in friends_without(session, schedule, day, only):
            start = starts_at(schedule, friend, day)
            if start is None or start > now:
                continue
            if now - start <= grace:
                due.append(_row(schedule, friend, day, start, now))
            else:
                late.append((friend, _row(schedule, friend, day, start, now)))
        added += deliveries.insert_pending(session, due)
        for friend, row in late:
            deliveries.plan_missed(session, [row], _missed_reason(schedule, friend, day, grace), now)
        session.commit()
    return added


def plan_everyone_now(session: Session, schedule: Schedule, day: date, now: datetime) -> int:
    """The organiser sends `day` by hand: a row for every friend on the list, due now, or at
    their morning for a friend in their night; rows recorded missed go again. Commits."""
    deliveries.send_missed_by_hand(session, schedule.campaign, day, now)
    rows = []
    for friend in friends_without(session, schedule, day):
        wake = morning_after(schedule, morning_of(schedule, friend), now)
        rows.append(_row(schedule, friend, day, wake, now))
    added = deliveries.insert_pending(session, rows)
    session.commit()
    return added


def still_to_come(session: Session, schedule: Schedule, day: date, now: datetime) -> list[datetime]:
    """When each friend on the list who has not had `day`'s post yet will get it, soonest first
    (the dashboard's calendar door shows how many and when)."""
    starts = (starts_at(schedule, friend, day) for friend in friends_without(session, schedule, day))
    session.commit()
    return sorted(start for start in starts if start is not None and start > now)


def next_wake(session: Session, schedule: Schedule, now: datetime) -> datetime | None:
    """The next moment something of this schedule is due: a friend's morning, a day's own send
    time (a day is recorded even with nobody on the list), or a retry's or a deferred post's
    moment. None when nothing is left."""
    moments = [schedule.send_at(d) for d in schedule.days() if schedule.send_at(d) > now][:1]
    # Around today, or the campaign's first days while it has not begun.
    today = max(now.astimezone(schedule.tz).date(), schedule.first_day)
    for day in schedule.days():
        if today - timedelta(days=DAYS_BEHIND) <= day <= today + timedelta(days=DAYS_AHEAD + 1):
            moments += still_to_come(session, schedule, day, now)[:1]
    retry = session.exec(
        select(func.min(Delivery.next_attempt_at)).where(
            Delivery.campaign == schedule.campaign,
            Delivery.status == DeliveryStatus.PENDING,
            col(Delivery.next_attempt_at) > now,
        )
    ).first()
    session.commit()
    if retry is not None:
        moments.append(retry)
    return min(moments, default=None)


def posts_left(session: Session, schedule: Schedule, subscriber: Subscriber, now: datetime) -> int:
    """Posts this friend has still to get: those planned and not yet handed over, and every
    day without a row whose morning is theirs and still to come (today's too, if it has not
    reached them yet)."""
    rows = dict(
        session.exec(
            select(Delivery.day, Delivery.status).where(
                Delivery.subscriber_id == subscriber.id,
                Delivery.campaign == schedule.campaign,
                Delivery.kind == "post",
            )
        ).all()
    )
    today = morning_of(schedule, subscriber).date_at(now)
    left = 0
    for day in schedule.days():
        if day in rows:
            left += rows[day] in (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED)
        elif day >= today and starts_at(schedule, subscriber, day) is not None:
            left += 1
    return left
