"""The clock: APScheduler wiring that calls the day's send at each schedule's local send time.

Wiring only. What a send or a sweep means lives in advent.sending.days, which day is due and what a
late or missed day means in advent.sending.catch_up; this module decides when to call them and keeps
exactly one scheduler alive through a lease row. The heartbeat and the sweep are separate jobs,
so a sweep that is sending never delays the heartbeat that keeps the lease.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from advent.clock.busy import SENDING_NOW as SENDING_NOW
from advent.clock.heartbeat import HeartbeatPings
from advent.clock.lease import acquire_lease, current_lease, lease_holder
from advent.clock.mornings import morning_job, morning_job_id
from advent.content.schedules import Schedule
from advent.held_webhooks import replay_waiting
from advent.organiser.watch import watch
from advent.organiser.watchdog import Limits
from advent.receipts import collect_receipts
from advent.runtime import Runtime
from advent.sending.catch_up import (
    due_day,
    record_misfire,
    record_missed_days,
    send_due_day,
    sender_at,
)
from advent.sending.days import report_unsent_earlier_days
from advent.sending.reconcile import reconcile_deliveries
from advent.sending.sweep import sweep

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

TICK_JOB = "tick"
TICK_SECONDS = 30
SWEEP_JOB = "sweep"
SWEEP_SECONDS = 30
RECONCILE_MINUTES = 5


# --- when -------------------------------------------------------------------------------------


def trigger_for(schedule: Schedule) -> CronTrigger:
    """Every day at the send time on the organiser's wall clock, whatever the UTC offset.

    The trigger fires daily, also outside the campaign: the job checks runs_on, so a changed
    schedule file never needs a different trigger.
    """
    send = schedule.send_time
    return CronTrigger(hour=send.hour, minute=send.minute, second=send.second, timezone=schedule.tz)


def next_post_at(schedule: Schedule, now: datetime) -> datetime | None:
    """When the next post of the campaign goes out, in the schedule's timezone; None when over."""
    return next((schedule.send_at(d) for d in schedule.days() if schedule.send_at(d) > now), None)


# --- the jobs ---------------------------------------------------------------------------------


def _send_job(runtime: Runtime, schedule: Schedule, clock: Clock, pings: HeartbeatPings) -> None:
    now = clock()
    day = due_day(schedule, now)
    if not schedule.runs_on(day):
        return
    pings.start(f"{schedule.campaign} {day}: sending")
    with SENDING_NOW.sending([schedule.campaign]):
        result = send_due_day(runtime.session, runtime.provider, runtime.settings, schedule, now)
    if result is None:  # it stopped with an error, logged and recorded as a failed day
        pings.fail(f"{schedule.campaign} {day}: the send stopped with an error; see the clock's log")
        return
    # The clock process's output is where an organiser looks first; the check shows the same.
    counts = ", ".join(f"{n} {s}" for s, n in sorted(result.counts.items())) or "nobody"
    log.info("%s %s: handed over %s; %s", result.campaign, result.day, result.handled, counts)
    pings.alive(f"{result.campaign} {result.day}: handed over {result.handled}; {counts}")


def _collect(runtime: Runtime, now: datetime) -> None:
    with runtime.session() as session:
        collect_receipts(session, runtime.provider, now)


def _record_missed_days(runtime: Runtime, now: datetime) -> None:
    for schedule in runtime.schedules:
        with runtime.session() as session:
            record_missed_days(session, schedule, due_day(schedule, now), now)
            if not schedule.for_each_friend:  # there, earlier days' friends west are still due
                report_unsent_earlier_days(session, schedule, schedule.local_date(now), now)


def _watch(runtime: Runtime, now: datetime) -> None:
    with runtime.session() as session:
        watch(session, runtime.schedules, now, Limits.of(runtime.settings))


def _replay_journal(runtime: Runtime, _now: datetime) -> None:
    # Webhooks kept while the database was busy; the web workers replay them too, but a quiet
    # evening may bring no request to trigger it.
    replay_waiting(runtime)


def tick(runtime: Runtime, holder: str, now: datetime) -> bool:
    """Every 30 s: heartbeat, due receipts, days gone by unrecorded, alerts raised or resolved.
    Never sends, so it is quick.

    False (and nothing done) when another scheduler holds the clock. Each step has its own
    session and its own guard, so a failing step does not stop the others.
    """
    with runtime.session() as session:
        if not acquire_lease(session, holder, now):
            return False
    for what, step in (
        ("collect receipts", _collect),
        ("record missed days", _record_missed_days),
        ("watch the deliveries", _watch),
        ("replay the journal", _replay_journal),
    ):
        try:
            step(runtime, now)
        except Exception:
            log.exception("could not %s; trying again in %s s", what, TICK_SECONDS)
    return True


def _holds_lease(runtime: Runtime, holder: str, now: datetime) -> bool:
    # Read, never renew: the sweep runs apart from the heartbeat, and a scheduler whose heartbeat
    # has stopped renewing must not go on sending while another may be taking over.
    with runtime.session() as session:
        lease = current_lease(session)
    return lease is not None and lease.holder == holder and lease.expires_at > now


def sweep_now(runtime: Runtime, holder: str, now: datetime) -> bool:
    """Every 30 s, beside the heartbeat: late joiners, due retries and WhatsApp re-sends on days
    already sent. False (and nothing sent) unless this process holds the clock."""
    if not _holds_lease(runtime, holder, now):
        return False
    with runtime.session() as session:
        for line in sweep(
            sender_at(session, runtime.provider, runtime.settings, now),
            runtime.schedules,
            runtime.settings.messages_dir,
            busy=SENDING_NOW.campaigns(),
        ):
            log.info("sent late joiners and retries: %s", line)
    return True


def _sweep_job(runtime: Runtime, holder: str, clock: Clock) -> None:
    try:
        held = sweep_now(runtime, holder, clock())
    except Exception:
        log.exception("could not send late joiners and retries; trying again in %s s", SWEEP_SECONDS)
        return
    if not held:  # the heartbeat renews the lease or stops this scheduler
        log.warning(
            "not sending late joiners and retries: this scheduler does not hold the clock lease right now"
        )


def _reconcile_job(runtime: Runtime, clock: Clock) -> None:
    """Every few minutes: ask the provider about deliveries whose receipts never came, and settle
    sends a crash interrupted, so nothing waits for someone to run `advent reconcile`."""
    try:
        with runtime.session() as session:
            summary = reconcile_deliveries(
                sender_at(session, runtime.provider, runtime.settings, clock()),
                runtime.schedules,
                runtime.settings.messages_dir,
            )
        for line in summary.lines(runtime.provider.name):
            log.info("reconcile: %s", line)
    except Exception:
        log.exception("could not reconcile; trying again in %s minutes", RECONCILE_MINUTES)


def _tick_job(
    runtime: Runtime, holder: str, clock: Clock, scheduler: BaseScheduler, pings: HeartbeatPings
) -> None:
    try:
        held = tick(runtime, holder, clock())
    except Exception:  # the database may be away for a moment; the lease outlives a few ticks
        log.exception("heartbeat failed; trying again in %s s", TICK_SECONDS)
        return
    if held:
        pings.alive()  # only the scheduler that holds the clock speaks for it
    else:
        log.error("another scheduler holds the clock lease; stopping this one so only one sends")
        scheduler.shutdown(wait=False)


def missed_listener(runtime: Runtime, clock: Clock | None = None) -> Callable[[JobExecutionEvent], None]:
    """The EVENT_JOB_MISSED handler: a send that ran later than the grace window is recorded."""
    clock = clock or runtime.clock
    by_campaign = {s.campaign: s for s in runtime.schedules}

    def on_missed(event: JobExecutionEvent) -> None:
        schedule = by_campaign.get(event.job_id)
        if schedule is None:
            return  # a late heartbeat or sweep is caught up by the next one
        day = schedule.local_date(event.scheduled_run_time)
        if schedule.runs_on(day):
            record_misfire(
                runtime.session, schedule, day, clock(), grace_minutes=runtime.settings.misfire_grace_minutes
            )

    return on_missed


def build_scheduler(
    runtime: Runtime, *, background: bool, clock: Clock | None = None, holder: str | None = None
) -> BaseScheduler:
    """One cron job per schedule (id = campaign), the 30-second heartbeat tick, the 30-second
    sweep, the reconcile job and the misfire listener.

    `clock` defaults to the runtime's; `holder` must be the name the caller acquired the lease
    with, as the tick renews it and the sweep checks it.
    """
    clock = clock or runtime.clock
    pings = HeartbeatPings(runtime.settings.heartbeat_url)
    grace = runtime.settings.misfire_grace_minutes * 60
    kind = BackgroundScheduler if background else BlockingScheduler
    # APScheduler refuses a grace of 0; one second is the same promise: on time, or recorded.
    scheduler = kind(
        timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": max(1, grace)}
    )
    now = clock()
    for schedule in runtime.schedules:
        if schedule.for_each_friend:
            # No daily trigger: the job wakes at the next friend's morning and plans its own
            # next wake (the sweep covers what changes meanwhile).
            scheduler.add_job(
                morning_job,
                DateTrigger(run_date=now),
                args=(runtime, schedule, clock, pings, scheduler),
                id=morning_job_id(schedule),
                name=f"send {schedule.campaign} at each friend's morning",
                misfire_grace_time=None,
            )
            continue
        trigger = trigger_for(schedule)
        # The first run is fixed now, not at start(): catch_up runs in between, and a send
        # time passing meanwhile must still fire today (the sender makes a double call harmless).
        scheduler.add_job(
            _send_job,
            trigger,
            args=(runtime, schedule, clock, pings),
            id=schedule.campaign,
            name=f"send {schedule.campaign}",
            next_run_time=trigger.get_next_fire_time(None, now),
        )
    scheduler.add_job(
        _reconcile_job,
        IntervalTrigger(minutes=RECONCILE_MINUTES, timezone=UTC),
        args=(runtime, clock),
        id="reconcile",
        name="reconcile stuck deliveries",
        misfire_grace_time=60,
    )
    holder = holder or lease_holder()
    scheduler.add_job(
        _tick_job,
        IntervalTrigger(seconds=TICK_SECONDS, timezone=UTC),
        args=(runtime, holder, clock, scheduler, pings),
        id=TICK_JOB,
        name="heartbeat, receipts, missed days",
        misfire_grace_time=TICK_SECONDS,
    )
    # A job of its own: a sweep sending to many late joiners runs in its own thread while the
    # heartbeat keeps beating (max_instances=1 and coalesce come from the job defaults).
    scheduler.add_job(
        _sweep_job,
        IntervalTrigger(seconds=SWEEP_SECONDS, timezone=UTC),
        args=(runtime, holder, clock),
        id=SWEEP_JOB,
        name="late joiners and retries",
        misfire_grace_time=SWEEP_SECONDS,
    )
    scheduler.add_listener(missed_listener(runtime, clock), EVENT_JOB_MISSED)
    return scheduler
