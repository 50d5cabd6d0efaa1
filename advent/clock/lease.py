"""The clock lease: exactly one scheduler process sends, whatever else is started.

A row in `scheduler_lease`, renewed by the scheduler's heartbeat; another process may take it
only once it has expired. /healthz reads the heartbeat from the same row.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session

from advent.store.database import insert_ignoring_duplicates
from advent.store.tables import SchedulerLease

LEASE_NAME = "clock"
# Three missed heartbeats before another process may take over: a slow tick is not a dead one.
LEASE_TTL = timedelta(seconds=90)


def lease_holder() -> str:
    """Names this process in the lease row, so a refusal can say who holds the clock."""
    return f"{socket.gethostname()} pid {os.getpid()} {uuid.uuid4().hex[:6]}"


def acquire_lease(session: Session, holder: str, now: datetime, ttl: timedelta = LEASE_TTL) -> bool:
    """Take or renew the clock lease; False while another holder's lease is still live.

    One conditional UPDATE (ours, or expired) and otherwise an INSERT that ignores a duplicate
    key: the database decides, so two processes starting together cannot both win.
    """
    values = {"holder": holder, "beat_at": now, "expires_at": now + ttl}
    renewed = session.exec(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == LEASE_NAME,
            or_(SchedulerLease.holder == holder, SchedulerLease.expires_at <= now),
        )
        .values(**values)
    )
    won = (
        renewed.rowcount == 1
        or insert_ignoring_duplicates(
            session,
            SchedulerLease,
            [{"name": LEASE_NAME, **values}],
            ["name"],
        )
        == 1
    )
    session.commit()
    return won


def release_lease(session: Session, holder: str, now: datetime) -> None:
    """Let the next scheduler start at once; the row stays so /healthz shows the last heartbeat."""
    session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == holder)
        .values(expires_at=now)
    )
    session.commit()


def current_lease(session: Session) -> SchedulerLease | None:
    lease = session.get(SchedulerLease, LEASE_NAME, populate_existing=True)
    session.commit()
    return lease
