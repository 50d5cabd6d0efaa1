"""Which day is due, and what happens to a day the clock did not send on time.

A post goes out at its send time, or within the grace window after it; anything else is
recorded as missed, saying how many friends did not get it and how to send it by hand. No day
passes without a record. The scheduler (advent.clock.scheduler) only decides when to call these.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from advent.config import Settings
from advent.content.schedules import Schedule
from advent.providers.base import Provider
from advent.sending.days import (
    DayResult,
    close_day,
    record_failed,
    record_missed,
    send_scheduled_day,
    unfinished,
)
from advent.sending.dispatch import Sender
from advent.sending.each_morning import send_due_posts
from advent.sending.plan import count_by_status
from advent.states.day_runs import DayRunStatus
from advent.states.deliveries import DeliveryStatus
from advent.store.tables import DayRun

log = logging.getLogger(__name__)

# Opens a fresh session: each step here has its own, so a failed one never takes the record with it.
Sessions = Callable[[], Session]


def due_day(schedule: Schedule, now: datetime) -> date:
    """The day whose send time passed most recently: a 23:30 send run at 00:10 is yesterday's."""
    day = schedule.local_date(now)
    return day if schedule.send_at(day) <= now else day - timedelta(days=1)


def running_from(now: datetime) -> Callable[[], datetime]:
    """A clock that starts at `now` and runs at real speed.

    A job is handed its moment (a test's fixed date, the scheduler's time) and still sees time
    pass while it sends, which the sender's retry waits and timestamps rely on.
    """
    started = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - started)


def sender_at(session: Session, provider: Provider, settings: Settings, now: datetime) -> Sender:
    return Sender(session, provider, settings, clock=running_from(now))


def send_time_text(schedule: Schedule) -> str:
    return f"{schedule.send_time:%H:%M} {schedule.timezone}"


def send_due_day(
    sessions: Sessions, provider: Provider, settings: Settings, schedule: Schedule, now: datetime
) -> DayResult | None:
    """Send the day now due. An error is logged and recorded as a failed day, never raised."""
    day = due_day(schedule, now)
    if not schedule.runs_on(day):
        return None
    try:
        with sessions() as session:
            return send_scheduled_day(
                sender_at(session, provider, settings, now), schedule, day, settings.messages_dir
            )
    except Exception as error:
        log.exception("sending %s %s failed", schedule.campaign, day)
        first_line = (str(error).splitlines() or [""])[0][:200]
        why = (
            f"the scheduled send stopped with an error ({type(error).__name__}: {first_line}); "
            f"finish it with `advent send --date {day}`"
        )
        record_safely(record_failed, sessions, schedule, day, now, why)
        return None


def record_safely(
    record: Callable[..., None], sessions: Sessions, schedule: Schedule, day: date, now: datetime, why: str
) -> None:
    # A fresh session: the one that failed may be unusable, and the record matters more.
    try:
        with sessions() as session:
            record(session, schedule, day, now, why)
    except Exception:
        log.exception("could not record %s %s: %s", schedule.campaign, day, why)


def record_misfire(
    sessions: Sessions, schedule: Schedule, day: date, now: datetime, *, grace_minutes: int
) -> None:
    """The scheduler could not run a send within the grace window: the day is recorded missed."""
    why = (
        f"the scheduler was busy or asleep at {send_time_text(schedule)} and more than the "
        f"grace window ({grace_minutes} minutes) passed; send it by hand with "
        f"`advent send --date {day}` if you still want to"
    )
    record_safely(record_missed, sessions, schedule, day, now, why)


def _run_of(session: Session, schedule: Schedule, day: date) -> DayRun | None:
    run = session.exec(select(DayRun).where(DayRun.campaign == schedule.campaign, DayRun.day == day)).first()
    session.commit()  # end the read: SQLite takes its write lock when a transaction begins
    return run


def record_missed_days(session: Session, schedule: Schedule, before: date, now: datetime) -> list[date]:
    """Campaign days before `before` that have no record (or only "due"): marked missed."""
    runs = {
        r.day: r.status
        for r in session.exec(select(DayRun).where(DayRun.campaign == schedule.campaign, DayRun.day < before))
    }
    session.commit()
    missed = [d for d in schedule.days() if d < before and runs.get(d, DayRunStatus.DUE) == DayRunStatus.DUE]
    for day in missed:
        record_missed(
            session,
            schedule,
            day,
            now,
            f"there is no record of sending it: the scheduler was not running at "
            f"{send_time_text(schedule)}; send it by hand with "
            f"`advent send --date {day}` if you still want to",
        )
    return missed


def settle_interrupted_day(session: Session, schedule: Schedule, day: date, now: datetime, when: str) -> str:
    """A day a stopped sender left "sending": sent if everyone was handed the post, otherwise
    missed, saying how many did not get it. Only for a day nobody is sending any more.

    `when` finishes "N of M friends did not get day K ...". Returns what was recorded.
    """
    counts = count_by_status(session, schedule.campaign, day)
    left, total = unfinished(counts), sum(counts.values())
    if total and not left:
        close_day(session, schedule, day, now)
        return "everyone had been handed the post before the send stopped; recorded as sent"
    name = f"day {schedule.day_number(day)}" if schedule.runs_on(day) else f"the post of {day}"
    if total:
        # A claimed row may have reached the phone; `advent send` asks the provider first.
        mid_send = counts.get(DeliveryStatus.CLAIMED, 0)
        checked = (
            f" ({mid_send} of them mid-send, checked with the provider before any re-send)"
            if mid_send
            else ""
        )
        why = (
            f"{left} of {total} friends did not get {name} {when}: the scheduler stopped "
            f"while sending it{checked}; send them now with `advent send --date {day}`"
        )
    else:  # no rows at all: the send stopped before planning, so nobody was sent anything
        why = (
            f"nobody got {name} {when}: the scheduler stopped before sending it; send it "
            f"now with `advent send --date {day}`"
        )
    record_missed(session, schedule, day, now, why, interrupted=True)
    return f"missed: {why}"


def record_interrupted_days(session: Session, schedule: Schedule, before: date, now: datetime) -> list[str]:
    """Days before `before` still "sending": their send time passed a day or more ago, so the
    sender stopped. Call only while holding the clock (no scheduler of ours is sending them)."""
    days = session.exec(
        select(DayRun.day)
        .where(
            DayRun.campaign == schedule.campaign, DayRun.day < before, DayRun.status == DayRunStatus.SENDING
        )
        .order_by(DayRun.day)
    ).all()
    session.commit()
    return [
        f"{schedule.campaign} {day}: " + settle_interrupted_day(session, schedule, day, now, f"on {day}")
        for day in days
    ]


def _send_late(
    sessions: Sessions, provider: Provider, settings: Settings, schedule: Schedule, day: date, now: datetime
) -> str:
    # "sending": a previous scheduler stopped mid-send; the sender finishes it without repeats.
    send_due_day(sessions, provider, settings, schedule, now)
    with sessions() as session:
        after = _run_of(session, schedule, day)
    if after is None:
        return "not sent"
    outcome = f"{after.status} ({after.note})"
    if after.status == DayRunStatus.SENDING:  # claims the stopped scheduler left are too fresh to settle
        outcome += (
            f"; the reconcile job settles the stopped scheduler's last sends within "
            f"minutes, then finish the day with `advent send --date {day}`"
        )
    return outcome


def _catch_up_day(
    sessions: Sessions, provider: Provider, settings: Settings, schedule: Schedule, day: date, now: datetime
) -> str | None:
    """The most recent send time, if it passed while no scheduler was running."""
    with sessions() as session:
        run = _run_of(session, schedule, day)
    status = run.status if run else DayRunStatus.DUE
    if status not in (DayRunStatus.DUE, DayRunStatus.SENDING):
        return None
    late = now - schedule.send_at(day)
    prefix = f"{schedule.campaign} {day}: due at {send_time_text(schedule)}"
    minutes = settings.misfire_grace_minutes
    if late <= timedelta(minutes=minutes):
        outcome = _send_late(sessions, provider, settings, schedule, day, now)
        return f"{prefix}, sent {int(late.total_seconds() // 60)} minutes late: {outcome}"
    if status == DayRunStatus.DUE:
        why = (
            f"the scheduler was not running at {send_time_text(schedule)} and the grace "
            f"window ({minutes} minutes) had passed; send it by hand with "
            f"`advent send --date {day}` if you still want to"
        )
        record_safely(record_missed, sessions, schedule, day, now, why)
        return f"{prefix}, missed: {why}"
    with sessions() as session:
        outcome = settle_interrupted_day(
            session, schedule, day, now, f"before the grace window ({minutes} minutes) passed"
        )
    return f"{prefix}, interrupted while sending; {outcome}"


def catch_up(
    sessions: Sessions, provider: Provider, settings: Settings, schedules: list[Schedule], now: datetime
) -> list[str]:
    """At scheduler start: send what is due within the grace window, record the rest as missed.

    Run it only once this process holds the clock lease: a day found "sending" then was left by
    a scheduler that stopped. Returns one line per thing done, for whoever started the scheduler.
    """
    lines = []
    for schedule in schedules:
        if schedule.for_each_friend:
            # Per friend: each morning that passed within the grace is sent now, each longer
            # ago recorded missed on that friend's row, on every day of the campaign so far.
            with sessions() as session:
                done = send_due_posts(
                    sender_at(session, provider, settings, now),
                    schedule,
                    settings.messages_dir,
                    everything=True,
                )
            lines += [f"caught up at friends' mornings: {line}" for line in done.lines()]
            continue
        day = due_day(schedule, now)
        with sessions() as session:
            missed = record_missed_days(session, schedule, day, now)
            lines += record_interrupted_days(session, schedule, day, now)
        if missed:
            listed = ", ".join(str(d) for d in missed)
            lines.append(
                f"{schedule.campaign}: no record of {len(missed)} earlier day(s), marked missed: {listed}"
            )
        if schedule.runs_on(day):
            line = _catch_up_day(sessions, provider, settings, schedule, day, now)
            if line:
                lines.append(line)
    return lines
