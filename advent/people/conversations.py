"""Inbound texts: store, classify, change the subscription, and answer in the same breath.

The webhook and the simulated phone (`advent phone`) both come here. Everything is written and
committed before the answer is returned, so nothing is lost if the process dies after answering.
No network call happens on this path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from advent.config import Settings
from advent.content.replies import RepliesError, facts, fallback, load_replies
from advent.content.schedules import Schedule, default_schedule
from advent.organiser.alerts import alert
from advent.people import sanitise
from advent.people.answers import (
    REPEATED,
    UNUSABLE_SENDER,
    answer_text,
    posts_to_come,
)
from advent.people.phones import InvalidNumber, mask, normalise_number
from advent.people.zones import guess_zone
from advent.providers.base import Inbound, Provider
from advent.sending.late_joiners import first_post_date
from advent.sending.mornings import Morning, morning_of
from advent.store.database import insert_ignoring_duplicates
from advent.store.tables import InboundMessage, Subscriber

log = logging.getLogger(__name__)

__all__ = ["Answer", "Inbound", "answer_inbound", "handle_inbound", "keep_unanswered"]


@dataclass(frozen=True)
class Answer:
    """What the service answered, or why it said nothing."""

    text: str | None
    why_silent: str | None = None


@dataclass(frozen=True)
class ReplySettings:
    """The few settings answering a text reads: who the organiser is, how to read a number
    typed without its country code, which schedule a plain join word joins, where the texts are."""

    organiser_name: str
    organiser_contact: str
    support_line: str
    default_region: str
    default_schedule: str | None
    messages_dir: Path
    # The organiser's own phone (E.164, or ""): HOLD and RELEASE from it act on a day.
    organiser_phone: str = ""


def reply_settings(settings: Settings) -> ReplySettings:
    return ReplySettings(
        organiser_name=settings.organiser_name,
        organiser_contact=settings.organiser_contact,
        support_line=settings.support_line,
        default_region=settings.default_region,
        default_schedule=settings.default_schedule,
        messages_dir=settings.messages_dir,
        organiser_phone=settings.organiser_phone,
    )


@dataclass
class Conversation:
    """One inbound text being answered."""

    session: Session
    schedules: list[Schedule]
    provider: Provider
    settings: ReplySettings
    inbound: Inbound
    phone: str
    now: datetime
    record: InboundMessage
    # This number's subscriptions on this channel (one per campaign), read once per text.
    subscriptions: list[Subscriber]
    why_silent: str | None = None

    def silent(self, why: str) -> str | None:
        """Answer nothing, and remember why (returns None so a branch can `return chat.silent()`)."""
        self.why_silent = why
        return None

    @property
    def channel(self) -> str:
        return self.inbound.channel

    def default_schedule(self) -> Schedule | None:
        """The schedule a plain join word joins (the setting, or the only one); None: ask which."""
        return default_schedule(self.schedules, self.settings.default_schedule)

    def schedule_for(self, campaign: str | None) -> Schedule | None:
        for schedule in self.schedules:
            if schedule.campaign == campaign:
                return schedule
        return self.default_schedule() if len(self.schedules) == 1 else None

    def subscription(self, schedule: Schedule) -> Subscriber | None:
        """This number's subscription to `schedule` on this channel, if it has one."""
        return next((s for s in self.subscriptions if s.campaign == schedule.campaign), None)

    def morning(self, schedule: Schedule, subscriber: Subscriber | None = None) -> Morning:
        """The friend's morning, or for someone not on the list yet, the one their number
        suggests (what joining would give them)."""
        subscriber = subscriber or self.subscription(schedule)
        if subscriber is None:
            return Morning(guess_zone(self.phone, schedule), schedule.send_time)
        return morning_of(schedule, subscriber)

    def say(
        self,
        name: str,
        schedule: Schedule,
        subscriber: Subscriber | None = None,
        *,
        next_post: str = "",
        problem: str = "",
    ) -> str:
        """The reply text `name`, filled in for this friend (`subscriber`: the subscription it
        is about, when it is not yet among those read with the text, as after a first join)."""
        settings = self.settings
        today = schedule.local_date(self.now)
        later = [s.first_day for s in self.schedules if s.first_day > today]
        morning = self.morning(schedule, subscriber)
        known = facts(
            schedule,
            channel=self.channel,
            today=today,
            organiser=settings.organiser_name,
            contact=settings.organiser_contact,
            support_line=settings.support_line,
            next_start=min(later) if later else None,
            starting=first_post_date(schedule, self.now),
            left=posts_to_come(self, schedule) if name == "help" else None,
            zone=morning.zone,
            hour=morning.hour,
            next_post=next_post,
            problem=problem,
        )
        try:
            return load_replies(settings.messages_dir, schedule).render(name, known)
        except RepliesError as error:
            # The file was broken after start-up: answer plainly, and tell the organiser.
            log.error("reply text %s unusable: %s", name, error)
            alert(
                self.session,
                schedule.campaign,
                "reply_text",
                str(error),
                self.now,
                day=schedule.local_date(self.now),
                subject=name,
            )
            return fallback(name, known)


def handle_inbound(
    session: Session,
    inbound: Inbound,
    now: datetime,
    *,
    schedules: list[Schedule],
    provider: Provider,
    settings: ReplySettings,
) -> str | None:
    """Store the text, act on it, commit, and return the reply (None: say nothing)."""
    return answer_inbound(
        session, inbound, now, schedules=schedules, provider=provider, settings=settings
    ).text


def answer_inbound(
    session: Session,
    inbound: Inbound,
    now: datetime,
    *,
    schedules: list[Schedule],
    provider: Provider,
    settings: ReplySettings,
) -> Answer:
    """Store the text, act on it, commit, and return the reply or why there is none.

    `provider` says whether it answered this text itself and whether numbers are rehearsal ones.
    """
    inbound = sanitise.inbound(inbound)
    try:
        return _answer_once(session, inbound, now, schedules, provider, settings)
    except IntegrityError:
        # Another worker stored something this text needed at the same moment (the same
        # retried text, or the same new number joining twice): once it has committed, the
        # second try reads it and answers as for a repeat, so neither text gets a 503.
        session.rollback()
        log.info("inbound text %s met a concurrent write; answering again", inbound.message_sid)
        return _answer_once(session, inbound, now, schedules, provider, settings)


def _answer_once(
    session: Session,
    inbound: Inbound,
    now: datetime,
    schedules: list[Schedule],
    provider: Provider,
    settings: ReplySettings,
) -> Answer:
    usable = True
    try:
        phone = normalise_number(
            inbound.sender,
            settings.default_region,
            strict=False,
            allow_drama_numbers=provider.rehearsal,
        )
    except InvalidNumber:
        # Kept, so nothing is lost, but nobody can be subscribed or answered at such an address.
        log.warning(
            "inbound text from an unusable sender %s kept unanswered", mask(inbound.sender.strip()[:40])
        )
        phone, usable = inbound.sender.strip()[:40] or "unknown", False
    record = _store(session, _as_received(inbound, phone, "reply", now))
    if record is None:
        assert inbound.message_sid is not None  # only a text with an id can be a repeat
        seen = session.exec(
            select(InboundMessage).where(InboundMessage.provider_sid == inbound.message_sid)
        ).one()
        session.commit()
        # The provider retried a webhook we already answered: same answer, nothing done twice.
        return Answer(seen.reply_text, None if seen.reply_text else REPEATED)
    if usable:
        # The network saw this text too: a simulated one keeps WhatsApp's window from it.
        provider.note_inbound(phone, inbound.channel, now)
    subscriptions = list(
        session.exec(
            select(Subscriber).where(Subscriber.phone == phone, Subscriber.channel == inbound.channel)
        ).all()
    )
    chat = Conversation(session, schedules, provider, settings, inbound, phone, now, record, subscriptions)
    _touch_window(chat)
    reply = answer_text(chat, record.body) if usable else chat.silent(UNUSABLE_SENDER)
    record.reply_text = reply
    session.add(record)
    session.commit()
    return Answer(reply, None if reply else chat.why_silent)


def _store(session: Session, record: InboundMessage) -> InboundMessage | None:
    """The text on record before we decide anything about it; None when its id is stored already.

    INSERT ... ON CONFLICT DO NOTHING: two deliveries of one MessageSid at once (a provider's
    retry racing the first try) are told apart by the database itself; on PostgreSQL the second
    waits for the first to commit, then finds the row instead of failing on the unique key.
    """
    if record.provider_sid is None:
        session.add(record)
        session.flush()
        return record
    row = record.model_dump(exclude={"id"})
    if not insert_ignoring_duplicates(session, InboundMessage, [row], ["provider_sid"]):
        return None
    return session.exec(
        select(InboundMessage).where(InboundMessage.provider_sid == record.provider_sid)
    ).one()


def _as_received(inbound: Inbound, phone: str, kind: str, now: datetime) -> InboundMessage:
    return InboundMessage(
        provider_sid=inbound.message_sid,
        phone=phone,
        channel=inbound.channel,
        to=inbound.to or None,
        body=inbound.body,
        num_media=inbound.num_media,
        profile_name=inbound.profile_name,
        kind=kind,
        received_at=now,
    )


def keep_unanswered(session: Session, inbound: Inbound, now: datetime) -> None:
    """Store a text we failed to handle, as received, so the organiser can still read it."""
    inbound = sanitise.inbound(inbound)
    _store(session, _as_received(inbound, inbound.sender.strip()[:40] or "unknown", "unhandled", now))
    session.commit()


def _touch_window(chat: Conversation) -> None:
    """WhatsApp's 24-hour window opens again with every message a person sends."""
    for subscriber in chat.subscriptions:
        subscriber.last_inbound_at = chat.now
        if chat.inbound.profile_name:
            subscriber.profile_name = chat.inbound.profile_name
        chat.session.add(subscriber)
