"""Sending pace: at most so many messages a second per sender, as carriers require, counted
across every process that sends (the scheduler, a manual `advent send`, other machines).

Each sender (one per channel) has a row in `send_pace` holding its next free slot. A process
reserves a slot with one atomic upsert and sleeps until it, so two processes can never take the
same slot and together they keep the one rate. On PostgreSQL the slot is on the server's clock,
so machines whose clocks disagree still share one pace; SQLite is one machine, so the process's
clock serves.

The bucket is one slot deep: a sender idle for an hour gets the next slot now, not an hour's
worth saved up. A day's send always starts after idle, and a deeper bucket would spend its
savings as a burst in the first second, over the rate the carrier allows.

A slot reserved and never used (the process crashed, fell behind, or the provider refused before
sending) costs only a gap of one interval: later reservations come after it, and nothing waits
on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session


def _reservation(dialect: str, server_clock: bool) -> str:
    """The upsert: a new sender's slots start now; a known one's at max(its next free slot, now).
    `span` is the time the reserved slots take; it returns the wait until the first of them."""
    greatest = "GREATEST" if dialect == "postgresql" else "max"
    if server_clock:
        # The server's clock, read once for the slot (clock_timestamp() moves on within a
        # statement), and again for the wait: a statement that waited for another process's
        # reservation has spent some of it.
        head = "WITH clock AS (SELECT CAST(extract(epoch FROM clock_timestamp()) AS float8) AS now) "
        source = "SELECT :sender, now + :span FROM clock"
        returned = "CAST(extract(epoch FROM clock_timestamp()) AS float8)"
    else:
        head, source, returned = "", "VALUES (:sender, :now + :span)", ":now"
    return (
        f"{head}INSERT INTO send_pace (sender, next_slot) {source} "
        "ON CONFLICT (sender) DO UPDATE "
        f"SET next_slot = {greatest}(send_pace.next_slot + :span, excluded.next_slot) "
        f"RETURNING next_slot - :span - {returned}"
    )


def reserve_slots(
    session: Session, sender: str, interval: float, count: int = 1, now: float | None = None
) -> float:
    """Reserve `count` consecutive slots, `interval` seconds apart, for `sender`; commits.

    Returns how many seconds from now the first slot is (0 when it is now). `now` is seconds
    since the epoch; None means the database's clock (the server's on PostgreSQL, this
    process's on SQLite).
    """
    return max(0.0, _reserve(session, sender, interval, count, now))


def _reserve(session: Session, sender: str, interval: float, count: int, now: float | None) -> float:
    """As reserve_slots, but counted from when it returns, and negative when the first slot
    has passed already: waiting for the database (another process's reservation, a lock) must
    not hide that a message is late for its slot, or it would go out closer to the next one."""
    dialect = session.get_bind().dialect.name
    server_clock = now is None and dialect == "postgresql"
    real_clock = now is None
    if now is None and not server_clock:
        now = time.time()
    statement = _reservation(dialect, server_clock)
    values = {"sender": sender, "span": interval * count, "now": now}
    wait = float(session.execute(text(statement), values).scalar_one())
    read_at = time.time()
    session.commit()
    if real_clock:
        # Counted from `now` (this process's clock) or from the RETURNING (the server's).
        wait -= time.time() - (read_at if server_clock else float(now or 0.0))
    return wait


# How often a message finds the time it holds run out and reserves more before it goes anyway:
# on a machine too busy to keep any slot, sending late beats never sending.
_FRESH_SLOT_TRIES = 5

# Slots are this much further apart than one over the rate. Each request's way to the carrier
# takes a few milliseconds more or less than the last; with slots exactly 1/rate apart, one a
# little slow and one a little quick `rate` slots later put one message too many into a second
# as the carrier counts it. 3% apart leaves 30 ms a second for that (the same at any rate, since
# `rate` slots then span 1.03 s), and makes a send 3% longer than the rate alone would.
HEADROOM = 0.03
# How far past its last slot a run of slots may still take a message: a sleep wakes a little
# late. This much of the headroom is spent where one process's run meets the next one's.
_WAKE_SLACK_SECONDS = 0.002


@dataclass
class _Run:
    """Consecutive slots one process holds, as a stretch of time: [start, end)."""

    start: float
    end: float


class Pace:
    """At most `per_second` messages a second per sender, shared with every other process,
    with slots `HEADROOM` further apart than one over the rate.

    A process reserves several slots at once (`reserve`: one upsert), which gives it a run of
    time no other process will send in. Its messages (`go`) start in that run, each at least
    one interval after the one before, and none later than the run's last slot, so the next
    process's first message comes at least an interval after its last: any `rate + 1` messages,
    from however many processes, span at least `rate` intervals (1.03 s). A process that falls
    behind (slower than the rate, or waking late) loses only the time it did not use, never
    sends into another's, and reserves again once its run is used up. Moments are on this
    pace's own timeline: seconds since it was made, or since it was told to sleep, whichever is
    further on, so a test's sleep that only moves a fake clock still sees one interval a message.
    """

    def __init__(
        self,
        session: Session,
        per_second: float,
        sleep: Callable[[float], None],
        now: Callable[[], float] | None = None,
    ) -> None:
        self.session = session
        self.interval = (1.0 + HEADROOM) / per_second
        self.slack = min(self.interval / 2, _WAKE_SLACK_SECONDS)
        self.sleep = sleep
        self.now = now  # None: the database's clock; a test passes its own
        self._started = time.monotonic()
        self._slept_to = 0.0
        self._runs: dict[str, _Run] = {}  # the time each sender holds now
        self._next: dict[str, float] = {}  # the earliest its next message may start
        self._batch: dict[str, int] = {}  # how many slots the last reservation took

    def elapsed(self) -> float:
        return max(time.monotonic() - self._started, self._slept_to)

    def reserve(self, sender: str, count: int) -> None:
        """Reserve `count` more slots for `sender` (one statement; commits)."""
        wait = _reserve(self.session, sender, self.interval, count, None if self.now is None else self.now())
        start = self.elapsed() + wait  # may be past: a statement that waited, an idle sender
        run = self._runs.get(sender)
        if run is not None and abs(start - run.end) < self.slack:
            run.end = start + count * self.interval  # straight after ours: one longer run
        else:
            self._runs[sender] = _Run(start, start + count * self.interval)
        self._batch[sender] = count

    def _next_start(self, sender: str) -> float | None:
        """When the next message from `sender` may start in the run it holds; None when the
        run is used up (or there is none)."""
        run = self._runs.get(sender)
        if run is None:
            return None
        moment = max(run.start, self._next.get(sender, run.start), self.elapsed())
        return moment if moment <= run.end - self.interval + self.slack else None

    def wait_ahead(self, sender: str) -> float:
        """How long the next message from `sender` will wait for its turn (time for other work)."""
        moment = self._next_start(sender)
        return 0.0 if moment is None else moment - self.elapsed()

    def go(self, sender: str) -> None:
        """Block until this process may start one message from `sender`, reserving more time
        when what it holds is used up."""
        for attempt in range(_FRESH_SLOT_TRIES):
            moment = self._next_start(sender)
            if moment is None:
                self.reserve(sender, self._batch.get(sender, 1))
                continue
            seconds = moment - self.elapsed()
            if seconds > 0:
                self.sleep(seconds)
                self._slept_to = max(self._slept_to, moment)
            started = self.elapsed()
            if self._next_start(sender) is not None or attempt == _FRESH_SLOT_TRIES - 1:
                self._next[sender] = started + self.interval
                return
            # Woke too late for the run it holds: reserve more and wait again.
        self._next[sender] = self.elapsed() + self.interval

    def wait(self, sender: str) -> None:
        """Block until this process may send one message from `sender`."""
        seconds = reserve_slots(
            self.session, sender, self.interval, now=None if self.now is None else self.now()
        )
        if seconds > 0:
            self.sleep(seconds)
