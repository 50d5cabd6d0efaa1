"""One person's data: exported as JSON when they ask for it, erased when they ask for that.

Erasing removes the number and every word they wrote, and keeps the counts: their delivery rows
(statuses, days, times), texts (kind, day answered, time) and consent events (kind, how, when)
stay, with the number replaced by "erased-<id>", so the stats of every day stay the same.
A person is a number: erasing reaches every subscription that number has (each campaign and
channel), and every text from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, col, or_, select

from advent.people.phones import mask
from advent.people.subscriptions import cancel_unsent
from advent.states import subscribers
from advent.states.subscribers import SubscriberStatus
from advent.store.tables import ConsentEvent, Delivery, DeliveryEvent, InboundMessage, Subscriber

ERASED = "erased-"


def is_erased(phone: str) -> bool:
    return phone.startswith(ERASED)


def shown_number(phone: str) -> str:
    """The number as a listing shows it: masked, or "erased"."""
    return "erased" if is_erased(phone) else mask(phone)


@dataclass(frozen=True)
class PersonData:
    """Every row about one number."""

    subscriptions: list[Subscriber]
    consent: list[ConsentEvent]
    deliveries: list[Delivery]
    events: list[DeliveryEvent]
    texts: list[InboundMessage]


def person_data(session: Session, subscriber: Subscriber) -> PersonData:
    phone = subscriber.phone
    if is_erased(phone):
        subscriptions = [subscriber]
    else:
        subscriptions = list(session.exec(select(Subscriber).where(Subscriber.phone == phone)).all())
    ids = [s.id for s in subscriptions]
    # Texts and consent events found by number too: a STOP from someone never on a list has none.
    consent = session.exec(
        select(ConsentEvent)
        .where(or_(col(ConsentEvent.subscriber_id).in_(ids), ConsentEvent.phone == phone))
        .order_by(col(ConsentEvent.id))
    ).all()
    deliveries = session.exec(
        select(Delivery).where(col(Delivery.subscriber_id).in_(ids)).order_by(col(Delivery.id))
    ).all()
    events = session.exec(
        select(DeliveryEvent)
        .where(col(DeliveryEvent.delivery_id).in_([d.id for d in deliveries]))
        .order_by(col(DeliveryEvent.id))
    ).all()
    texts = session.exec(
        select(InboundMessage)
        .where(or_(col(InboundMessage.subscriber_id).in_(ids), InboundMessage.phone == phone))
        .order_by(col(InboundMessage.id))
    ).all()
    return PersonData(subscriptions, list(consent), list(deliveries), list(events), list(texts))


def _row(row: SQLModel, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        name: value.isoformat() if hasattr(value, "isoformat") else value
        for name, value in row.model_dump().items()
        if name not in leave_out
    }


def export_person(session: Session, subscriber: Subscriber, now: datetime) -> dict[str, Any]:
    """Everything kept about this person, for them (their own number unmasked)."""
    data = person_data(session, subscriber)
    return {
        "exported_at": now.isoformat(timespec="seconds"),
        "number": subscriber.phone,
        # A claim token is our own bookkeeping, not about them.
        "subscriptions": [_row(s) for s in data.subscriptions],
        "consent_history": [_row(e) for e in data.consent],
        "deliveries": [_row(d, ("claim_token",)) for d in data.deliveries],
        "delivery_events": [_row(e, ("idempotency_token", "payload")) for e in data.events],
        "texts": [_row(t) for t in data.texts],
    }


@dataclass(frozen=True)
class ErasePlan:
    """What erasing will touch, for the confirmation page."""

    campaigns: list[str]
    consent_events: int
    texts: int
    deliveries: int


def erase_plan(session: Session, subscriber: Subscriber) -> ErasePlan:
    data = person_data(session, subscriber)
    return ErasePlan(
        [f"{s.campaign} ({s.channel})" for s in data.subscriptions],
        len(data.consent),
        len(data.texts),
        len(data.deliveries),
    )


def erase_person(session: Session, subscriber: Subscriber, now: datetime) -> int:
    """Remove the number, names and words of this person everywhere; keep the counts.

    Each subscription is first taken off its list through the state machine (its unsent posts
    cancelled), then every row about the number is overwritten. Returns how many subscriptions.
    """
    phone = subscriber.phone
    if is_erased(phone):
        return 0
    data = person_data(session, subscriber)
    for person in data.subscriptions:
        if person.status != SubscriberStatus.REMOVED:
            subscribers.remove(session, person, now)
            cancel_unsent(session, person, now)
    session.flush()
    data = person_data(session, subscriber)  # with the removals just recorded
    stand_in = {s.id: f"{ERASED}{s.id}" for s in data.subscriptions}
    for person in data.subscriptions:
        person.phone, person.name, person.profile_name = stand_in[person.id], None, None
        # Where they live, and when they wake, are about them too.
        person.timezone = person.send_time = person.morning_set_at = None
        session.add(person)
    for event in data.consent:
        event.phone = stand_in.get(event.subscriber_id, "erased")
        event.text_received = event.confirmation_sent = None
        session.add(event)
    for text in data.texts:
        text.phone = stand_in.get(text.subscriber_id, "erased")
        text.body, text.profile_name = "", None
        if text.kind == "time":
            text.reply_text = None  # it named their zone and hour
        text.read_at = text.read_at or now  # nothing is left to read
        session.add(text)
    for delivery in data.deliveries:
        delivery.address = stand_in[delivery.subscriber_id]
        delivery.error_reason = _without(delivery.error_reason, phone, delivery.address)
        session.add(delivery)
    for event in data.events:
        # A receipt as received names the number it went to.
        event.payload = _without(event.payload, phone, "erased")
        session.add(event)
    session.commit()
    _scrub_file(session.get_bind())
    return len(data.subscriptions)


def _without(text: str | None, phone: str, stand_in: str) -> str | None:
    if text is None:
        return None
    # Also without its "+", as a form-encoded payload writes "%2B4479...".
    return text.replace(phone, stand_in).replace(phone.lstrip("+"), stand_in)


def _scrub_file(bind: Any) -> None:
    """SQLite keeps an overwritten value in free space of its pages (and in the write-ahead
    log) until they are reused: rebuild the file, so the old number is really gone from disk."""
    engine: Engine = bind.engine if hasattr(bind, "engine") else bind
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL's own autovacuum reclaims the old row versions
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("VACUUM")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()
