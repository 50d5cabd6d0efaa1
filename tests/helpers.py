"""Small builders shared by tests: people on the list, and counting what phones received."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from advent.models import Subscriber
from advent.schedules import Schedule
from advent.subscriptions import join


def add_people(session: Session, schedule: Schedule, count: int, at: datetime,
               channel: str = "sms", start: int = 100000) -> list[Subscriber]:
    """`count` people who joined at `at`, with valid UK mobile numbers."""
    people = []
    for n in range(count):
        result = join(session, schedule, phone=f"+447911{start + n:06d}", channel=channel,
                      method="keyword", now=at, text=schedule.join_keyword)
        people.append(result.subscriber)
    session.commit()
    return people
