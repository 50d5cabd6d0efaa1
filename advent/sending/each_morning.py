"""One pass of the clock for a schedule that sends at each friend's own morning.

Plan the rows of every friend whose morning has come (or record them missed, past the grace),
settle claims a stopped sender left, send what is due, and write down how each day stands. The
clock runs a pass when the next friend's morning comes and every 30 seconds beside it (joins and
TIME changes made by the web workers), so a pass never waits: a retry or a post held for the
morning is the next wake's work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from advent.content.posts import ContentError, load_post
from advent.content.schedules import Schedule
from advent.sending.days import close_day, day_run, record_failed
from advent.sending.dispatch import Sender, dispatch_day
from advent.sending.friend_days import plan_due, window
from advent.sending.holds import held_days, say_held
from advent.sending.recovery import recover_stale_claims
from advent.states import day_runs, deliveries
from advent.states.day_runs import DayRunStatus
from advent.states.deliveries import DeliveryStatus
from advent.store.tables import DayRun, Delivery


@dataclass(frozen=True)
class MorningPass:
    """What one pass did, day by day: how many handed over, and how each day stands."""

    campaign: str
    handed_over: dict[date, int]
    counts: dict[date, dict[str, int]]

    def lines(self) -> list[str]:
        return [
            f"{self.campaign} {day}: handed over {self.handed_over.get(day, 0)}; "
            + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nobody")
            for day, counts in sorted(self.counts.items())
        ]


def _overdue_reason(grace: timedelta) -> str:
    return (
        f"not sent: more than the grace window ({int(grace.total_seconds() // 60)} minutes) "
        "passed after its moment (the clock was not running, or it would have fallen in the "
        "friend's night)"
    )


def _days_with_work(
    session: Session, schedule: Schedule, days: list[date], now: datetime, *, opening: bool = True
) -> list[date]:
    """Days with rows to send or settle, and (`opening`) days whose first morning has come but
    whose record is still open (so a day with nobody on the list is written down too)."""
    # Which days have rows at all, and which of them rows still to send: one grouped query.
    statuses = session.exec(
        select(Delivery.day, Delivery.status)
        .where(Delivery.campaign == schedule.campaign, Delivery.kind == "post", col(Delivery.day).in_(days))
        .distinct()
    ).all()
    finished = set(
        session.exec(
            select(DayRun.day).where(
                DayRun.campaign == schedule.campaign,
                col(DayRun.day).in_(days),
                col(DayRun.status).in_((DayRunStatus.SENT, DayRunStatus.MISSED, DayRunStatus.FAILED)),
            )
        ).all()
    )
    session.commit()
    busy = {day for day, status in statuses if status in (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED)}
    if not opening:
        return sorted(busy)
    with_rows = {day for day, _ in statuses}
    opened = {d for d in days if schedule.send_at(d) <= now or d in with_rows}
    return sorted(busy | (opened - finished))


def send_due_posts(
    sender: Sender,
    schedule: Schedule,
    messages_dir: Path,
    *,
    everything: bool = False,
    only: frozenset[int] | None = None,
) -> MorningPass:
    """Send every friend's post whose moment has come; never waits. `everything`: look at every
    day of the campaign so far (the clock's start), not only the days around today. `only`:
    plan these friends' rows alone (a rehearsal text sends that friend's post, not the day)."""
    session = sender.session
    now = sender.clock()
    grace = timedelta(minutes=sender.settings.misfire_grace_minutes)
    days = window(schedule, now, everything=everything)
    held = held_days(session, schedule, days)
    going = [d for d in days if d not in held]  # a held day: nothing planned, sent or missed
    plan_due(session, schedule, going, now, grace, only)
    if going:
        deliveries.miss_overdue(session, schedule.campaign, going, now - grace, _overdue_reason(grace), now)
        session.commit()
    handed: dict[date, int] = {}
    counts: dict[date, dict[str, int]] = {}
    for day in _days_with_work(session, schedule, days, now, opening=only is None):
        if day in held:
            say_held(session, schedule, day, now)
            continue
        run = day_run(session, schedule, day)
        try:
            post = load_post(messages_dir, schedule, day)
        except ContentError as error:
            record_failed(session, schedule, day, now, f"post not sent: {error}")
            continue
        if run.status != DayRunStatus.SENDING:
            day_runs.start(session, run, sender.clock())
            session.commit()
        recover_stale_claims(sender, schedule, day, post)
        handed[day] = dispatch_day(sender, schedule, day, post, wait_for_retries=False)
        counts[day] = close_day(session, schedule, day, sender.clock())
    return MorningPass(schedule.campaign, handed, counts)
