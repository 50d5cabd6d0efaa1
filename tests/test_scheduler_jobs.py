"""The clock's jobs as APScheduler runs them: a failing job is logged and the clock keeps going;
a heartbeat that finds another scheduler holding the lease stops this one, and only this one.

Jobs run through the real scheduler and its thread pool. Every job is paused after start, and the
one under test is asked to run at once, so nothing here waits for the 30-second interval.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_SCHEDULER_SHUTDOWN,
    EVENT_SCHEDULER_START,
    JobExecutionEvent,
)
from apscheduler.schedulers.base import BaseScheduler

from advent.clock.lease import LEASE_TTL, acquire_lease, current_lease
from advent.clock.scheduler import SWEEP_JOB, TICK_JOB, build_scheduler
from advent.runtime import Runtime
from tests.conftest import Clock
from tests.database_template import database_away

US = "clock-1 pid 1"
OTHER = "clock-2 pid 2"
WAIT = 20  # seconds: generous on a busy machine; a passing test never waits this long


def _hold(runtime: Runtime, holder: str, now: datetime) -> bool:
    with runtime.session() as session:
        return acquire_lease(session, holder, now)


def _holder(runtime: Runtime) -> str | None:
    with runtime.session() as session:
        lease = current_lease(session)
    return lease.holder if lease else None


def _run_now(scheduler: BaseScheduler, job_id: str) -> JobExecutionEvent:
    """Run one job once on the scheduler's own executor and wait for it to finish."""
    finished: list[JobExecutionEvent] = []
    done = threading.Event()

    def on_finished(event: JobExecutionEvent) -> None:
        if event.job_id == job_id:
            finished.append(event)
            done.set()

    scheduler.add_listener(on_finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    try:
        # "Now" to APScheduler only means "run it next"; nothing asserts a date or a time.
        scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))
        assert done.wait(WAIT), f"the {job_id} job never ran"
    finally:
        scheduler.remove_listener(on_finished)
    return finished[0]


@pytest.fixture
def clock_running(runtime: Runtime, clock: Clock) -> Iterator[BaseScheduler]:
    """This process holds the clock and runs its scheduler in the background, every job paused."""
    assert _hold(runtime, US, clock())
    scheduler = build_scheduler(runtime, background=True, clock=clock, holder=US)
    scheduler.start(paused=True)
    for job in scheduler.get_jobs():
        job.pause()
    scheduler.resume()
    yield scheduler
    if scheduler.running:
        scheduler.shutdown(wait=True)


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("job_id", "logged"),
    [
        (TICK_JOB, "heartbeat failed; trying again in 30 s"),
        (SWEEP_JOB, "could not send late joiners and retries; trying again in 30 s"),
        ("reconcile", "could not reconcile; trying again in 5 minutes"),
    ],
)
def test_a_job_failing_is_logged_and_the_clock_keeps_running(
    clock_running: BaseScheduler,
    runtime: Runtime,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    job_id: str,
    logged: str,
) -> None:
    with database_away(runtime, tmp_path / "aside"):
        event = _run_now(clock_running, job_id)
    assert event.exception is None  # caught inside the job: APScheduler saw a clean run
    assert logged in _errors(caplog)
    assert clock_running.running and clock_running.get_job(job_id) is not None
    # The database back, the same job runs cleanly on the same scheduler.
    caplog.clear()
    assert _run_now(clock_running, job_id).exception is None
    assert _errors(caplog) == []
    assert _holder(runtime) == US


def test_a_heartbeat_finding_another_holder_stops_this_scheduler_and_leaves_their_lease(
    clock_running: BaseScheduler,
    runtime: Runtime,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stopped = threading.Event()
    clock_running.add_listener(lambda _event: stopped.set(), EVENT_SCHEDULER_SHUTDOWN)
    # Our heartbeat stalled past the lease; another scheduler took the clock meanwhile.
    assert _hold(runtime, OTHER, clock() + LEASE_TTL + timedelta(seconds=1))
    _run_now(clock_running, TICK_JOB)
    assert stopped.wait(WAIT)
    assert not clock_running.running
    assert "another scheduler holds the clock lease; stopping this one so only one sends" in (_errors(caplog))
    assert _holder(runtime) == OTHER


def test_the_clock_process_returns_from_its_loop_when_another_scheduler_takes_over(
    runtime: Runtime,
    clock: Clock,
) -> None:
    """`advent scheduler` blocks in start(); losing the lease must end that call, so the command
    can say "Scheduler stopped." and exit, rather than hang with nothing to do."""
    assert _hold(runtime, US, clock())
    scheduler = build_scheduler(runtime, background=False, clock=clock, holder=US)
    started = threading.Event()
    scheduler.add_listener(lambda _event: started.set(), EVENT_SCHEDULER_START)
    loop = threading.Thread(target=scheduler.start, kwargs={"paused": True}, daemon=True)
    loop.start()
    assert started.wait(WAIT)
    for job in scheduler.get_jobs():
        job.pause()
    scheduler.resume()
    assert _hold(runtime, OTHER, clock() + LEASE_TTL + timedelta(seconds=1))
    _run_now(scheduler, TICK_JOB)
    loop.join(WAIT)
    assert not loop.is_alive()
    assert _holder(runtime) == OTHER
