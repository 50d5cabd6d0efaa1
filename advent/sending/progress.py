"""Where a campaign's days stand, in people rather than attempts: for `advent send` and `dev.py`.

A delivery refused as busy and tried again is one person, however many attempts it takes.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, select

from advent.content.schedules import Schedule
from advent.store.tables import DayRun, Delivery


def _count(session: Session, campaign: str, day: date, *conditions: ColumnElement[bool]) -> int:
    found = session.exec(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.campaign == campaign, Delivery.day == day, Delivery.kind == "post", *conditions)
    ).one()
    session.commit()  # end the read
    return int(found)


def people_handed_over(session: Session, campaign: str, day: date) -> int:
    """People whose post for the day the provider has accepted."""
    return _count(session, campaign, day, Delivery.handed_over_at.is_not(None))


def waiting_for_retry(session: Session, campaign: str, day: date) -> int:
    """People whose post was refused for now and waits for its backoff to pass."""
    return _count(session, campaign, day, Delivery.status == "pending", Delivery.attempts > 0)


def held_for_morning(session: Session, campaign: str, day: date, now: datetime) -> list[datetime]:
    """When each post held for its friend's morning goes (sent at each friend's own morning,
    nothing starts in their night), soonest first."""
    moments = session.exec(
        select(Delivery.next_attempt_at).where(
            Delivery.campaign == campaign,
            Delivery.day == day,
            Delivery.kind == "post",
            Delivery.status == "pending",
            Delivery.attempts == 0,
            col(Delivery.next_attempt_at) > now,
        )
    ).all()
    session.commit()
    return sorted(m for m in moments if m is not None)


def next_day_to_send(session: Session, schedule: Schedule, today: date) -> date | None:
    """The first day from `today` on (or the first day, before it starts) not sent yet.

    None once every remaining day is sent, or the campaign is over.
    """
    sent = set(
        session.exec(
            select(DayRun.day).where(DayRun.campaign == schedule.campaign, DayRun.status == "sent")
        ).all()
    )
    session.commit()
    return next((day for day in schedule.days() if day >= today and day not in sent), None)
