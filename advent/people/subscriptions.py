"""Who is on the list: join, stop, invalid numbers, and the consent record behind each change.

Every opt-in and opt-out is written as a ConsentEvent; nothing here ever deletes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, func, select

from advent.content.schedules import Schedule
from advent.organiser.alerts import alert
from advent.people.phones import mask
from advent.store.tables import ConsentEvent, Delivery, Subscriber


def find_subscriber(session: Session, phone: str, channel: str, campaign: str) -> Subscriber | None:
    return session.exec(
        select(Subscriber).where(
            Subscriber.phone == phone, Subscriber.channel == channel, Subscriber.campaign == campaign
        )
    ).first()


def active_count(session: Session, campaign: str) -> int:
    return session.exec(
        select(func.count()).select_from(Subscriber).where(
            Subscriber.campaign == campaign, Subscriber.status == "active"
        )
    ).one()


def record_consent(
    session: Session,
    subscriber: Subscriber,
    *,
    kind: str,
    method: str,
    now: datetime,
    text: str | None = None,
    message_sid: str | None = None,
    confirmation: str | None = None,
) -> ConsentEvent:
    event = ConsentEvent(
        subscriber_id=subscriber.id,
        phone=subscriber.phone,
        channel=subscriber.channel,
        campaign=subscriber.campaign,
        kind=kind,
        method=method,
        text_received=text,
        message_sid=message_sid,
        confirmation_sent=confirmation,
        created_at=now,
    )
    session.add(event)
    return event


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
    if subscriber is not None and subscriber.status == "active":
        return JoinResult(subscriber, "already")
    returning = subscriber is not None and subscriber.status in ("stopped", "removed", "invalid")
    if subscriber is None:
        subscriber = Subscriber(
            phone=phone, channel=channel, campaign=schedule.campaign, status="new", created_at=now
        )
    full = active_count(session, schedule.campaign) >= schedule.list_cap
    subscriber.status = "waiting" if full else "active"
    subscriber.joined_at = None if full else now
    subscriber.stopped_at = None
    session.add(subscriber)
    session.flush()
    consent = record_consent(
        session, subscriber, kind="waiting" if full else "opt_in", method=method, now=now,
        text=text, message_sid=message_sid,
    )
    if full:
        alert(session, schedule.campaign, "list_full",
              f"The {schedule.campaign} list is full ({schedule.list_cap}); "
              f"{mask(phone)} is on the waiting list.", now)
        return JoinResult(subscriber, "waiting", consent)
    return JoinResult(subscriber, "rejoined" if returning else "joined", consent)


def cancel_unsent(session: Session, subscriber: Subscriber, now: datetime) -> int:
    """Cancel deliveries not yet handed to the provider; returns how many."""
    result = session.exec(
        update(Delivery)
        .where(Delivery.subscriber_id == subscriber.id, Delivery.status == "pending")
        .values(status="cancelled", updated_at=now, error_reason="the person said STOP")
    )
    return result.rowcount or 0


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
    already = subscriber.status == "stopped"
    subscriber.status = "stopped"
    subscriber.stopped_at = subscriber.stopped_at if already else now
    session.add(subscriber)
    cancel_unsent(session, subscriber, now)
    if not already:
        record_consent(
            session, subscriber, kind="opt_out", method=method, now=now, text=text,
            message_sid=message_sid, confirmation=confirmation,
        )
    return not already


def mark_invalid(session: Session, subscriber: Subscriber, *, reason: str, now: datetime) -> None:
    subscriber.status = "invalid"
    session.add(subscriber)
    cancel_unsent(session, subscriber, now)
    alert(session, subscriber.campaign, "invalid_number",
          f"{mask(subscriber.phone)} cannot receive messages: {reason}", now)
