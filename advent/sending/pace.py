"""Sending pace: at most so many messages a second per sender, as carriers require."""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimiter:
    """At most `per_second` messages a second per sender (one sender per channel)."""

    def __init__(
        self,
        per_second: float,
        sleep: Callable[[float], None],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = 1.0 / per_second
        self.sleep = sleep
        self.monotonic = monotonic
        self.last: dict[str, float] = {}

    def wait(self, sender: str) -> None:
        now = self.monotonic()
        due = self.last.get(sender, now - self.interval) + self.interval
        if due > now:
            self.sleep(due - now)
        self.last[sender] = max(due, now)
