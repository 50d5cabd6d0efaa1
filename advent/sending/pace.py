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

A slot reserved and never used (the process crashed, or the provider refused before sending)
costs only a gap of one interval: later reservations come after it, and nothing waits on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import text
from sqlmodel import Session


def _reservation(dialect: str, server_clock: bool) -> str:
    """The upsert: a new sender's slots start now; a known one's at max(its next free slot, now).
    `span` is the time the reserved slots take; it returns the wait until the first of them."""
    greatest = "GREATEST" if dialect == "postgresql" else "max"
    if server_clock:
        # The server's clock, read once (clock_timestamp() moves on within a statement).
        now = "(SELECT now FROM clock)"
        head = "WITH clock AS (SELECT CAST(extract(epoch FROM clock_timestamp()) AS float8) AS now) "
        source = "SELECT :sender, now + :span FROM clock"
    else:
        now, head, source = ":now", "", "VALUES (:sender, :now + :span)"
    return (
        f"{head}INSERT INTO send_pace (sender, next_slot) {source} "
        "ON CONFLICT (sender) DO UPDATE "
        f"SET next_slot = {greatest}(send_pace.next_slot + :span, excluded.next_slot) "
        f"RETURNING next_slot - :span - {now}"
    )


def reserve_slots(
    session: Session, sender: str, interval: float, count: int = 1, now: float | None = None
) -> float:
    """Reserve `count` consecutive slots, `interval` seconds apart, for `sender`; commits.

    Returns how many seconds from now the first slot is (0 when it is now). `now` is seconds
    since the epoch; None means the database's clock (the server's on PostgreSQL, this
    process's on SQLite).
    """
    dialect = session.get_bind().dialect.name
    server_clock = now is None and dialect == "postgresql"
    if now is None and not server_clock:
        now = time.time()
    statement = _reservation(dialect, server_clock)
    wait = session.execute(
        text(statement), {"sender": sender, "span": interval * count, "now": now}
    ).scalar_one()
    session.commit()
    return max(0.0, float(wait))


# How often a late message takes a fresh slot before it goes anyway: on a machine too busy to
# keep any slot, sending late beats never sending.
_FRESH_SLOT_TRIES = 5


class Pace:
    """At most `per_second` messages a second per sender, shared with every other process.

    Slots are reserved several at a time (one upsert for a batch) and each message waits for
    its own: `slots` hands out the moments, `wait_until` waits for one. Moments are on this
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
        self.interval = 1.0 / per_second
        self.sleep = sleep
        self.now = now  # None: the database's clock; a test passes its own
        self._started = time.monotonic()
        self._slept_to = 0.0
        # When the last send started, per sender: a message that starts late (a busy machine)
        # pushes the next one back, so messages running behind never go out bunched. Catching
        # up instead would put more than the rate into some second as the carrier counts it.
        self._last: dict[str, float] = {}

    def elapsed(self) -> float:
        return max(time.monotonic() - self._started, self._slept_to)

    def slots(self, sender: str, count: int) -> list[float]:
        """Reserve `count` slots for `sender` (one statement; commits): when each may go."""
        wait = reserve_slots(
            self.session, sender, self.interval, count, now=None if self.now is None else self.now()
        )
        first = self.elapsed() + wait
        return [first + n * self.interval for n in range(count)]

    def wait_until(self, sender: str, moment: float) -> None:
        """Block until `moment` (from `slots`), and at least one interval after the last send.

        A message that would start well after its reserved slot (this process fell behind, or
        woke late on a busy machine) takes a fresh slot instead: the time after its own slots
        may be reserved by another process, and sending into it would put two messages where
        the carrier allows one. The abandoned slot is only a gap.
        """
        for attempt in range(_FRESH_SLOT_TRIES):
            final = attempt == _FRESH_SLOT_TRIES - 1
            last = self._last.get(sender)
            start = moment if last is None else max(moment, last + self.interval)
            if start - moment > self.interval / 2 and not final:
                moment = self.slots(sender, 1)[0]  # behind our own slots
                continue
            seconds = start - self.elapsed()
            if seconds > 0:
                self.sleep(seconds)
                self._slept_to = max(self._slept_to, start)
            if self.elapsed() - start <= self.interval / 2 or final:
                break
            moment = self.slots(sender, 1)[0]  # woke late: the slot has passed
            self._last.pop(sender, None)
        self._last[sender] = max(start, self.elapsed())

    def wait(self, sender: str) -> None:
        """Block until this process may send one message from `sender`."""
        seconds = reserve_slots(
            self.session, sender, self.interval, now=None if self.now is None else self.now()
        )
        if seconds > 0:
            self.sleep(seconds)
