"""The advent calendar the organiser opens first: one door per day of each campaign.

A past door counts how far the day's posts got, today's door shows the send as it runs, a future
door shows the post as it will arrive and what it will cost. Counts come from one grouped query
per campaign, never from a loop over deliveries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session, func, select

from advent.content.check import PostReport, check_campaign
from advent.content.posts import read_day_file
from advent.content.schedules import Schedule
from advent.organiser.today import Today, today_for
from advent.organiser.watch import reasons
from advent.sending.friend_days import still_to_come
from advent.states.deliveries import RANK, SETTLED
from advent.states.deliveries import DeliveryStatus as D
from advent.states.subscribers import SubscriberStatus
from advent.store.tables import DayRun, Delivery, InboundMessage, OrganiserAlert, Subscriber

NOT_ARRIVED = (D.FAILED, D.UNDELIVERED, D.NEEDS_TEMPLATE)


@dataclass(frozen=True)
class DayCounts:
    """How far one day's posts got, in people. Each count includes the later ones: everyone
    read was delivered, everyone delivered was sent."""

    planned: int = 0
    sent: int = 0  # one tick or more: the network passed it on
    delivered: int = 0
    read: int = 0
    failed: int = 0  # failed, undelivered, or WhatsApp wanted a template there was none of
    waiting: int = 0  # not handed over yet, or handed over with no word from the network yet
    not_sent: int = 0  # cancelled: they said STOP or were removed before it went
    unknown: int = 0  # the network could not say whether it went out: `advent reconcile`
    missed: int = 0  # the friend's moment passed unsent (the clock was down, or their night)
    # Only WhatsApp reports reads; a read rate over SMS posts would always look poor.
    whatsapp_delivered: int = 0

    @property
    def read_rate(self) -> int | None:
        """Percent of the WhatsApp posts delivered that were read; None when there were none."""
        if not self.whatsapp_delivered:
            return None
        return round(100 * self.read / self.whatsapp_delivered)

    def to_json(self) -> dict[str, int | None]:
        return {
            "planned": self.planned,
            "sent": self.sent,
            "delivered": self.delivered,
            "read": self.read,
            "failed": self.failed,
            "waiting": self.waiting,
            "not_sent": self.not_sent,
            "unknown": self.unknown,
            "missed": self.missed,
            "read_rate": self.read_rate,
        }


def _tally(rows: list[tuple[str, str, int]]) -> DayCounts:
    """(channel, status, count) rows of one day, turned into the door's counts."""
    c = dict.fromkeys(
        (
            "planned",
            "sent",
            "delivered",
            "read",
            "failed",
            "waiting",
            "not_sent",
            "unknown",
            "missed",
            "whatsapp_delivered",
        ),
        0,
    )
    for channel, status, n in rows:
        c["planned"] += n
        rank = RANK.get(status, -1)
        if status == D.CANCELLED:
            c["not_sent"] += n
        elif status in NOT_ARRIVED:
            c["failed"] += n
        elif status == D.UNKNOWN:
            c["unknown"] += n
        elif status == D.MISSED:
            c["missed"] += n
        elif status not in SETTLED and rank < RANK[D.SENT]:
            c["waiting"] += n
        c["sent"] += n if rank >= RANK[D.SENT] else 0
        c["delivered"] += n if rank >= RANK[D.DELIVERED] else 0
        c["read"] += n if status == D.READ else 0
        if channel == "whatsapp" and rank >= RANK[D.DELIVERED]:
            c["whatsapp_delivered"] += n
    return DayCounts(**c)


def counts_by_day(session: Session, campaign: str, day: date | None = None) -> dict[date, DayCounts]:
    """Every day's counts for the campaign (or one day's), in one grouped query."""
    query = (
        select(Delivery.day, Delivery.channel, Delivery.status, func.count())
        .where(Delivery.campaign == campaign, Delivery.kind == "post")
        .group_by(Delivery.day, Delivery.channel, Delivery.status)
    )
    if day is not None:
        query = query.where(Delivery.day == day)
    rows: dict[date, list[tuple[str, str, int]]] = {}
    for d, channel, status, n in session.exec(query).all():
        rows.setdefault(d, []).append((channel, status, n))
    return {d: _tally(found) for d, found in rows.items()}


@dataclass(frozen=True)
class Preview:
    """A post as it will arrive, and what it costs on the current list."""

    text: str | None
    title: str | None
    media_url: str | None
    encoding: str | None
    segments: int
    characters: int
    sms_people: int
    whatsapp_people: int
    # WhatsApp allows free-form text only within 24 hours of a friend's last message; the others
    # get the approved template.
    template: bool
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def cost(self) -> int:
        """SMS segments billed for the day: each segment of a long text is one message."""
        return self.segments * self.sms_people


@dataclass(frozen=True)
class ToCome:
    """Friends whose morning of a day has not come yet (a schedule sending at each friend's
    own time): how many, and from when to when."""

    friends: int
    first: datetime
    last: datetime


def to_come(session: Session, schedule: Schedule, day: date, now: datetime) -> ToCome | None:
    starts = still_to_come(session, schedule, day, now)
    return ToCome(len(starts), starts[0], starts[-1]) if starts else None


@dataclass(frozen=True)
class Door:
    number: int
    day: date
    when: str  # past, today, future
    state: str | None  # the day's record: due, sending, sent, missed, failed (None: none yet)
    note: str | None
    counts: DayCounts
    preview: Preview | None
    to_come: ToCome | None = None


@dataclass(frozen=True)
class CampaignCalendar:
    schedule: Schedule
    today: Today
    doors: list[Door]
    why_not_arrived: str  # "3 undelivered: the phone was switched off", or ""

    @property
    def todays_door(self) -> Door | None:
        return next((door for door in self.doors if door.when == "today"), None)


def list_sizes(session: Session, campaign: str) -> dict[str, int]:
    """Active people per channel: who the next post goes to."""
    return dict(
        session.exec(
            select(Subscriber.channel, func.count())
            .where(Subscriber.campaign == campaign, Subscriber.status == SubscriberStatus.ACTIVE)
            .group_by(Subscriber.channel)
        ).all()
    )


def _preview(report: PostReport, schedule: Schedule, messages_dir: Path, sizes: dict[str, int]) -> Preview:
    # The last day's with the closing line it ends with: the text, and the cost, as it arrives.
    found = read_day_file(messages_dir, schedule, report.path, report.day) if report.path.is_file() else None
    post = found.post if found else None
    return Preview(
        text=found.text if found else None,
        title=post.title if post else None,
        media_url=post.media_url if post else None,
        encoding=report.encoding,
        segments=report.segments,
        characters=report.characters,
        sms_people=sizes.get("sms", 0) if "sms" in schedule.channels else 0,
        whatsapp_people=sizes.get("whatsapp", 0) if "whatsapp" in schedule.channels else 0,
        template=bool((post and post.template_sid) or schedule.whatsapp_template_sid),
        warnings=list(report.warnings),
        errors=list(report.errors),
    )


def post_preview(session: Session, schedule: Schedule, messages_dir: Path, day: date) -> Preview | None:
    """One day's post as it will arrive, for a day not sent yet (the day page's preview). The
    whole campaign is checked, as a post's problems include another file claiming its day."""
    number = schedule.day_number(day)
    report = next((r for r in check_campaign(messages_dir, schedule) if r.day == number), None)
    return (
        _preview(report, schedule, messages_dir, list_sizes(session, schedule.campaign)) if report else None
    )


def _when(day: date, today: date) -> str:
    return "past" if day < today else "today" if day == today else "future"


def campaign_calendar(
    session: Session, schedule: Schedule, messages_dir: Path, now: datetime
) -> CampaignCalendar:
    """Every door of one campaign, as it stands at `now`."""
    facts = today_for(session, schedule, now)
    counts = counts_by_day(session, schedule.campaign)
    runs = {r.day: r for r in session.exec(select(DayRun).where(DayRun.campaign == schedule.campaign)).all()}
    reports = {r.day: r for r in check_campaign(messages_dir, schedule) if r.day}
    sizes = list_sizes(session, schedule.campaign)
    doors = []
    for number, day in enumerate(schedule.days(), start=1):
        when = _when(day, facts.day)
        run = runs.get(day)
        # Before a door is sent, it opens to its post: also today's, until the send starts.
        show_post = when == "future" or (when == "today" and run is None and day not in counts)
        report = reports.get(number)
        # Each friend's own morning: a day is under way somewhere from a day before to a day
        # after the organiser's date (UTC+14 to UTC-12), so only those doors are counted.
        near = (
            schedule.for_each_friend
            and abs((day - facts.day).days) <= 1
            and (run is None or run.status in ("due", "sending"))
        )
        doors.append(
            Door(
                number=number,
                day=day,
                when=when,
                state=run.status if run else None,
                note=run.note if run else None,
                counts=counts.get(day, DayCounts()),
                preview=_preview(report, schedule, messages_dir, sizes) if show_post and report else None,
                to_come=to_come(session, schedule, day, now) if near else None,
            )
        )
    why = not_arrived_reasons(session, schedule.campaign, facts.day) if facts.not_arrived else ""
    return CampaignCalendar(schedule, facts, doors, why)


def not_arrived_reasons(session: Session, campaign: str, day: date) -> str:
    """Why a day's posts did not arrive, the most common reason first."""
    rows = session.exec(
        select(Delivery.status, Delivery.error_reason, func.count())
        .where(
            Delivery.campaign == campaign,
            Delivery.day == day,
            Delivery.kind == "post",
            Delivery.status.in_(NOT_ARRIVED),
        )
        .group_by(Delivery.status, Delivery.error_reason)
    ).all()
    return reasons({(status, reason): n for status, reason, n in rows})


def unread_replies(session: Session) -> int:
    """Texts friends sent back that the organiser has not marked read."""
    return session.exec(
        select(func.count())
        .select_from(InboundMessage)
        .where(InboundMessage.kind == "reply", InboundMessage.read_at.is_(None))
    ).one()


def open_alerts(session: Session) -> list[OrganiserAlert]:
    """Every unresolved alert, newest first."""
    return list(
        session.exec(
            select(OrganiserAlert)
            .where(OrganiserAlert.resolved_at.is_(None))
            .order_by(OrganiserAlert.id.desc())
        ).all()
    )
