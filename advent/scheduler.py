"""The clock: APScheduler wiring that calls the day's send at each schedule's local send time.

Wiring only. What a send, a miss or a sweep means lives in advent.days; this module decides
when to call it, keeps exactly one scheduler alive through a lease row, and makes sure no
day passes without a record: sent, missed (with the reason) or failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session, select

from advent.days import DayResult, record_failed, record_missed, send_scheduled_day, sweep
from advent.delivery import Engine
from advent.lease import acquire_lease, lease_holder
from advent.models import DayRun
from advent.receipts import collect_receipts
from advent.runtime import Runtime
from advent.schedules import Schedule
from advent.stuck import reconcile_stuck

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

TICK_JOB = "tick"
TICK_SECONDS = 30
RECONCILE_MINUTES = 5


# --- when -------------------------------------------------------------------------------------

def trigger_for(schedule: Schedule) -> CronTrigger:
    """Every day at the send time on the organiser's wall clock, whatever the UTC offset.

    The trigger fires daily, also outside the campaign: the job checks runs_on, so a changed
    schedule file never needs a different trigger.
    """
    send = schedule.send_time
    return CronTrigger(hour=send.hour, minute=send.minute, second=send.second,
                       timezone=schedule.tz)


def due_day(schedule: Schedule, now: datetime) -> date:
    """The day whose send time passed most recently: a 23:30 send run at 00:10 is yesterday's."""
    day = schedule.local_date(now)
    return day if schedule.send_at(day) <= now else day - timedelta(days=1)


def next_post_at(schedule: Schedule, now: datetime) -> datetime | None:
    """When the next post of the campaign goes out, in the schedule's timezone; None when over."""
    return next((schedule.send_at(d) for d in schedule.days() if schedule.send_at(d) > now), None)


def _running_from(now: datetime) -> Clock:
    """A clock that starts at `now` and runs at real speed.

    A job is handed its moment (a test's fixed date, the scheduler's time) and still sees time
    pass while it sends, which the engine's retry waits and timestamps rely on.
    """
    started = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - started)


def _engine(runtime: Runtime, session: Session, now: datetime) -> Engine:
    return Engine(session, runtime.provider, runtime.settings, clock=_running_from(now))


def _grace(runtime: Runtime) -> timedelta:
    return timedelta(minutes=runtime.settings.misfire_grace_minutes)


def _hhmm(schedule: Schedule) -> str:
    return f"{schedule.send_time:%H:%M} {schedule.timezone}"


# --- the jobs ---------------------------------------------------------------------------------

def send_due_day(runtime: Runtime, schedule: Schedule, now: datetime) -> DayResult | None:
    """The cron job: send the day now due. An error is logged and recorded, never raised."""
    day = due_day(schedule, now)
    if not schedule.runs_on(day):
        return None
    try:
        with runtime.session() as session:
            return send_scheduled_day(_engine(runtime, session, now), schedule, day,
                                      runtime.settings.messages_dir)
    except Exception as error:
        log.exception("sending %s %s failed", schedule.campaign, day)
        first_line = (str(error).splitlines() or [""])[0][:200]
        why = (f"the scheduled send stopped with an error ({type(error).__name__}: {first_line}); "
               f"finish it with `advent send --date {day}`")
        _record_safely(record_failed, runtime, schedule, day, now, why)
        return None


def _record_safely(record: Callable[..., None], runtime: Runtime, schedule: Schedule, day: date,
                   now: datetime, why: str) -> None:
    # A fresh session: the one that failed may be unusable, and the record matters more.
    try:
        with runtime.session() as session:
            record(session, schedule, day, now, why)
    except Exception:
        log.exception("could not record %s %s: %s", schedule.campaign, day, why)


def _send_job(runtime: Runtime, schedule: Schedule, clock: Clock) -> None:
    result = send_due_day(runtime, schedule, clock())
    if result is not None:  # the clock process's output is where an organiser looks first
        counts = ", ".join(f"{n} {s}" for s, n in sorted(result.counts.items())) or "nobody"
        log.info("%s %s: handed over %s; %s", result.campaign, result.day, result.handled, counts)


def _collect(runtime: Runtime, now: datetime) -> None:
    with runtime.session() as session:
        collect_receipts(session, runtime.provider, now)


def _sweep(runtime: Runtime, now: datetime) -> None:
    with runtime.session() as session:
        for line in sweep(_engine(runtime, session, now), runtime.schedules,
                          runtime.settings.messages_dir):
            log.info("sent late joiners and retries: %s", line)


def _record_missed_days(runtime: Runtime, now: datetime) -> None:
    for schedule in runtime.schedules:
        with runtime.session() as session:
            record_missed_days(session, schedule, due_day(schedule, now), now)


def tick(runtime: Runtime, holder: str, now: datetime) -> bool:
    """Every 30 s: heartbeat, due receipts, days gone by unrecorded, late joiners and retries.

    False (and nothing done) when another scheduler holds the clock. Each step has its own
    session and its own guard, so a failing step does not stop the others.
    """
    with runtime.session() as session:
        if not acquire_lease(session, holder, now):
            return False
    for what, step in (("collect receipts", _collect), ("record missed days", _record_missed_days),
                       ("send late joiners and retries", _sweep)):
        try:
            step(runtime, now)
        except Exception:
            log.exception("could not %s; trying again in %s s", what, TICK_SECONDS)
    return True


def _reconcile_job(runtime: Runtime, clock: Clock) -> None:
    """Every few minutes: ask the provider about deliveries whose receipts never came, and settle
    sends a crash interrupted, so nothing waits for someone to run `advent reconcile`."""
    try:
        with runtime.session() as session:
            summary = reconcile_stuck(_engine(runtime, session, clock()), runtime.schedules,
                                      runtime.settings.messages_dir)
        for line in summary.lines(runtime.provider.name):
            log.info("reconcile: %s", line)
    except Exception:
        log.exception("could not reconcile; trying again in %s minutes", RECONCILE_MINUTES)


def _tick_job(runtime: Runtime, holder: str, clock: Clock, scheduler: BaseScheduler) -> None:
    try:
        held = tick(runtime, holder, clock())
    except Exception:  # the database may be away for a moment; the lease outlives a few ticks
        log.exception("heartbeat failed; trying again in %s s", TICK_SECONDS)
        return
    if not held:
        log.error("another scheduler holds the clock lease; stopping this one so only one sends")
        scheduler.shutdown(wait=False)


def missed_listener(runtime: Runtime, clock: Clock | None = None
                    ) -> Callable[[JobExecutionEvent], None]:
    """The EVENT_JOB_MISSED handler: a send that ran later than the grace window is recorded."""
    clock = clock or runtime.clock
    by_campaign = {s.campaign: s for s in runtime.schedules}

    def on_missed(event: JobExecutionEvent) -> None:
        schedule = by_campaign.get(event.job_id)
        if schedule is None:
            return  # a late heartbeat is caught up by the next one
        day = schedule.local_date(event.scheduled_run_time)
        if not schedule.runs_on(day):
            return
        minutes = runtime.settings.misfire_grace_minutes
        why = (f"the scheduler was busy or asleep at {_hhmm(schedule)} and more than the grace "
               f"window ({minutes} minutes) passed; send it by hand with "
               f"`advent send --date {day}` if you still want to")
        _record_safely(record_missed, runtime, schedule, day, clock(), why)

    return on_missed


def build_scheduler(runtime: Runtime, *, background: bool, clock: Clock | None = None,
                    holder: str | None = None) -> BaseScheduler:
    """One cron job per schedule (id = campaign), the 30-second tick, and the misfire listener.

    `clock` defaults to the runtime's; `holder` must be the name the caller acquired the lease
    with, as the tick renews it.
    """
    clock = clock or runtime.clock
    grace = runtime.settings.misfire_grace_minutes * 60
    kind = BackgroundScheduler if background else BlockingScheduler
    # APScheduler refuses a grace of 0; one second is the same promise: on time, or recorded.
    scheduler = kind(timezone=UTC, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": max(1, grace)})
    now = clock()
    for schedule in runtime.schedules:
        trigger = trigger_for(schedule)
        # The first run is fixed now, not at start(): catch_up runs in between, and a send
        # time passing meanwhile must still fire today (the engine makes a double call harmless).
        scheduler.add_job(_send_job, trigger, args=(runtime, schedule, clock),
                          id=schedule.campaign, name=f"send {schedule.campaign}",
                          next_run_time=trigger.get_next_fire_time(None, now))
    scheduler.add_job(_reconcile_job, IntervalTrigger(minutes=RECONCILE_MINUTES, timezone=UTC),
                      args=(runtime, clock), id="reconcile", name="reconcile stuck deliveries",
                      misfire_grace_time=60)
    scheduler.add_job(_tick_job, IntervalTrigger(seconds=TICK_SECONDS, timezone=UTC),
                      args=(runtime, holder or lease_holder(), clock, scheduler),
                      id=TICK_JOB, name="heartbeat, receipts, late joiners and retries",
                      misfire_grace_time=TICK_SECONDS)
    scheduler.add_listener(missed_listener(runtime, clock), EVENT_JOB_MISSED)
    return scheduler


# --- catching up after downtime ---------------------------------------------------------------

def _run_of(session: Session, schedule: Schedule, day: date) -> DayRun | None:
    run = session.exec(select(DayRun).where(DayRun.campaign == schedule.campaign,
                                            DayRun.day == day)).first()
    session.commit()  # end the read: SQLite takes its write lock when a transaction begins
    return run


def record_missed_days(session: Session, schedule: Schedule, before: date, now: datetime
                       ) -> list[date]:
    """Campaign days before `before` that have no record (or only "due"): marked missed."""
    runs = {r.day: r.status for r in session.exec(select(DayRun).where(
        DayRun.campaign == schedule.campaign, DayRun.day < before))}
    session.commit()
    missed = [d for d in schedule.days() if d < before and runs.get(d, "due") == "due"]
    for day in missed:
        record_missed(session, schedule, day, now,
                      f"there is no record of sending it: the scheduler was not running at "
                      f"{_hhmm(schedule)}; send it by hand with `advent send --date {day}` "
                      "if you still want to")
    return missed


def _catch_up_day(runtime: Runtime, schedule: Schedule, day: date, now: datetime) -> str | None:
    """The most recent send time, if it passed while no scheduler was running."""
    with runtime.session() as session:
        run = _run_of(session, schedule, day)
    status = run.status if run else "due"
    late = now - schedule.send_at(day)
    prefix = f"{schedule.campaign} {day}: due at {_hhmm(schedule)}"
    if status in ("due", "sending") and late <= _grace(runtime):
        # "sending": a previous scheduler stopped mid-send; the engine finishes it without repeats.
        send_due_day(runtime, schedule, now)
        with runtime.session() as session:
            after = _run_of(session, schedule, day)
        outcome = f"{after.status} ({after.note})" if after else "not sent"
        return f"{prefix}, sent {int(late.total_seconds() // 60)} minutes late: {outcome}"
    if status == "due":
        why = (f"the scheduler was not running at {_hhmm(schedule)} and the grace window "
               f"({runtime.settings.misfire_grace_minutes} minutes) had passed; send it by hand "
               f"with `advent send --date {day}` if you still want to")
        _record_safely(record_missed, runtime, schedule, day, now, why)
        return f"{prefix}, missed: {why}"
    if status == "sending":
        return f"{prefix}, interrupted while sending; finish it with `advent send --date {day}`"
    return None


def catch_up(runtime: Runtime, now: datetime) -> list[str]:
    """At scheduler start: send what is due within the grace window, record the rest as missed.

    Returns one line per thing done, for the person who started the scheduler.
    """
    lines = []
    for schedule in runtime.schedules:
        day = due_day(schedule, now)
        with runtime.session() as session:
            missed = record_missed_days(session, schedule, day, now)
        if missed:
            listed = ", ".join(str(d) for d in missed)
            lines.append(f"{schedule.campaign}: no record of {len(missed)} earlier day(s), "
                         f"marked missed: {listed}")
        if schedule.runs_on(day):
            line = _catch_up_day(runtime, schedule, day, now)
            if line:
                lines.append(line)
    return lines
