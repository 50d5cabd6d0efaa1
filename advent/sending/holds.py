"""Holding a day: the organiser stops a post before it goes out (HOLD in answer to the evening
preview, `advent hold`, the calendar's button) and lets it go again (RELEASE, `advent
release`, the button). Nothing is held silently: when a held day's moment comes, an alert says
so, and the day's record says "held", never "missed".

The senders ask `is_held` before planning or sending a day; the state itself changes only in
advent.states.day_runs.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col, select

from advent.content.schedules import Schedule
from advent.organiser.alerts import alert, resolve
from advent.states import day_runs
from advent.states.day_runs import DayRunStatus
from advent.states.deliveries import DeliveryStatus
from advent.store.tables import DayRun, Delivery

# What has not gone out: everything else was handed to the network (or settled without it).
_NOT_SENT = (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED, DeliveryStatus.CANCELLED, DeliveryStatus.MISSED)


class HoldRefused(Exception):
    """A hold or release that cannot be done; the message says why, in the organiser's words."""


def _name(schedule: Schedule, day: date) -> str:
    return f"day {schedule.day_number(day)} ({day:%a} {day.day} {day:%b})"


def _run(session: Session, schedule: Schedule, day: date) -> DayRun:
    if not schedule.runs_on(day):
        raise HoldRefused(
            f"{day} is not a day of {schedule.campaign} ({schedule.first_day} to {schedule.last_day})"
        )
    return day_runs.ensure(session, schedule.campaign, day, schedule.send_at(day))


def hold_day(session: Session, schedule: Schedule, day: date, now: datetime, how: str) -> str:
    """Hold the day's post; commits. Returns the sentence to show or text back."""
    run = _run(session, schedule, day)
    if run.status == DayRunStatus.HELD:
        return (
            f"{_name(schedule, day)} is held already; release it with RELEASE or "
            f"`advent release --date {day}`"
        )
    if run.status not in (DayRunStatus.DUE, DayRunStatus.SENDING):
        raise HoldRefused(f"{_name(schedule, day)} is {run.status} already: there is nothing left to hold")
    day_runs.hold(session, run, f"held by the organiser ({how}) at {now:%Y-%m-%d %H:%M} UTC")
    session.commit()
    return (
        f"Held: {_name(schedule, day)} will not go out until you release it (reply RELEASE, "
        f"or `advent release --date {day}`)."
    )


def release_day(session: Session, schedule: Schedule, day: date, now: datetime, how: str) -> str:
    """Let a held day go again; commits. Returns the sentence to show or text back."""
    run = _run(session, schedule, day)
    if run.status != DayRunStatus.HELD:
        raise HoldRefused(f"{_name(schedule, day)} is not held (it is {run.status})")
    sent_any = (
        session.exec(
            select(Delivery.id).where(
                Delivery.campaign == schedule.campaign,
                Delivery.day == day,
                Delivery.kind == "post",
                col(Delivery.status).not_in(_NOT_SENT),
            )
        ).first()
        is not None
    )
    day_runs.release(session, run, sent_any, f"released by the organiser ({how}) at {now:%Y-%m-%d %H:%M} UTC")
    resolve(session, "held_day", schedule.campaign, day=day, now=now)
    session.commit()
    return (
        f"Released: {_name(schedule, day)} goes out as planned (a moment that passed meanwhile "
        "goes now, within the grace window)."
    )


def is_held(session: Session, schedule: Schedule, day: date) -> bool:
    return day in held_days(session, schedule, [day])


def held_days(session: Session, schedule: Schedule, days: list[date]) -> set[date]:
    found = set(
        session.exec(
            select(DayRun.day).where(
                DayRun.campaign == schedule.campaign,
                col(DayRun.day).in_(days),
                DayRun.status == DayRunStatus.HELD,
            )
        ).all()
    )
    session.commit()
    return found


def say_held(session: Session, schedule: Schedule, day: date, now: datetime) -> None:
    """The held day's moment came: say so where the organiser looks (once). Commits."""
    alert(
        session,
        schedule.campaign,
        "held_day",
        f"{schedule.campaign} {_name(schedule, day)} is held: nothing of it was sent; release it "
        f"with `advent release --date {day}` (or the calendar's button) to send it",
        now,
        day=day,
    )
    session.commit()
