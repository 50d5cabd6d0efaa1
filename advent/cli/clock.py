"""`advent scheduler` (the Procfile's clock process) and `advent run` (web and clock together)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from datetime import UTC
from types import FrameType

import click
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.base import BaseScheduler

from advent.cli.common import runtime
from advent.clock.lease import acquire_lease, current_lease, lease_holder, parse_holder, release_lease
from advent.clock.scheduler import SENDING_NOW, SWEEP_SECONDS, TICK_SECONDS, build_scheduler, next_post_at
from advent.providers.base import beyond_loopback, exposed_warning
from advent.runtime import Runtime
from advent.sending.catch_up import catch_up
from advent.sending.friend_days import next_wake

log = logging.getLogger(__name__)


def _log_to_terminal() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # APScheduler announces every run of the 30-second tick and sweep; only its warnings are news.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _stop_on_sigterm() -> None:
    """SIGTERM (a platform stopping the dyno, `kill`) unwinds like Ctrl-C, so the lease is released."""

    def _exit(_signum: int, _frame: FrameType | None) -> None:
        sys.exit(0)

    signal.signal(signal.SIGTERM, _exit)


class _StopOnSigterm:
    """SIGTERM stops the clock process cleanly at whatever point it arrives.

    Before the scheduler runs, the signal unwinds like Ctrl-C. Once it runs, raising in the main
    thread is not safe: APScheduler catches BaseException around submitting a job and notifying
    listeners, so a SystemExit landing there was swallowed and the process kept running. Instead
    the scheduler is shut down from another thread, and its start() returns normally.
    """

    def __init__(self) -> None:
        self.jobs: BaseScheduler | None = None
        self.requested = False
        signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, _signum: int, _frame: FrameType | None) -> None:
        if self.jobs is None:
            sys.exit(0)
        self.requested = True
        threading.Thread(target=self._shut_down, args=(self.jobs,), name="sigterm", daemon=True).start()

    @staticmethod
    def _shut_down(jobs: BaseScheduler) -> None:
        # The signal may come between building the scheduler and its start(): wait for it to
        # run, or a shutdown now would be refused and start() would then run for ever.
        while not jobs.running:
            time.sleep(0.05)
        try:
            jobs.shutdown(wait=False)
        except SchedulerNotRunningError:
            pass  # the tick stopped it meanwhile (another scheduler took over)


def _take_lease(rt: Runtime, holder: str) -> str | None:
    """None when this process now holds the clock; otherwise why it may not."""
    moment = rt.clock()
    with rt.session() as session:
        if acquire_lease(session, holder, moment):
            return None
        lease = current_lease(session)
    if lease is None:  # released between our two reads; the next start will get it
        return "another scheduler was starting at the same moment; try again"
    wait = max(0, round((lease.expires_at - moment).total_seconds()))
    named = parse_holder(lease.holder)
    where = f"on the machine {named.machine}" if named else "elsewhere"
    return (
        f"another scheduler is already running ({lease.holder}, last heartbeat "
        f"{lease.beat_at:%Y-%m-%d %H:%M:%S} UTC) {where}. Only one may send. If it has stopped, "
        f"its heartbeat expires at {lease.expires_at:%H:%M:%S} UTC, in {wait} s; start this one "
        "again then."
    )


def _give_back_lease(rt: Runtime, holder: str) -> None:
    with rt.session() as session:
        release_lease(session, holder, rt.clock())


def _announce(rt: Runtime) -> None:
    moment = rt.clock()
    for schedule in rt.schedules:
        if schedule.for_each_friend:
            with rt.session() as session:
                upcoming = next_wake(session, schedule, moment)
            when = (
                f"{upcoming.astimezone(UTC):%a %d %b %Y %H:%M} UTC"
                if upcoming
                else "none (the campaign is over)"
            )
            start, end = schedule.quiet_hours
            click.echo(
                f"{schedule.campaign}: days {schedule.first_day} to {schedule.last_day}, daily at "
                f"{schedule.send_time:%H:%M} in each friend's own time (never {start:%H:%M} to "
                f"{end:%H:%M}); next friend's morning {when}"
            )
            continue
        upcoming = next_post_at(schedule, moment)
        when = f"{upcoming:%a %d %b %Y %H:%M %Z}" if upcoming else "none (the campaign is over)"
        click.echo(
            f"{schedule.campaign}: days {schedule.first_day} to {schedule.last_day}, "
            f"daily at {schedule.send_time:%H:%M} {schedule.timezone}; next post {when}"
        )
    click.echo(
        f"Every {TICK_SECONDS} s: heartbeat (/healthz) and receipts; every {SWEEP_SECONDS} s: "
        "late joiners, retries, and each friend's morning as it comes."
    )


def _catch_up(rt: Runtime) -> None:
    with SENDING_NOW.sending([s.campaign for s in rt.schedules]):
        lines = catch_up(rt.session, rt.provider, rt.settings, rt.schedules, rt.clock())
    for line in lines:
        click.echo(f"catch-up: {line}")
    if not lines:
        click.echo("catch-up: nothing was due while the scheduler was stopped.")


def _start_clock(rt: Runtime, holder: str, *, background: bool) -> BaseScheduler | None:
    """Take the lease, say what will happen, and build the scheduler (not yet started)."""
    refused = _take_lease(rt, holder)
    if refused:
        click.echo(f"advent: {refused}", err=True)
        return None
    jobs = build_scheduler(rt, background=background, holder=holder)
    # Catching up runs as the scheduler's first job, not before start(): sending a late day
    # can take minutes, and meanwhile the heartbeat must keep the lease (90 s) alive.
    jobs.add_job(
        _catch_up, args=(rt,), id="catch-up", name="catch up after downtime", misfire_grace_time=None
    )
    _announce(rt)
    return jobs


@click.command(
    help="Run the clock: send each schedule's post at its local send time (correct "
    "across summer time), catch up on what was due while it was stopped, and "
    f"every {TICK_SECONDS} s collect receipts and send to late joiners and "
    "retries. Only one may run at a time; this is the Procfile's clock process."
)
def scheduler() -> None:
    stopping = _StopOnSigterm()  # first: a SIGTERM from here on must not leave the lease held
    rt = runtime()
    _log_to_terminal()
    holder = lease_holder()
    jobs = None
    try:
        jobs = _start_clock(rt, holder, background=False)
        if jobs is None:
            sys.exit(1)
        stopping.jobs = jobs
        click.echo("Scheduler running; Ctrl-C to stop.")
        jobs.start()  # returns when stopped, or when the tick finds another scheduler in charge
    except KeyboardInterrupt:
        pass
    except SystemExit as leaving:
        if leaving.code not in (0, None):
            raise  # refused: another scheduler holds the clock (already said why)
    except JobLookupError:
        # APScheduler marks itself stopped before taking its locks, so a shutdown from the
        # SIGTERM thread while it removes a finished one-off job (the catch-up) makes it look
        # for that job among jobs not yet started, and fail. Stopping was asked for: it stopped.
        if not stopping.requested:
            raise
    finally:
        if jobs is not None and jobs.running:
            jobs.shutdown(wait=False)
        # Always: a SIGTERM may land after the lease was taken but before `jobs` was set; only
        # a lease this process holds is released, so after a refusal this changes nothing.
        _give_back_lease(rt, holder)
        if jobs is not None:
            click.echo("Scheduler stopped.")


def _serving(reload: bool) -> bool:
    """Under the reloader a parent watches files and a child serves: only the child runs jobs."""
    return not reload or os.environ.get("WERKZEUG_RUN_MAIN") == "true"


@click.command(
    help="Serve the web app and run the scheduler in one process, for a single "
    "machine: webhooks, the dashboard, /healthz and the daily sends together. "
    "If another scheduler already runs, this one serves the web only."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--reload/--no-reload",
    default=False,
    show_default=True,
    help="Restart when the code changes (for development).",
)
def run(host: str, port: int, reload: bool) -> None:
    from advent import create_app

    rt = runtime()
    app = create_app(runtime=rt)
    holder = lease_holder()
    jobs = None
    if _serving(reload):
        _log_to_terminal()
        jobs = _start_clock(rt, holder, background=True)
        if jobs is None:
            click.echo("This process serves the web only.")
        else:
            jobs.start()
        if rt.provider.rehearsal and beyond_loopback(host):
            log.warning("%s", exposed_warning(f"--host {host}"))
        base = f"http://{host}:{port}"
        click.echo(f"Web app: {base}/   health: {base}/healthz")
        click.echo("Be a friend's phone in another terminal; try: advent phone +447911123456 HAPPY")
        if not reload:
            _stop_on_sigterm()  # the reloader installs its own
    try:
        app.run(host=host, port=port, use_reloader=reload, debug=False)
    finally:
        if jobs is not None:
            if jobs.running:  # the tick stops it if another scheduler took over
                jobs.shutdown(wait=False)
            _give_back_lease(rt, holder)


COMMANDS = [scheduler, run]
