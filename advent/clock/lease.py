"""The clock lease: exactly one scheduler process sends, whatever else is started.

A row in `scheduler_lease`, renewed by the scheduler's heartbeat; another process may take it
once it has expired, or at once when its holder is a dead process on the same machine (a
SIGKILL leaves no chance to release it). /healthz reads the heartbeat from the same row.
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import or_, update
from sqlmodel import Session

from advent.store.database import insert_ignoring_duplicates
from advent.store.tables import SchedulerLease

LEASE_NAME = "clock"
# Three missed heartbeats before another process may take over: a slow tick is not a dead one.
LEASE_TTL = timedelta(seconds=90)


def _started(pid: int) -> str | None:
    """When the process started (clock ticks since boot, from /proc), or None off Linux.

    With the pid it names one process for good: a pid reused after a crash starts later.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The name in brackets may hold spaces; field 22 (starttime) counts from after it.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def lease_holder() -> str:
    """Names this process in the lease row: machine, pid and start, so a refusal can say who holds
    the clock and a successor on the same machine can tell that it has died."""
    started = _started(os.getpid())
    since = f" since {started}" if started else ""
    return f"{socket.gethostname()} pid {os.getpid()}{since} {uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Holder:
    machine: str
    pid: int
    started: str | None


_HOLDER = re.compile(r"^(?P<machine>\S+) pid (?P<pid>\d+)(?: since (?P<started>\d+))?")


def parse_holder(holder: str) -> Holder | None:
    """The machine and process a lease row names; None for a row this code did not write."""
    found = _HOLDER.match(holder)
    if found is None:
        return None
    return Holder(found["machine"], int(found["pid"]), found["started"])


def holder_is_dead(holder: str) -> bool:
    """True only when certain: the holder ran on this machine and its process is gone.

    Another machine's process cannot be checked from here; its lease must expire.
    """
    named = parse_holder(holder)
    if named is None or named.machine != socket.gethostname():
        return False
    try:
        os.kill(named.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        pass
    # Alive, but perhaps a new process that was given the dead one's pid.
    started = _started(named.pid)
    return named.started is not None and started is not None and started != named.started


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
    if not won:
        won = _take_over_from_the_dead(session, holder, values)
    session.commit()
    return won


def _take_over_from_the_dead(session: Session, holder: str, values: dict) -> bool:
    """Take a live-looking lease whose holder died on this machine.

    Conditional on the row still naming the dead holder, so of two successors only one wins.
    """
    lease = session.get(SchedulerLease, LEASE_NAME, populate_existing=True)
    if lease is None or lease.holder == holder or not holder_is_dead(lease.holder):
        return False
    taken = session.exec(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == lease.holder)
        .values(**values)
    )
    return taken.rowcount == 1


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
