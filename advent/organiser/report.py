"""The Stats page's numbers, and /api/stats's: how far each day's post got (planned, sent,
delivered, read), who joined and stopped on each date, and how many replies came in.

Every count comes from one GROUP BY query per series; Python only folds a handful of status
rows per day into the funnel, so the cost does not grow with the number of friends.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case
from sqlalchemy import select as sa_select
from sqlmodel import Session, func

from advent.organiser.stats import day_stats
from advent.states.deliveries import DeliveryStatus as D
from advent.store.tables import ConsentEvent, InboundMessage

# The funnel's steps, each a set of statuses that got at least that far. "undelivered" counts
# as sent: the carrier took it and only then said it did not arrive. A post cancelled by a
# STOP before it went is not planned any more (the watch counts it the same way).
SENT = frozenset({D.SENT, D.DELIVERED, D.READ, D.UNDELIVERED})
DELIVERED = frozenset({D.DELIVERED, D.READ})
READ = frozenset({D.READ})
# What did not arrive and will not by waiting (the day page says why for each).
NOT_ARRIVED = frozenset({D.FAILED, D.UNDELIVERED, D.UNKNOWN, D.NEEDS_TEMPLATE})
# A date series is drawn day by day, with the quiet days as zeros, unless it spans longer than
# this: then only the days with something on them, so a chart never grows to hundreds of bars.
MAX_FILLED_SPAN = timedelta(days=92)


@dataclass(frozen=True)
class DayFunnel:
    campaign: str
    day: date
    planned: int
    sent: int
    delivered: int
    read: int
    not_arrived: int

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "day": self.day.isoformat()}


@dataclass(frozen=True)
class PeopleDay:
    """Joins (opt-ins, including invites accepted) and stops (STOP, or the carrier's opt-out;
    an organiser's removal is not a stop) on one date."""

    day: date
    joins: int
    stops: int

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "day": self.day.isoformat()}


@dataclass(frozen=True)
class RepliesDay:
    day: date
    replies: int

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "day": self.day.isoformat()}


@dataclass(frozen=True)
class Report:
    campaign: str | None
    funnel: list[DayFunnel]
    people: list[PeopleDay]
    replies: list[RepliesDay]

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "dates_in": "UTC for joins, stops and replies; the campaign's own calendar for posts",
            "funnel": [f.to_json() for f in self.funnel],
            "people": [p.to_json() for p in self.people],
            "replies": [r.to_json() for r in self.replies],
        }


def report(session: Session, campaign: str | None = None) -> Report:
    """Everything the Stats page draws, for one campaign or (None) all of them."""
    return Report(
        campaign,
        funnel(session, campaign),
        people_by_date(session, campaign),
        replies_by_date(session, campaign),
    )


def funnel(session: Session, campaign: str | None = None) -> list[DayFunnel]:
    """Each campaign day's posts, step by step; days never planned are left out."""
    rows = []
    for stats in day_stats(session, campaign):
        if not stats.counts:
            continue  # a day recorded (e.g. missed) with no posts planned: nothing to draw
        counts = stats.counts

        def within(statuses: frozenset[D], counts: dict[str, int] = counts) -> int:
            return sum(n for status, n in counts.items() if status in statuses)

        rows.append(
            DayFunnel(
                stats.campaign,
                stats.day,
                planned=stats.total - counts.get(D.CANCELLED, 0),
                sent=within(SENT),
                delivered=within(DELIVERED),
                read=within(READ),
                not_arrived=within(NOT_ARRIVED),
            )
        )
    return rows


def _as_date(value: object) -> date:
    # SQLite's date() answers text, PostgreSQL's a date.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def people_by_date(session: Session, campaign: str | None = None) -> list[PeopleDay]:
    on = func.date(ConsentEvent.created_at)
    stop = (ConsentEvent.kind == "opt_out") & (ConsentEvent.method != "organiser")
    query = (
        sa_select(
            on,
            func.sum(case((ConsentEvent.kind == "opt_in", 1), else_=0)),
            func.sum(case((stop, 1), else_=0)),
        )
        .where(ConsentEvent.kind.in_(("opt_in", "opt_out")))
        .group_by(on)
    )
    if campaign:
        query = query.where(ConsentEvent.campaign == campaign)
    found = {_as_date(d): (int(joins), int(stops)) for d, joins, stops in session.execute(query).all()}
    return [PeopleDay(d, *found.get(d, (0, 0))) for d in _dates(found)]


def replies_by_date(session: Session, campaign: str | None = None) -> list[RepliesDay]:
    on = func.date(InboundMessage.received_at)
    query = sa_select(on, func.count()).where(InboundMessage.kind == "reply").group_by(on)
    if campaign:
        query = query.where(InboundMessage.campaign == campaign)
    found = {_as_date(d): int(n) for d, n in session.execute(query).all()}
    return [RepliesDay(d, found.get(d, 0)) for d in _dates(found)]


def _dates(found: dict[date, Any]) -> list[date]:
    """The dates to draw: every date from the first to the last, or only those with data."""
    if not found:
        return []
    first, last = min(found), max(found)
    if last - first > MAX_FILLED_SPAN:
        return sorted(found)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def replies_by_post(session: Session, campaign: str) -> dict[date, int]:
    """How many replies answered each day's post (the day a reply answers, not when it came)."""
    query = (
        sa_select(InboundMessage.in_reply_to_day, func.count())
        .where(
            InboundMessage.kind == "reply",
            InboundMessage.campaign == campaign,
            InboundMessage.in_reply_to_day.is_not(None),
        )
        .group_by(InboundMessage.in_reply_to_day)
    )
    return {_as_date(d): int(n) for d, n in session.execute(query).all()}
