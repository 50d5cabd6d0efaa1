"""Who is on the list: join, stop, invalid numbers, and what each change means for deliveries.

The status changes themselves, with the consent record behind each, belong to the subscriber
state machine (advent.states.subscribers); nothing ever deletes a ConsentEvent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from advent.content.schedules import Schedule
from advent.organiser.alerts import alert
from advent.people.phones import mask
from advent.people.zones import guess_zone
from advent.states import deliveries, subscribers
from advent.states.subscribers import SubscriberStatus
from advent.store.tables import ConsentEvent, Subscriber


def find_subscriber(session: Session, phone: str, channel: str, campaign: str) -> Subscriber | None:
    return session.exec(
        select(Subscriber).where(
            Subscriber.phone == phone, Subscriber.channel == channel, Subscriber.campaign == campaign
        )
    ).first()


def active_count(session: Session, campaign: str) -> int:
    return session.exec(
        select(func.count())
        .select_from(Subscriber)
        .where(Subscriber.campaign == campaign, Subscriber.status == SubscriberStatus.ACTIVE)
    ).one()


@dataclass(frozen=True)
class JoinResult:
    subscriber: Subscriber
    outcome: str  # joined, rejoined, already, waiting
    consent: ConsentEvent | None = None  # the event this join wrote (none for "already")


def join(
    session: Session,
    schedule: Schedule,
    *,
    phone: str,
    channel: str,
    method: str,
    now: datetime,
    text: str | None = None,
    message_sid: str | None = None,
) -> JoinResult:
    """Put a person on the list (or the waiting list when it is full); flushes, caller commits."""
    subscriber = find_subscriber(session, phone, channel, schedule.campaign)
    if subscriber is not None and subscriber.status == SubscriberStatus.ACTIVE:
        return JoinResult(subscriber, "already")
    returning = subscriber is not None and subscriber.status in (
        SubscriberStatus.STOPPED,
        SubscriberStatus.REMOVED,
        SubscriberStatus.INVALID,
    )
    full = active_count(session, schedule.campaign) >= schedule.list_cap
    if subscriber is None:
        consent = _join_new(session, schedule, phone, channel, full, method, now, text, message_sid)
        if consent is None:
            # They joined a moment ago through another worker (two texts at once from a new
            # number): this text finds them on the list, as a later one would.
            return join(
                session,
                schedule,
                phone=phone,
                channel=channel,
                method=method,
                now=now,
                text=text,
                message_sid=message_sid,
            )
        subscriber = session.get_one(Subscriber, consent.subscriber_id)
    else:
        # A zone already there stays: the friend may have set it themselves with TIME.
        subscriber.timezone = subscriber.timezone or guess_zone(phone, schedule)
        consent = subscribers.join(
            session, subscriber, full=full, method=method, now=now, text=text, message_sid=message_sid
        )
    if full:
        alert(
            session,
            schedule.campaign,
            "list_full",
            f"The {schedule.campaign} list is full ({schedule.list_cap}); "
            f"{mask(phone)} is on the waiting list.",
            now,
        )
        return JoinResult(subscriber, "waiting", consent)
    return JoinResult(subscriber, "rejoined" if returning else "joined", consent)


def _join_new(
    session: Session,
    schedule: Schedule,
    phone: str,
    channel: str,
    full: bool,
    method: str,
    now: datetime,
    text: str | None,
    message_sid: str | None,
) -> ConsentEvent | None:
    """A first join for this number, or None when another worker added it meanwhile.

    In a savepoint: the unique key (uq_subscriber_number) decides who was first, and the loser
    rolls back only its own insert, keeping the text already stored in this transaction.
    """
    subscriber = Subscriber(
        phone=phone,
        channel=channel,
        campaign=schedule.campaign,
        created_at=now,
        timezone=guess_zone(phone, schedule),
    )
    try:
        with session.begin_nested():
            consent = subscribers.join(
                session, subscriber, full=full, method=method, now=now, text=text, message_sid=message_sid
            )
    except IntegrityError:
        if find_subscriber(session, phone, channel, schedule.campaign) is None:
            raise  # not the race this handles: let the caller see it
        return None
    return consent


def cancel_unsent(session: Session, subscriber: Subscriber, now: datetime) -> int:
    """Cancel deliveries not yet handed to the provider; returns how many."""
    assert subscriber.id is not None, "a subscriber on the list has been stored"
    return deliveries.cancel_unsent(session, subscriber.id, "the person said STOP", now)


def stop_subscriber(
    session: Session,
    subscriber: Subscriber,
    *,
    method: str,
    now: datetime,
    text: str | None = None,
    message_sid: str | None = None,
    confirmation: str | None = None,
) -> bool:
    """Stop at once: no more posts, today's unsent ones cancelled. False if already stopped."""
    stopped = subscribers.stop(
        session,
        subscriber,
        method=method,
        now=now,
        text=text,
        message_sid=message_sid,
        confirmation=confirmation,
    )
    cancel_unsent(session, subscriber, now)
    return stopped


def mark_invalid(session: Session, subscriber: Subscriber, *, reason: str, now: datetime) -> None:
    if not subscribers.mark_invalid(session, subscriber, reason=reason, now=now):
        return  # they stopped or were removed: that record stands, and nothing goes to them
    cancel_unsent(session, subscriber, now)
    alert(
        session,
        subscriber.campaign,
        "invalid_number",
        f"{mask(subscriber.phone)} cannot receive messages: {reason}",
        now,
        subject=str(subscriber.id),
    )
