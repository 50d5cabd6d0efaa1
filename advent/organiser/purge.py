"""Forget a campaign's people some days after it ends: numbers and texts go, counts stay.

Each person is erased exactly as the People page's "Erase" does (organiser/erase.py), so the
stats of every day stay the same. A number still on another campaign is left alone: erasing a
number reaches every subscription it has, and that campaign still needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from advent.content.schedules import Schedule
from advent.organiser.erase import ERASED, erase_person
from advent.store.tables import InboundMessage, Subscriber

DEFAULT_PURGE_DAYS = 30


@dataclass
class PurgePlan:
    campaign: str
    purge_from: date
    due: bool
    people: list[Subscriber] = field(default_factory=list)
    texts: int = 0
    kept_for_other_campaigns: int = 0


def purge_plan(session: Session, schedule: Schedule, days: int, now: datetime) -> PurgePlan:
    """Who would be erased today, `days` after the campaign's last day."""
    purge_from = schedule.last_day + timedelta(days=days)
    plan = PurgePlan(schedule.campaign, purge_from, schedule.local_date(now) >= purge_from)
    people = session.exec(
        select(Subscriber).where(
            Subscriber.campaign == schedule.campaign, ~col(Subscriber.phone).startswith(ERASED)
        )
    ).all()
    numbers = {p.phone for p in people}
    elsewhere = set(
        session.exec(
            select(Subscriber.phone).where(
                col(Subscriber.phone).in_(numbers), Subscriber.campaign != schedule.campaign
            )
        ).all()
    )
    seen: set[str] = set()
    for person in people:
        if person.phone in elsewhere:
            plan.kept_for_other_campaigns += 1
        elif person.phone not in seen:  # one number on SMS and WhatsApp is one person
            seen.add(person.phone)
            plan.people.append(person)
    if seen:
        plan.texts = len(
            session.exec(select(InboundMessage.id).where(col(InboundMessage.phone).in_(seen))).all()
        )
    return plan


def purge(session: Session, plan: PurgePlan, now: datetime) -> int:
    """Erase everyone in a due plan; returns how many numbers were erased."""
    if not plan.due:
        return 0
    return sum(1 for person in plan.people if erase_person(session, person, now))
