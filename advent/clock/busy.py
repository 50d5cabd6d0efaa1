"""Which campaigns a job of this clock process is sending right now, so another job of the
same process (the sweep) leaves them be: two dispatchers of one process would double the rate."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class SendingNow:
    """Campaigns a job of this process is sending at this moment, so the sweep leaves them be."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._campaigns: set[str] = set()

    @contextmanager
    def sending(self, campaigns: list[str]) -> Iterator[None]:
        with self._lock:
            self._campaigns.update(campaigns)
        try:
            yield
        finally:
            with self._lock:
                self._campaigns.difference_update(campaigns)

    def campaigns(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._campaigns)


SENDING_NOW = SendingNow()
