"""Several messages on their way at once: the provider's answer time no longer sets the pace.

Twilio takes a few hundred milliseconds to answer each message; one at a time, that caps a
send at a few messages a second whatever the carrier allows. Here a few worker threads each
make one provider call and hand the answer back; the database session stays with the
dispatcher's thread, which stores every answer. The pace decides when each call starts, so the
carrier sees the rate and no more, however slow each answer is.
"""

from __future__ import annotations

import math
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime

from advent.providers.base import OutgoingMessage, Provider, SendResult

# Enough calls in flight to keep the rate with answers of up to ~0.4 s at 80 a second
# (WhatsApp's limit), and few enough that a crash leaves little for recovery to settle.
MOST_IN_FLIGHT = 32


def most_in_flight(per_second: float) -> int:
    """How many provider calls may be on their way at once at this rate: at one a second (the
    default), one at a time, as a send always was."""
    return max(1, min(MOST_IN_FLIGHT, math.ceil(per_second)))


@dataclass(frozen=True)
class Handover:
    """A claimed delivery's message, ready to go."""

    delivery_id: int
    claimed_at: datetime | None
    message: OutgoingMessage
    claim_token: str | None = None


@dataclass(frozen=True)
class Answer:
    """What the provider said about one handover: its result, or what it raised."""

    handover: Handover
    result: SendResult | None
    error: BaseException | None


class InFlight:
    """Provider calls on their way, at most `most` at once."""

    def __init__(self, provider: Provider, most: int) -> None:
        self.provider = provider
        self.most = most
        self._pool = ThreadPoolExecutor(max_workers=most, thread_name_prefix="advent-send")
        # No wait for a first answer before calls overlap: the twilio provider loads its API
        # modules when it is made, so the first calls do not queue behind an import and reach
        # the carrier at once (waiting cost every send one answer time, 200 ms).
        self._running: dict[Future[SendResult], Handover] = {}

    def __len__(self) -> int:
        return len(self._running)

    def full(self) -> bool:
        return len(self._running) >= self.most

    def start(self, handover: Handover) -> None:
        self._running[self._pool.submit(self.provider.send, handover.message)] = handover

    def answered(self, block: bool = False) -> list[Answer]:
        """The calls that have finished (with `block`, waiting for at least one if any run)."""
        if block and self._running:
            wait(self._running, return_when=FIRST_COMPLETED)
        finished = [future for future in self._running if future.done()]
        answers = []
        for future in finished:
            handover = self._running.pop(future)
            error = future.exception()
            answers.append(Answer(handover, None if error else future.result(), error))
        return answers

    def close(self) -> None:
        """Let calls already on their way finish (their answers matter), start no more."""
        self._pool.shutdown(wait=True, cancel_futures=True)
