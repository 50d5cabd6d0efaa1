"""Claiming deliveries: pending -> claimed, by one dispatcher only, many rows per statement.

A claim is a conditional update: a row moves only while it is still pending, so of two
dispatchers exactly one takes it. A batch is one `UPDATE ... WHERE id IN (the next n due rows)
RETURNING id`: on PostgreSQL the inner select skips rows another dispatcher has locked (FOR
UPDATE SKIP LOCKED), so dispatchers sharing a day never wait on each other; SQLite lets one
writer in at a time (BEGIN IMMEDIATE), so there the select and the update are one atomic step.

A claimed row that is never handed over (the process died) is still settled by recovery, which
asks the provider before anything is sent again: claiming fifty rows at once changes nothing
about exactly-once, only how many rows a crash leaves for recovery to settle.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlmodel import Session, col

from advent.states.deliveries import TABLE, D
from advent.store.tables import Delivery, DeliveryEvent


def _due(campaign: str, day: date, kind: str, now: datetime) -> list[Any]:
    """What makes a row of the day the next one to send: pending, and past any retry wait."""
    return [
        Delivery.campaign == campaign,
        Delivery.day == day,
        Delivery.kind == kind,
        Delivery.status == D.PENDING,
        or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
    ]


def _claimed(token: str, now: datetime) -> dict[str, Any]:
    return dict(
        status=D.CLAIMED.value,
        claim_token=token,
        claimed_at=now,
        updated_at=now,
        attempts=Delivery.attempts + 1,
    )


def _record_claims(session: Session, delivery_ids: list[int], now: datetime) -> None:
    """One "claimed" event per row, written in one statement (executemany)."""
    if delivery_ids:
        session.execute(
            insert(DeliveryEvent),
            [
                dict(
                    delivery_id=delivery_id,
                    status=D.CLAIMED.value,
                    source="sender",
                    applied=True,
                    received_at=now,
                )
                for delivery_id in delivery_ids
            ],
        )


def claim(session: Session, delivery_id: int, now: datetime) -> str | None:
    """Take one pending row for this dispatcher, and commit; None if another got there first."""
    TABLE.check(D.PENDING, D.CLAIMED)
    token = uuid.uuid4().hex
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == D.PENDING,
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        )
        .values(**_claimed(token, now))
    )
    won = result.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE's result has a rowcount
    if won:
        _record_claims(session, [delivery_id], now)
    session.commit()
    return token if won else None


def claim_batch(
    session: Session, campaign: str, day: date, kind: str, now: datetime, limit: int
) -> list[int]:
    """Claim up to `limit` of the day's due deliveries for this dispatcher, and commit; their
    ids in order, or an empty list when nothing is left to claim."""
    TABLE.check(D.PENDING, D.CLAIMED)
    due = select(Delivery.id).where(*_due(campaign, day, kind, now)).order_by(Delivery.id).limit(limit)
    claiming = update(Delivery).values(**_claimed(uuid.uuid4().hex, now)).returning(Delivery.id)
    if session.get_bind().dialect.name == "postgresql":
        # The rows are picked once, in a materialised CTE: an `IN (subquery)` may be run again
        # for a row another dispatcher changed meanwhile, and then claim fewer rows than it
        # locked, or none while rows are left.
        picked = due.with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED")
        claiming = claiming.where(Delivery.id == picked.c.id, Delivery.status == D.PENDING)
    else:
        claiming = claiming.where(col(Delivery.id).in_(due.scalar_subquery()), Delivery.status == D.PENDING)
    claimed = sorted(session.execute(claiming).scalars().all())
    _record_claims(session, claimed, now)
    session.commit()
    return claimed


def renew(session: Session, delivery_id: int, token: str | None, now: datetime) -> bool:
    """Stamp this dispatcher's claim on a row afresh, and commit; False when it is no longer
    ours. A claim that has waited long for its pace slot may look like a dead dispatcher's to
    another process's recovery, which takes it over (a new token) and may send it itself: the
    message must then not go from here as well."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == D.CLAIMED, Delivery.claim_token == token)
        .values(claimed_at=now, updated_at=now)
    )
    session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE's result has a rowcount


def claim_next(session: Session, campaign: str, day: date, kind: str, now: datetime) -> int | None:
    """Claim the day's next due delivery, and commit; its id, or None when none is left."""
    claimed = claim_batch(session, campaign, day, kind, now, limit=1)
    return claimed[0] if claimed else None
