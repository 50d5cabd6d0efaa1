"""Counts for the organiser: per campaign day, how many posts are in each status; and invites."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, func, select

from advent.people.phones import mask
from advent.states.deliveries import DeliveryStatus as D
from advent.store.tables import DayRun, Delivery


@dataclass(frozen=True)
class DayStats:
    campaign: str
    day: date
    total: int
    counts: dict[str, int]
    run: str | None  # the day's record: sending, sent, missed, failed (None: never due yet)

    def to_json(self) -> dict:
        return {
            "campaign": self.campaign,
            "day": self.day.isoformat(),
            "total": self.total,
            "day_status": self.run,
            **self.counts,
        }


def day_stats(session: Session, campaign: str | None = None, day: date | None = None) -> list[DayStats]:
    query = (
        select(Delivery.campaign, Delivery.day, Delivery.status, func.count())
        .where(Delivery.kind == "post")
        .group_by(Delivery.campaign, Delivery.day, Delivery.status)
    )
    runs = select(DayRun)
    if campaign:
        query = query.where(Delivery.campaign == campaign)
        runs = runs.where(DayRun.campaign == campaign)
    if day:
        query = query.where(Delivery.day == day)
        runs = runs.where(DayRun.day == day)
    table: dict[tuple[str, date], dict[str, int]] = {}
    for c, d, status, n in session.exec(query).all():
        table.setdefault((c, d), {})[status] = n
    states = {(r.campaign, r.day): r.status for r in session.exec(runs).all()}
    for key in states:
        table.setdefault(key, {})
    return [
        DayStats(c, d, sum(counts.values()), dict(sorted(counts.items())), states.get((c, d)))
        for (c, d), counts in sorted(table.items())
    ]


@dataclass(frozen=True)
class InviteStats:
    campaign: str
    total: int
    counts: dict[str, int]  # by status, receipts applied: queued, sent, delivered, read, failed...

    def line(self) -> str:
        parts = ", ".join(f"{n} {status}" for status, n in self.counts.items())
        return f"{self.campaign} invites: {self.total} ({parts})"

    def to_json(self) -> dict:
        return {"campaign": self.campaign, "kind": "invite", "total": self.total, **self.counts}


def invite_stats(session: Session, campaign: str | None = None) -> list[InviteStats]:
    """Invites per campaign and how far each got, counted apart from the days' posts."""
    query = (
        select(Delivery.campaign, Delivery.status, func.count())
        .where(Delivery.kind == "invite")
        .group_by(Delivery.campaign, Delivery.status)
    )
    if campaign:
        query = query.where(Delivery.campaign == campaign)
    table: dict[str, dict[str, int]] = {}
    for c, status, n in session.exec(query).all():
        table.setdefault(c, {})[status] = n
    return [
        InviteStats(c, sum(counts.values()), dict(sorted(counts.items())))
        for c, counts in sorted(table.items())
    ]


# What the organiser may need to act on; "cancelled" is left out (a STOP is not a problem).
PROBLEMS = (D.FAILED, D.UNDELIVERED, D.NEEDS_TEMPLATE, D.UNKNOWN)


@dataclass(frozen=True)
class Problem:
    campaign: str
    day: date
    kind: str  # post or invite
    number: str  # masked
    channel: str
    status: str
    code: str | None
    reason: str | None

    def to_json(self) -> dict:
        return {
            "campaign": self.campaign,
            "day": self.day.isoformat(),
            "kind": self.kind,
            "number": self.number,
            "channel": self.channel,
            "status": self.status,
            "code": self.code,
            "reason": self.reason,
        }


def problems(session: Session, campaign: str | None = None, day: date | None = None) -> list[Problem]:
    """Deliveries that did not arrive and why, in the provider's plain words."""
    query = select(Delivery).where(Delivery.status.in_(PROBLEMS)).order_by(Delivery.day, Delivery.id)
    if campaign:
        query = query.where(Delivery.campaign == campaign)
    if day:
        query = query.where(Delivery.day == day)
    return [
        Problem(
            d.campaign,
            d.day,
            d.kind,
            mask(d.address.removeprefix("whatsapp:")),
            d.channel,
            d.status,
            d.error_code,
            d.error_reason,
        )
        for d in session.exec(query).all()
    ]
