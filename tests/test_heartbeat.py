"""Pings to a check outside the service (ADVENT_HEARTBEAT_URL), received by a local HTTP server:
a day's send says when it starts and what it handed over, every heartbeat says the clock is
alive, and a check that hangs or refuses never holds up a send."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from advent.clock.heartbeat import HeartbeatPings
from advent.clock.lease import acquire_lease
from advent.clock.scheduler import _send_job, _tick_job
from advent.config import ConfigError, load_settings
from tests.helpers import add_people
from tests.twilio_double import LocalServer

JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SECRET_PATH = "/ping/6f2c1a9e-check"


class Check:
    """A check that records each ping (method, path, body); `hold` keeps every answer waiting."""

    def __init__(self) -> None:
        self.pings: list[tuple[str, str, str]] = []
        self.hold = threading.Event()
        self.hold.set()
        self.server = LocalServer(self._app)
        self.url = self.server.base_url + SECRET_PATH

    def _app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode()
        self.hold.wait(timeout=30)
        self.pings.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], body))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"OK"]


@pytest.fixture
def check():
    made = Check()
    yield made
    made.hold.set()
    made.server.stop()


def test_a_day_sent_by_the_clock_pings_its_start_then_what_it_handed_over(runtime, schedule, clock, check):
    people = add_people(runtime.session(), schedule, 3, JOINED)
    pings = HeartbeatPings(check.url)

    _send_job(runtime, schedule, clock, pings)
    pings.wait(timeout=30)

    assert runtime.provider.posts_received() == {p.phone: 1 for p in people}
    assert check.pings == [
        ("POST", SECRET_PATH + "/start", "advent-2026 2026-12-03: sending"),
        ("POST", SECRET_PATH, "advent-2026 2026-12-03: handed over 3; 3 queued"),
    ]


def test_a_check_that_hangs_never_holds_up_the_send(runtime, schedule, clock, check):
    people = add_people(runtime.session(), schedule, 3, JOINED)
    # A timeout longer than the check holds a ping: a ping that blocked the send would hold it
    # until the check gave up (30 s), and would have been recorded by then.
    pings = HeartbeatPings(check.url, timeout=60)
    check.hold.clear()  # the check takes every ping and answers none of them, for now

    _send_job(runtime, schedule, clock, pings)

    # Every post went out while the check still held the first ping unanswered.
    assert runtime.provider.posts_received() == {p.phone: 1 for p in people}
    assert check.pings == []
    check.hold.set()
    pings.wait(timeout=30)
    assert [path for _, path, _ in check.pings] == [SECRET_PATH + "/start", SECRET_PATH]


def test_a_check_that_refuses_is_logged_without_its_secret_and_the_send_goes_on(
    runtime, schedule, clock, caplog
):
    with socket.socket() as unused:  # a port nothing listens on: every ping is refused
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    people = add_people(runtime.session(), schedule, 2, JOINED)
    pings = HeartbeatPings(f"http://127.0.0.1:{port}{SECRET_PATH}")

    with caplog.at_level(logging.WARNING, logger="advent.clock.heartbeat"):
        _send_job(runtime, schedule, clock, pings)
        pings.wait(timeout=30)

    assert runtime.provider.posts_received() == {p.phone: 1 for p in people}
    warnings = [r.getMessage() for r in caplog.records if r.name == "advent.clock.heartbeat"]
    assert len(warnings) == 2 and all(f"heartbeat ping to 127.0.0.1:{port} failed" in w for w in warnings)
    assert not any("6f2c1a9e" in w for w in warnings)


def test_a_failed_send_pings_fail_and_no_post_day_pings_nothing(check):
    pings = HeartbeatPings(check.url)
    pings.fail("advent-2026 2026-12-03: the send stopped with an error; see the clock's log")
    pings.wait(timeout=30)
    assert check.pings == [
        (
            "POST",
            SECRET_PATH + "/fail",
            "advent-2026 2026-12-03: the send stopped with an error; see the clock's log",
        )
    ]


def test_every_heartbeat_of_the_clock_that_holds_the_lease_pings_alive(runtime, clock, check):
    with runtime.session() as session:
        assert acquire_lease(session, "this-clock", clock())
    pings = HeartbeatPings(check.url)

    _tick_job(runtime, "this-clock", clock, scheduler=None, pings=pings)  # type: ignore[arg-type]
    pings.wait(timeout=30)

    assert check.pings == [("POST", SECRET_PATH, "")]


def test_without_a_heartbeat_url_nothing_is_pinged(runtime, schedule, clock, check):
    add_people(runtime.session(), schedule, 1, JOINED)
    pings = HeartbeatPings("")
    _send_job(runtime, schedule, clock, pings)
    pings.wait(timeout=30)
    assert check.pings == []


def test_a_heartbeat_url_that_is_not_a_web_address_is_named_with_how_to_fix_it():
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, ADVENT_HEARTBEAT_URL="hc-ping.example/abc")
    assert "ADVENT_HEARTBEAT_URL" in str(caught.value) and "https://" in str(caught.value)
