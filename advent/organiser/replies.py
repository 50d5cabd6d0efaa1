"""Replies: every text friends sent that was not a keyword, for the organiser to read.

Every "thank you" the service sends promises that the organiser will read the friend's words;
this is where they are read (the Replies page and `advent replies`). A reply is an
InboundMessage of kind "reply"; unread means `read_at` is empty, the meaning the calendar's
unread count uses too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlmodel import Session, select

from advent.content.schedules import Schedule
from advent.organiser.alerts import resolve
from advent.people.care import DISTRESS
from advent.people.phones import mask
from advent.store.tables import InboundMessage, Subscriber

REPLY = "reply"
# Texts that may signal distress (advent.people.care) the organiser has not yet marked handled:
# pinned at the top of the Replies page, whatever else they were.
PINNED = InboundMessage.needs_care.is_(True) & InboundMessage.handled_at.is_(None)


@dataclass(frozen=True)
class ReplyFilter:
    """Which replies to show: one campaign, one day they answer, only the unread ones."""

    campaign: str | None = None
    day: date | None = None
    unread: bool = False
    # Leave out the replies pinned above the list (needing care, not yet handled).
    unpinned: bool = False


@dataclass(frozen=True)
class Reply:
    id: int
    campaign: str | None
    day: date | None  # the post it answers (None: they wrote before any post reached them)
    day_label: str  # "Day 3 · 3 Dec", or "before the first post"
    sender: str | None  # their name if we know it: the organiser's, else their profile name
    number: str  # masked
    channel: str
    text: str  # what they wrote, with "[photo or other attachment]" for media
    received_at: datetime
    received_label: str  # "3 Dec 09:15", where the organiser lives
    read_at: datetime | None
    kind: str = REPLY  # a text that needs care is pinned whatever it was: "STOP I can't go on"
    needs_care: bool = False
    handled_at: datetime | None = None

    @property
    def unread(self) -> bool:
        return self.read_at is None

    @property
    def pinned(self) -> bool:
        return self.needs_care and self.handled_at is None

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "campaign": self.campaign,
            "day": self.day.isoformat() if self.day else None,
            "from": self.sender,
            "number": self.number,
            "channel": self.channel,
            "text": self.text,
            "received_at": self.received_at.isoformat(timespec="seconds"),
            "read": self.read_at is not None,
            "needs_care": self.pinned,
        }


def media_text(body: str, num_media: int) -> str:
    """What they sent, with their attachments named.

    Only the count of attachments is stored (not their type), so one attachment is "a photo or
    other attachment": calling a voice note "[photo]" would tell the organiser something untrue.
    """
    if num_media <= 0:
        return body
    label = "[photo or other attachment]" if num_media == 1 else f"[{num_media} attachments]"
    return f"{body} {label}" if body.strip() else label


def day_label(schedules: list[Schedule], campaign: str | None, day: date | None) -> str:
    if day is None:
        return "before the first post"
    short = f"{day.day} {day:%b}"
    schedule = _schedule(schedules, campaign)
    if schedule is not None and schedule.runs_on(day):
        return f"Day {schedule.day_number(day)} · {short}"
    return short


def _schedule(schedules: list[Schedule], campaign: str | None) -> Schedule | None:
    return next((s for s in schedules if s.campaign == campaign), None)


def _where(query, wanted: ReplyFilter):  # type: ignore[no-untyped-def]
    query = query.where(InboundMessage.kind == REPLY)
    if wanted.campaign:
        query = query.where(InboundMessage.campaign == wanted.campaign)
    if wanted.day:
        query = query.where(InboundMessage.in_reply_to_day == wanted.day)
    if wanted.unread:
        query = query.where(InboundMessage.read_at.is_(None))
    if wanted.unpinned:
        query = query.where(~PINNED)
    return query


def count_replies(session: Session, wanted: ReplyFilter = ReplyFilter()) -> int:
    return session.exec(_where(select(func.count()).select_from(InboundMessage), wanted)).one()


def unread_count(session: Session, campaign: str | None = None) -> int:
    """Replies nobody has marked read yet (the number the calendar shows)."""
    return count_replies(session, ReplyFilter(campaign=campaign, unread=True))


def list_replies(
    session: Session,
    schedules: list[Schedule],
    wanted: ReplyFilter = ReplyFilter(),
    *,
    limit: int | None = None,
    offset: int = 0,
) -> list[Reply]:
    """Newest first, one page of them (`limit`), with who sent each and the day it answers."""
    query = _where(
        _with_sender(select(InboundMessage, Subscriber.name, Subscriber.profile_name)),
        wanted,
    ).order_by(InboundMessage.id.desc())  # stored as received: the id is arrival order, and indexed
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return [_as_reply(schedules, *row) for row in session.exec(query).all()]


def _with_sender(query):  # type: ignore[no-untyped-def]
    return query.outerjoin(Subscriber, InboundMessage.subscriber_id == Subscriber.id)


def _as_reply(
    schedules: list[Schedule], message: InboundMessage, name: str | None, profile_name: str | None
) -> Reply:
    schedule = _schedule(schedules, message.campaign)
    tz = schedule.tz if schedule else (schedules[0].tz if schedules else ZoneInfo("UTC"))
    received = message.received_at.astimezone(tz)
    assert message.id is not None
    return Reply(
        id=message.id,
        campaign=message.campaign,
        day=message.in_reply_to_day,
        day_label=day_label(schedules, message.campaign, message.in_reply_to_day),
        sender=name or profile_name or message.profile_name,
        number=mask(message.phone),
        channel=message.channel,
        text=media_text(message.body, message.num_media),
        received_at=message.received_at,
        received_label=f"{received.day} {received:%b %H:%M}",
        read_at=message.read_at,
        kind=message.kind,
        needs_care=message.needs_care,
        handled_at=message.handled_at,
    )


def reply_days(session: Session, campaign: str | None = None) -> list[tuple[str | None, date, int]]:
    """(campaign, day, replies) for each day that has replies, newest first: the day filter."""
    query = (
        select(InboundMessage.campaign, InboundMessage.in_reply_to_day, func.count())
        .where(InboundMessage.kind == REPLY, InboundMessage.in_reply_to_day.is_not(None))
        .group_by(InboundMessage.campaign, InboundMessage.in_reply_to_day)
        .order_by(InboundMessage.in_reply_to_day.desc())
    )
    if campaign:
        query = query.where(InboundMessage.campaign == campaign)
    return [(c, d, n) for c, d, n in session.exec(query).all()]


def mark_read(session: Session, ids: list[int], now: datetime) -> int:
    """Mark these replies read (those already read keep their first time); returns how many
    changed. The page sends the ids it showed, so a reply that arrived since is not marked
    read unseen."""
    if not ids:
        return 0
    result = session.exec(
        update(InboundMessage)
        .where(
            InboundMessage.id.in_(ids),
            InboundMessage.kind == REPLY,
            InboundMessage.read_at.is_(None),
        )
        .values(read_at=now)
    )
    session.commit()
    return result.rowcount or 0


def pinned_replies(session: Session, schedules: list[Schedule]) -> list[Reply]:
    """Texts that need care and are not yet handled, whatever filter the page has: the one
    waiting longest first."""
    query = (
        _with_sender(select(InboundMessage, Subscriber.name, Subscriber.profile_name))
        .where(PINNED)
        .order_by(InboundMessage.id)
    )
    return [_as_reply(schedules, *row) for row in session.exec(query).all()]


def needing_care(session: Session) -> int:
    """How many are pinned (the calendar's banner says so)."""
    return session.exec(select(func.count()).select_from(InboundMessage).where(PINNED)).one()


def mark_handled(session: Session, reply_id: int, now: datetime) -> bool:
    """The organiser has reached out: unpin it, mark it read, and resolve its alert. False when
    there is no such text needing care or it was handled already."""
    message = session.get(InboundMessage, reply_id)
    if message is None or not message.needs_care or message.handled_at is not None:
        return False
    message.handled_at = now
    message.read_at = message.read_at or now
    session.add(message)
    resolve(session, DISTRESS, message.campaign, subject=str(reply_id), now=now)
    session.commit()
    return True
