"""The clock lease after a crash: a dead holder on this machine is replaced at once; a holder
on another machine is named, with when its heartbeat runs out."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from advent.cli.clock import scheduler
from advent.clock.lease import LEASE_TTL, acquire_lease, current_lease, lease_holder
from advent.config import Settings
from advent.runtime import Runtime
from tests.helpers import simulator_env  # noqa: I001

# `advent` processes here read the real clock: sent at each friend's own morning, a send
# started in their night would wait for it. Everyone at one moment keeps the test to the hour.
pytestmark = pytest.mark.usefixtures("one_moment_for_everyone")

ROOT = Path(__file__).resolve().parent.parent


def _env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        **simulator_env(settings),
        "PYTHONPATH": str(ROOT),
    }


class Scheduler:
    """`advent scheduler` in its own process, its output read line by line as it comes."""

    def __init__(self, settings: Settings) -> None:
        # cwd: the test's own folder, so a developer's .env is never read.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "advent.cli", "scheduler"],
            env=_env(settings),
            cwd=settings.instance_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, *texts: str) -> str:
        """The first line holding one of `texts`; fails if the process ends without one."""
        while True:
            line = self.lines.get(timeout=120)  # a safety net for a hung process, not a measure
            assert line is not None, "".join(self.seen)
            self.seen.append(line)
            if any(text in line for text in texts):
                return line

    def everything(self) -> str:
        """All it printed (once it has ended)."""
        while (line := self.lines.get(timeout=60)) is not None:
            self.seen.append(line)
        return "".join(self.seen)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.wait(timeout=60)


def test_a_scheduler_killed_with_sigkill_is_replaced_at_once(runtime: Runtime, settings: Settings) -> None:
    first = Scheduler(settings)
    try:
        first.wait_for("Scheduler running")
    finally:
        first.stop(signal.SIGKILL)
    with runtime.session() as session:
        lease = current_lease(session)
    assert lease is not None and f"pid {first.process.pid}" in lease.holder  # left behind, unreleased

    second = Scheduler(settings)
    try:
        line = second.wait_for("Scheduler running", "another scheduler")
        assert "Scheduler running" in line, "".join(second.seen)
        # Settled before SIGTERM: a signal while APScheduler starts its first job is swallowed.
        second.wait_for("catch-up:")
        with runtime.session() as session:
            lease = current_lease(session)
        assert lease is not None and f"pid {second.process.pid}" in lease.holder
    finally:
        second.stop()


def test_a_live_scheduler_on_this_machine_is_not_displaced(runtime: Runtime) -> None:
    moment = runtime.clock()
    with runtime.session() as session:
        assert acquire_lease(session, lease_holder(), moment)  # this test's own, living process
        assert not acquire_lease(session, "someone else", moment + timedelta(seconds=5))


def test_a_dead_holder_on_this_machine_gives_way_in_process(runtime: Runtime) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = f"{socket.gethostname()} pid {gone.pid} abc123"
    moment = runtime.clock()
    with runtime.session() as session:
        assert acquire_lease(session, dead, moment)
        assert acquire_lease(session, "successor", moment + timedelta(seconds=1))
        lease = current_lease(session)
    assert lease is not None and lease.holder == "successor"


def test_a_holder_on_another_machine_is_named_with_when_its_heartbeat_expires(runtime: Runtime) -> None:
    moment = runtime.clock()  # 09:00 UTC on 3 December 2026
    with runtime.session() as session:
        assert acquire_lease(session, "clock-box-2 pid 42 since 1234 abc123", moment - timedelta(seconds=30))
    result = CliRunner().invoke(scheduler, [], obj=runtime)
    assert result.exit_code == 1
    assert "on the machine clock-box-2" in result.output
    assert "its heartbeat expires at 09:01:00 UTC, in 60 s" in result.output


def _wait_until_holding(runtime: Runtime, pid: int) -> None:
    for _ in range(2400):  # a safety net for a process that never starts, not a measure
        with runtime.session() as session:
            lease = current_lease(session)
        if lease is not None and f"pid {pid} " in lease.holder:
            return
        time.sleep(0.005)
    raise AssertionError(f"the scheduler (pid {pid}) never took the lease")


@pytest.mark.timing
def test_sigterm_at_any_moment_stops_the_clock_and_gives_the_lease_back(
    runtime: Runtime, settings: Settings
) -> None:
    """A platform stopping the clock (SIGTERM) right after it says it runs, while its first job
    (catching up) starts: APScheduler used to swallow the signal there and keep running."""
    for moment in ("the lease is taken", "Scheduler running", "catch-up:"):
        clock = Scheduler(settings)
        try:
            if moment == "the lease is taken":  # before it has said anything: the earliest window
                _wait_until_holding(runtime, clock.process.pid)
            else:
                clock.wait_for(moment)
        finally:
            clock.stop()  # SIGTERM; the wait is a safety net, not a measure
        assert clock.process.returncode == 0, clock.everything()
        with runtime.session() as session:
            lease = current_lease(session)
        # Given back: it expires when released, not a whole LEASE_TTL after the last heartbeat.
        assert lease is not None and lease.expires_at < lease.beat_at + LEASE_TTL, "lease still held"
