"""The clock's wiring for schedules that send at each friend's own morning: a job that wakes at
the next friend's morning, runs one pass (advent.sending.each_morning) and plans its next wake.
The sweep (advent.clock.scheduler) runs the same pass every 30 s for what changed meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger

from advent.clock.busy import SENDING_NOW
from advent.clock.heartbeat import HeartbeatPings
from advent.content.schedules import Schedule
from advent.runtime import Runtime
from advent.sending.catch_up import sender_at
from advent.sending.each_morning import MorningPass, send_due_posts
from advent.sending.friend_days import next_wake
from advent.sending.invites import send_invites

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# When the next wake cannot be worked out (the database is away), try again this soon.
RETRY_SECONDS = 30


def morning_job_id(schedule: Schedule) -> str:
    # Not the campaign's name: a late wake is no missed day (the pass itself decides, per friend).
    return f"{schedule.campaign} mornings"


def run_morning_pass(
    runtime: Runtime, schedule: Schedule, now: datetime, *, everything: bool = False
) -> MorningPass:
    """One pass for a schedule sending at each friend's morning (advent.sending.each_morning),
    and the invites held for an invitee's morning, which are due at the same wake."""
    with runtime.session() as session:
        sender = sender_at(session, runtime.provider, runtime.settings, now)
        done = send_due_posts(sender, schedule, runtime.settings.messages_dir, everything=everything)
        send_invites(sender, schedule, wait_for_retries=False)
        return done


def wake_at(runtime: Runtime, schedule: Schedule, now: datetime) -> datetime | None:
    with runtime.session() as session:
        return next_wake(session, schedule, now)


def morning_job(
    runtime: Runtime, schedule: Schedule, clock: Clock, pings: HeartbeatPings, scheduler: BaseScheduler
) -> None:
    """At a friend's morning: send what is due, then sleep until the next friend's morning."""
    now = clock()
    try:
        with SENDING_NOW.sending([schedule.campaign]):
            done = run_morning_pass(runtime, schedule, now)
    except Exception:
        log.exception("sending %s at its friends' mornings failed; the sweep tries again", schedule.campaign)
        pings.fail(f"{schedule.campaign}: a send stopped with an error; see the clock's log")
        done = None
    if done is not None and done.handed_over:
        for line in done.lines():
            log.info("%s", line)
        pings.alive("\n".join(done.lines()))
    _plan_wake(runtime, schedule, clock, pings, scheduler)


def _plan_wake(
    runtime: Runtime, schedule: Schedule, clock: Clock, pings: HeartbeatPings, scheduler: BaseScheduler
) -> None:
    now = clock()
    try:
        wake = wake_at(runtime, schedule, now)
    except Exception:
        log.exception(
            "could not work out the next morning of %s; the sweep sends meanwhile", schedule.campaign
        )
        wake = now + timedelta(seconds=RETRY_SECONDS)
    if wake is None:
        return  # the campaign is over; the sweep still settles what is left
    scheduler.add_job(
        morning_job,
        DateTrigger(run_date=max(wake, now)),
        args=(runtime, schedule, clock, pings, scheduler),
        id=morning_job_id(schedule),
        name=f"send {schedule.campaign} at each friend's morning",
        replace_existing=True,
        misfire_grace_time=None,  # however late: the pass records per friend what is past its grace
    )
