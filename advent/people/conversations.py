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
from advent.content.schedules import Schedule, ScheduleError, default_schedule
from advent.organiser.alerts import alert
from advent.people import sanitise
from advent.people.keywords import classify
from advent.people.phones import InvalidNumber, mask, normalise_number
from advent.people.subscriptions import join, stop_subscriber
from advent.providers.base import Inbound, Provider
from advent.sending.late_joiners import catch_up_late_joiner, first_post_date
from advent.states.subscribers import SubscriberStatus
from advent.store.database import insert_ignoring_duplicates
from advent.store.tables import Delivery, InboundMessage, Subscriber

log = logging.getLogger(__name__)

__all__ = ["Answer", "Inbound", "answer_inbound", "handle_inbound", "keep_unanswered"]

# Why the service said nothing, in words for whoever holds the phone (`advent phone`).
PROVIDER_ANSWERED = "your provider answers this one itself"
THANKED_TODAY = "the service already thanked this friend today; the text is stored for the organiser"
NO_SCHEDULE = "no campaign is set up to answer from; add a schedule"
UNUSABLE_SENDER = "the sender is not a usable phone number; the text is stored for the organiser"
REPEATED = "the same message arrived again and was already handled"


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


def reply_settings(settings: Settings) -> ReplySettings:
    return ReplySettings(
        organiser_name=settings.organiser_name,
        organiser_contact=settings.organiser_contact,
        support_line=settings.support_line,
        default_region=settings.default_region,
        default_schedule=settings.default_schedule,
        messages_dir=settings.messages_dir,
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

    def say(self, name: str, schedule: Schedule) -> str:
        settings = self.settings
        today = schedule.local_date(self.now)
        later = [s.first_day for s in self.schedules if s.first_day > today]
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
    reply = _answer(chat, record.body) if usable else chat.silent(UNUSABLE_SENDER)
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


def _answer(chat: Conversation, body: str) -> str | None:
    keywords = {s.join_keyword for s in chat.schedules}
    meaning = classify(body, keywords)
    kind = meaning.kind
    if chat.inbound.provider_kind in ("stop", "join", "help"):
        # The provider's own opt-out handling has already decided what this text is.
        kind = chat.inbound.provider_kind
    chat.record.kind = kind
    if kind == "stop":
        return _stop(chat)
    if kind == "join":
        return _join(chat, meaning.campaign_keyword)
    if kind == "help":
        return _help(chat)
    return _reply(chat)


def _provider_answers(chat: Conversation) -> bool:
    """The provider's own opt-out handling has already replied to this very text."""
    if chat.provider.answers_itself(chat.inbound):
        chat.silent(PROVIDER_ANSWERED)
        return True
    return False


def _stop(chat: Conversation) -> str | None:
    known = chat.subscriptions
    subscriptions = [s for s in known if s.status != SubscriberStatus.STOPPED]
    schedule = chat.schedule_for(known[0].campaign if known else None)
    if schedule is None and chat.schedules:
        schedule = chat.schedules[0]
    reply = None
    if schedule is None:
        chat.silent(NO_SCHEDULE)
    elif not _provider_answers(chat):
        # Someone who already stopped is told so again (kindly); only strangers hear "not on
        # our list".
        reply = chat.say("stopped" if known else "not_subscribed", schedule)
    for subscriber in subscriptions:
        stop_subscriber(
            chat.session,
            subscriber,
            method="keyword",
            now=chat.now,
            text=chat.record.body,
            message_sid=chat.inbound.message_sid,
            confirmation=reply,
        )
    if subscriptions:
        chat.record.subscriber_id = subscriptions[0].id
        chat.record.campaign = subscriptions[0].campaign
    return reply


def _join(chat: Conversation, campaign_keyword: str | None) -> str | None:
    schedule = None
    if campaign_keyword:
        schedule = next(s for s in chat.schedules if s.join_keyword == campaign_keyword)
    else:
        try:
            schedule = chat.default_schedule()
        except ScheduleError:  # a default named that no schedule has: ask, as with none
            schedule = None
        if schedule is None:  # several schedules and no default: ask which
            words = " or ".join(s.join_keyword for s in chat.schedules)
            return f"Which one would you like to join? Reply {words}. Reply STOP to stop."
    chat.record.campaign = schedule.campaign
    today = schedule.local_date(chat.now)
    if today > schedule.last_day or first_post_date(schedule, chat.now) > schedule.last_day:
        return chat.say("ended", schedule)  # nothing left to send them, so no sign-up
    if chat.channel not in schedule.channels:
        return (
            f"{schedule.title} runs on {' and '.join(schedule.channels)} only, "
            "so we can't send it here. Reply STOP to stop."
        )
    previous = _subscriptions_for(chat, schedule)
    invited = previous is not None and previous.status == SubscriberStatus.INVITED
    method = "invite_reply" if invited else "keyword"
    result = join(
        chat.session,
        schedule,
        phone=chat.phone,
        channel=chat.channel,
        method=method,
        now=chat.now,
        text=chat.record.body,
        message_sid=chat.inbound.message_sid,
    )
    chat.record.subscriber_id = result.subscriber.id
    result.subscriber.last_inbound_at = chat.now
    if result.outcome == "already":
        return None if _provider_answers(chat) else chat.say("already", schedule)
    if result.outcome == "waiting":
        return chat.say("full", schedule)
    reply = chat.say("confirmation", schedule)
    assert result.consent is not None  # every sign-up records its consent
    result.consent.confirmation_sent = reply  # the record keeps the exact words they got
    catch_up_late_joiner(chat.session, schedule, result.subscriber, chat.now)
    # Twilio's own START reply on SMS is generic: ours says what comes and how to stop, so it
    # is sent even then (the CTIA confirmation a recurring programme owes its subscriber).
    return reply


def _subscriptions_for(chat: Conversation, schedule: Schedule) -> Subscriber | None:
    return next((s for s in chat.subscriptions if s.campaign == schedule.campaign), None)


def _help(chat: Conversation) -> str | None:
    subscriptions = chat.subscriptions
    schedule = chat.schedule_for(subscriptions[0].campaign if subscriptions else None)
    schedule = schedule or (chat.schedules[0] if chat.schedules else None)
    if schedule is None:
        return chat.silent(NO_SCHEDULE)
    if _provider_answers(chat):
        return None
    return chat.say("help", schedule)


def _reply(chat: Conversation) -> str | None:
    """A reply to read: filed against the post it answers; thanked at most once a day."""
    subscriptions = [
        s for s in chat.subscriptions if s.status == SubscriberStatus.ACTIVE
    ] or chat.subscriptions
    if not subscriptions:
        schedule = chat.schedule_for(None)
        return chat.say("help", schedule) if schedule else chat.silent(NO_SCHEDULE)
    subscriber = subscriptions[0]
    chat.record.subscriber_id = subscriber.id
    chat.record.campaign = subscriber.campaign
    chat.record.in_reply_to_day = chat.session.exec(
        select(Delivery.day)
        .where(
            Delivery.subscriber_id == subscriber.id,
            Delivery.kind == "post",
            Delivery.provider_sid.is_not(None),
        )
        .order_by(Delivery.day.desc())
    ).first()
    schedule = chat.schedule_for(subscriber.campaign)
    if schedule is None:
        return chat.silent(NO_SCHEDULE)
    if _thanked_today(chat, schedule):
        return chat.silent(THANKED_TODAY)
    return chat.say("thanks", schedule)


def _thanked_today(chat: Conversation, schedule: Schedule) -> bool:
    today = schedule.local_date(chat.now)
    earlier = chat.session.exec(
        select(InboundMessage)
        .where(
            InboundMessage.phone == chat.phone,
            InboundMessage.channel == chat.channel,
            InboundMessage.kind == "reply",
            InboundMessage.reply_text.is_not(None),
            InboundMessage.id != chat.record.id,
        )
        .order_by(InboundMessage.id.desc())
    ).all()
    return any(schedule.local_date(m.received_at) == today for m in earlier)


def posts_to_come(chat: Conversation, schedule: Schedule) -> int:
    """Posts this person has still to get: every later day, and today's if it has not reached
    them yet (someone not on the list: if joining now would bring it)."""
    today = schedule.local_date(chat.now)
    later = len([d for d in schedule.days() if d > today])
    if not schedule.runs_on(today):
        return later
    subscriber = next(
        (s for s in chat.subscriptions if s.campaign == schedule.campaign and s.status == "active"), None
    )
    if subscriber is None:
        return later + (first_post_date(schedule, chat.now) == today)
    todays = chat.session.exec(
        select(Delivery.status).where(
            Delivery.subscriber_id == subscriber.id,
            Delivery.campaign == schedule.campaign,
            Delivery.day == today,
            Delivery.kind == "post",
        )
    ).first()
    if todays is None:  # not planned yet: it comes at the send time
        return later + (chat.now < schedule.send_at(today))
    return later + (todays in ("pending", "claimed"))
