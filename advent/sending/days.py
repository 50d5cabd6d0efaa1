"""A campaign day from start to finish: plan, settle crashed sends, dispatch, and keep a record.

Every day ends up with a DayRun row saying what happened (sent, missed, failed), so no day is
ever skipped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session, func, select

from advent.content.posts import ContentError, Post, load_post
from advent.content.schedules import Schedule
from advent.organiser.alerts import alert, any_open
from advent.sending.dispatch import Sender, dispatch_day
from advent.sending.friend_days import plan_everyone_now, still_to_come
from advent.sending.holds import say_held
from advent.sending.plan import count_by_status, plan_day
from advent.sending.recovery import recover_stale_claims
from advent.states import day_runs
from advent.states.day_runs import DayRunStatus
from advent.states.deliveries import DeliveryStatus
from advent.store.tables import DayRun, Delivery

UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED)


@dataclass(frozen=True)
class DayResult:
    campaign: str
    day: date
    planned: int
    handled: int
    counts: dict[str, int]
    recovered: dict[str, int]

    @property
    def finished(self) -> bool:
        return not unfinished(self.counts)


def day_run(session: Session, schedule: Schedule, day: date) -> DayRun:
    """The day's record, created on first use (safely, if two processes race)."""
    return day_runs.ensure(session, schedule.campaign, day, schedule.send_at(day))


def send_day(
    sender: Sender, schedule: Schedule, day: date, post: Post, wait_for_retries: bool = True
) -> DayResult:
    """Send day `day` of the schedule once to everyone on the list; safe to run again."""
    session = sender.session
    run = day_run(session, schedule, day)
    if run.status == DayRunStatus.HELD:  # the organiser held it: nothing goes, and they are told
        say_held(session, schedule, day, sender.clock())
        counts = count_by_status(session, schedule.campaign, day)
        return DayResult(schedule.campaign, day, 0, 0, counts, {})
    day_runs.start(session, run, sender.clock())
    session.commit()
    if schedule.for_each_friend:  # by hand: everyone now, or at their morning if in their night
        planned = plan_everyone_now(session, schedule, day, sender.clock())
    else:
        planned = plan_day(session, schedule, day, sender.clock())
    recovered = recover_stale_claims(sender, schedule, day, post)
    handled = dispatch_day(sender, schedule, day, post, wait_for_retries)
    counts = close_day(session, schedule, day, sender.clock())
    return DayResult(schedule.campaign, day, planned, handled, counts, recovered)


def unfinished(counts: dict[str, int]) -> int:
    """Deliveries still to be handed over (or whose hand-over nobody has settled yet)."""
    return sum(counts.get(status, 0) for status in UNFINISHED)


def close_day(session: Session, schedule: Schedule, day: date, now: datetime) -> dict[str, int]:
    """Write down how the day stands; "sent" once nothing is left to hand over and (at each
    friend's own morning) no friend's morning is still to come. Returns counts."""
    counts = count_by_status(session, schedule.campaign, day)
    run = day_run(session, schedule, day)
    to_come = still_to_come(session, schedule, day, now) if schedule.for_each_friend else []
    note = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nobody on the list"
    if to_come:
        note = f"{note}; {len(to_come)} still to come, the next at {to_come[0]:%Y-%m-%d %H:%M} UTC"
    missed = counts.get(DeliveryStatus.MISSED, 0)
    if unfinished(counts) or to_come:
        run.note = note
        session.add(run)
    elif missed and missed == sum(counts.values()) - counts.get(DeliveryStatus.CANCELLED, 0):
        # Nobody got it: every friend's moment passed unsent (their rows say why).
        day_runs.give_up(session, run, DayRunStatus.MISSED, f"nobody got it: {note}")
        _alert_missed(session, schedule, day, missed, now)
    else:
        day_runs.finish(session, run, now, note)
        _alert_unknown(session, schedule, day, counts.get(DeliveryStatus.UNKNOWN, 0), now)
        if missed:
            _alert_missed(session, schedule, day, missed, now)
    session.commit()
    return counts


def _alert_missed(session: Session, schedule: Schedule, day: date, missed: int, now: datetime) -> None:
    alert(
        session,
        schedule.campaign,
        "missed_day",
        f"{schedule.campaign} {day}: {missed} friend{'s' if missed != 1 else ''} did not get the "
        f"post: its moment passed unsent, more than the grace window ago (the day's page says "
        f"why for each); send it by hand with `advent send --date {day}` if you still want to",
        now,
        day=day,
    )


def _alert_unknown(session: Session, schedule: Schedule, day: date, unknown: int, now: datetime) -> None:
    # A finished day can still hide posts that never arrived: "unknown" is final for the sender,
    # so only the organiser can settle it. Once per day (the alert's key), and not when an open
    # alert from reconcile already names each person it could not settle.
    if unknown and not any_open(session, "unknown_delivery", schedule.campaign, day):
        alert(
            session,
            schedule.campaign,
            "unknown_delivery",
            f"{schedule.campaign} {day}: the provider could not say whether {unknown} "
            f"friend(s) got the post; run `advent reconcile` to ask again before sending "
            f"anything by hand",
            now,
            day=day,
        )


def _mark_day(
    session: Session,
    schedule: Schedule,
    day: date,
    now: datetime,
    status: DayRunStatus,
    why: str,
    *,
    alert_kind: str,
    unless: tuple[DayRunStatus, ...],
) -> None:
    run = day_run(session, schedule, day)
    if run.status in unless:
        return
    day_runs.give_up(session, run, status, why)
    alert(session, schedule.campaign, alert_kind, f"{schedule.campaign} {day}: {why}", now, day=day)
    session.commit()


def record_missed(
    session: Session, schedule: Schedule, day: date, now: datetime, why: str, *, interrupted: bool = False
) -> None:
    """The send time passed and the post did not go out: say so where the organiser looks.

    A day being sent is left alone, as its sender is still at work; `interrupted` says the
    caller knows that sender stopped (a crash left the day "sending"), so the day is marked too.
    """
    # A held day is recorded as held, never missed: the organiser chose it.
    unless = (
        (DayRunStatus.SENT, DayRunStatus.HELD)
        if interrupted
        else (DayRunStatus.SENDING, DayRunStatus.SENT, DayRunStatus.HELD)
    )
    _mark_day(session, schedule, day, now, DayRunStatus.MISSED, why, alert_kind="missed_day", unless=unless)


def record_failed(session: Session, schedule: Schedule, day: date, now: datetime, why: str) -> None:
    """The day could not be sent (no post, a crash): recorded and shown, never silent."""
    _mark_day(
        session,
        schedule,
        day,
        now,
        DayRunStatus.FAILED,
        why,
        alert_kind="day_failed",
        unless=(DayRunStatus.SENT,),
    )


def send_scheduled_day(sender: Sender, schedule: Schedule, day: date, messages_dir: Path) -> DayResult | None:
    """The scheduler's entry: load the post, then send; a missing post is recorded, not skipped."""
    try:
        post = load_post(messages_dir, schedule, day)
    except ContentError as error:
        record_failed(sender.session, schedule, day, sender.clock(), f"post not sent: {error}")
        return None
    return send_day(sender, schedule, day, post)


def report_unsent_earlier_days(
    session: Session, schedule: Schedule, today: date, now: datetime
) -> list[date]:
    """Deliveries of earlier days still waiting to be sent (handed back by a reconcile, or a
    WhatsApp re-send found late). They are not sent a day late on their own; the organiser is
    told, once per day, how many and how to send them."""
    # Only days recorded as sent: a missed or failed day has its own alert already.
    waiting = session.exec(
        select(Delivery.day, func.count())
        .join(DayRun, (DayRun.campaign == Delivery.campaign) & (DayRun.day == Delivery.day))
        .where(
            Delivery.campaign == schedule.campaign,
            Delivery.day < today,
            Delivery.kind == "post",
            Delivery.status == DeliveryStatus.PENDING,
            DayRun.status == DayRunStatus.SENT,
        )
        .group_by(Delivery.day)
    ).all()
    for day, count in waiting:
        alert(
            session,
            schedule.campaign,
            "unsent_deliveries",
            f"{schedule.campaign} {day}: {count} friend{'s' if count != 1 else ''} did not get "
            f"this day's post; send it now with `advent send --date {day}` if you still want to",
            now,
            day=day,
        )
    session.commit()
    return [day for day, _ in waiting]
