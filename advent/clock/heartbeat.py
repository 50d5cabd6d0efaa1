"""Pings to a check outside the service (ADVENT_HEARTBEAT_URL): how an organiser hears that the
clock has stopped, when the thing that would tell them is the thing that stopped.

The convention is healthchecks.io's, which its self-hosted peers share: a check expects a ping
every so often and alerts when the pings stop. The clock sends
- a ping to the URL on every heartbeat (every 30 s) and after each day's send, that one with the
  day's counts in the body;
- a ping to URL + "/start" when a day's send begins (the check can then time the send);
- a ping to URL + "/fail" when a day's send stops with an error.

Pings go one after another from a thread of their own, each with a short timeout, so a check
that hangs or refuses never holds up a send. A failed ping is logged and forgotten; the log
names only the check's host, as the URL's path is the check's secret.
"""

from __future__ import annotations

import logging
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor, wait
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

# Long enough for a hosted check across the internet, short enough that pings never pile up.
TIMEOUT_SECONDS = 5.0


class HeartbeatPings:
    """Pings to one check URL; with no URL, nothing is sent."""

    def __init__(self, url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="advent-heartbeat") if url else None
        self._last: Future[None] | None = None

    def alive(self, body: str = "") -> None:
        """The clock is running (every heartbeat), or a day's send finished (its counts)."""
        self._ping("", body)

    def start(self, body: str = "") -> None:
        """A day's send begins."""
        self._ping("/start", body)

    def fail(self, body: str = "") -> None:
        """A day's send stopped with an error."""
        self._ping("/fail", body)

    def wait(self, timeout: float | None = None) -> None:
        """Until every ping so far has gone or given up (one thread sends them in order)."""
        if self._last is not None:
            wait([self._last], timeout=timeout)

    def _ping(self, suffix: str, body: str) -> None:
        if self._pool is not None:
            self._last = self._pool.submit(self._post, self.url + suffix, body)

    def _post(self, url: str, body: str) -> None:
        request = urllib.request.Request(
            url,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "text/plain; charset=utf-8", "User-Agent": "advent-clock"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                answer.read(1024)
        except (OSError, ValueError) as error:  # refused, timed out, an HTTP error status
            log.warning("heartbeat ping to %s failed: %s", urlsplit(url).netloc, error)
