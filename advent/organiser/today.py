"""How today's send stands, per campaign: the facts /healthz reports and the calendar's banner
shouts about, read once here so the two can never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import or_
from sqlmodel import Session, func, select

from advent.content.posts import post_path, read_post_file
from advent.content.schedules import Schedule
from advent.providers.base import Provider
from advent.sending.dispatch import WHATSAPP_WINDOW
from advent.states.day_runs import DayRunStatus as R
from advent.states.deliveries import DeliveryStatus as D
from advent.states.subscribers import SubscriberStatus
from advent.store.tables import DayRun, Delivery, SchedulerLease, Subscriber, WhatsAppTemplate

# The post left the service but will not reach the phone without the organiser.
NOT_ARRIVED = (D.FAILED, D.UNDELIVERED, D.NEEDS_TEMPLATE)
NOT_DUE = "not due"
# The clock beats every 30 seconds and its lease lapses after 90: a quieter clock has stopped.
CLOCK_QUIET = timedelta(seconds=90)


@dataclass(frozen=True)
class Today:
    """One campaign's today."""

    campaign: str
    day: date
    # As /healthz says it: "not due" (no post today), "due", "sending", "sent", "missed", "failed".
    state: str
    due_at: datetime | None  # None when the campaign does not run today
    note: str | None  # the day record's note: why it was missed or failed, or its counts
    not_arrived: int  # today's posts that failed or came back undelivered
    planned: int  # today's posts planned (everyone on the list when it went out)
    now: datetime

    @property
    def late(self) -> bool:
        """Due time passed and nobody has started sending."""
        return self.state == R.DUE and self.due_at is not None and self.now >= self.due_at

    @property
    def missing(self) -> bool:
        return self.state in (R.MISSED, R.FAILED)

    @property
    def partly_failed(self) -> bool:
        return self.not_arrived > 0


def today_for(session: Session, schedule: Schedule, now: datetime) -> Today:
    day = schedule.local_date(now)
    run = session.exec(select(DayRun).where(DayRun.campaign == schedule.campaign, DayRun.day == day)).first()
    if not schedule.runs_on(day):
        return Today(schedule.campaign, day, run.status if run else NOT_DUE, None, None, 0, 0, now)
    # One grouped count over the (campaign, day, status) index.
    counts = dict(
        session.exec(
            select(Delivery.status, func.count())
            .where(Delivery.campaign == schedule.campaign, Delivery.day == day, Delivery.kind == "post")
            .group_by(Delivery.status)
        ).all()
    )
    return Today(
        campaign=schedule.campaign,
        day=day,
        state=run.status if run else R.DUE.value,
        due_at=schedule.send_at(day),
        note=run.note if run else None,
        not_arrived=sum(counts.get(s, 0) for s in NOT_ARRIVED),
        planned=sum(counts.values()),
        now=now,
    )


def today(session: Session, schedules: list[Schedule], now: datetime) -> list[Today]:
    """Today for every campaign, in the schedules' order."""
    return [today_for(session, schedule, now) for schedule in schedules]


def last_heartbeat(session: Session) -> datetime | None:
    """When the clock process last proved it was alive (None: it never ran on this database)."""
    lease = session.exec(select(SchedulerLease)).first()
    return lease.beat_at if lease else None


def clock_stopped(heartbeat: datetime | None, now: datetime) -> bool:
    """True when no clock process is keeping time: nothing will be sent on its own."""
    return heartbeat is None or now - heartbeat > CLOCK_QUIET


@dataclass(frozen=True)
class LeftOut:
    """WhatsApp friends the next post cannot reach: outside their 24-hour window at its send
    time, with no approved template to send them instead."""

    campaign: str
    day: date
    number: int  # the day's number in the calendar
    friends: int
    tomorrow: bool  # False: it is today's post, still to go


def next_post_day(schedule: Schedule, now: datetime) -> date | None:
    """The next day whose post has not reached its send time: today's until then, else tomorrow's."""
    today = schedule.local_date(now)
    for day in (today, today + timedelta(days=1)):
        if schedule.runs_on(day) and now < schedule.send_at(day):
            return day
    return None


def _has_template(session: Session, schedule: Schedule, messages_dir: Path, provider: str, day: date) -> bool:
    if schedule.whatsapp_template_sid:
        return True
    found = read_post_file(post_path(messages_dir, schedule, schedule.day_number(day)), schedule.campaign)
    if found.post is not None and found.post.template_sid:
        return True
    approved = session.exec(
        select(WhatsAppTemplate.id).where(
            WhatsAppTemplate.provider == provider,
            WhatsAppTemplate.campaign == schedule.campaign,
            WhatsAppTemplate.approval == "approved",
            or_(
                WhatsAppTemplate.purpose == "daily",
                (WhatsAppTemplate.purpose == "day") & (WhatsAppTemplate.day == day),
            ),
        )
    ).first()
    return approved is not None


def whatsapp_left_out(
    session: Session, schedule: Schedule, messages_dir: Path, provider: Provider, now: datetime
) -> LeftOut | None:
    """Who would get nothing on WhatsApp from the next post, so the organiser is told the day
    before rather than finding `needs_template` on the day page afterwards."""
    day = next_post_day(schedule, now)
    # A network that lets free-form text through whatever the window leaves nobody out.
    if day is None or "whatsapp" not in schedule.channels or not provider.enforces_whatsapp_window:
        return None
    window_opens_after = schedule.send_at(day) - WHATSAPP_WINDOW
    outside = session.exec(
        select(func.count())
        .select_from(Subscriber)
        .where(
            Subscriber.campaign == schedule.campaign,
            Subscriber.channel == "whatsapp",
            Subscriber.status == SubscriberStatus.ACTIVE,
            or_(Subscriber.last_inbound_at.is_(None), Subscriber.last_inbound_at <= window_opens_after),
        )
    ).one()
    if not outside or _has_template(session, schedule, messages_dir, provider.name, day):
        return None
    tomorrow = day > schedule.local_date(now)
    return LeftOut(schedule.campaign, day, schedule.day_number(day), outside, tomorrow)
