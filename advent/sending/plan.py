"""Planning: one pending delivery per person on the list, before anything is sent.

The unique key (subscriber, campaign, day) does the deduplication inside the database, so
planning a day twice, or in two processes at once, adds nothing.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, func, select

from advent.content.schedules import Schedule
from advent.people.phones import address
from advent.states import deliveries
from advent.states.subscribers import SubscriberStatus
from advent.store.tables import Delivery, Subscriber


def add_deliveries(
    session: Session, subscribers: list[Subscriber], campaign: str, day: date, now: datetime
) -> int:
    """Pending deliveries of `day` for these subscribers; one already there is left as it is
    (the unique key decides, inside the database). Returns how many were added."""
    rows = [
        {
            "subscriber_id": s.id,
            "campaign": campaign,
            "day": day,
            "channel": s.channel,
            "address": address(s.phone, s.channel),
            "kind": "post",
            "used_template": False,
            "template_only": False,
            "created_at": now,
            "updated_at": now,
        }
        for s in subscribers
    ]
    return deliveries.insert_pending(session, rows)


def plan_day(session: Session, schedule: Schedule, day: date, now: datetime) -> int:
    """One pending delivery per active subscriber; re-planning adds nothing. Returns rows added."""
    query = select(Subscriber).where(
        Subscriber.campaign == schedule.campaign,
        Subscriber.status == SubscriberStatus.ACTIVE,
        Subscriber.channel.in_(schedule.channels),
    )
    if schedule.late_joiners == "tomorrow":
        # Someone who joined after the day's send time starts with the next day's post.
        query = query.where(Subscriber.joined_at <= schedule.send_at(day))
    added = add_deliveries(session, list(session.exec(query).all()), schedule.campaign, day, now)
    session.commit()
    return added


def count_by_status(session: Session, campaign: str, day: date) -> dict[str, int]:
    rows = session.exec(
        select(Delivery.status, func.count())
        .where(Delivery.campaign == campaign, Delivery.day == day, Delivery.kind == "post")
        .group_by(Delivery.status)
    ).all()
    return dict(rows)
