"""Being a friend on the simulated network: text the service, and read the conversation back.

`advent phone` and the dashboard's phone page both come here, so the two behave alike: the text
is answered like any inbound text (advent.people.conversations), the answer lands on the phone,
and what is due now goes out at once, as the scheduler's sweep would send it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, func, select

from advent.config import Settings
from advent.content.schedules import Schedule
from advent.people.conversations import Answer, answer_inbound, reply_settings
from advent.providers.base import Phone
from advent.sending.dispatch import Sender
from advent.sending.sweep import sweep
from advent.states.deliveries import DeliveryStatus
from advent.store.tables import Delivery, InboundMessage, Subscriber

# A drama number to suggest to someone trying the phone for the first time.
FIRST_NUMBER = "+447700900123"


@dataclass(frozen=True)
class Texted:
    """What texting the service did: its answer (or why none) and what went out with it."""

    answer: Answer
    sent_now: list[str]


def text_as_friend(
    sender: Sender,
    phone: Phone,
    number: str,
    body: str,
    *,
    whatsapp: bool,
    schedules: list[Schedule],
    settings: Settings,
) -> Texted:
    """The phone at `number` (E.164) texts `body`; the service answers in the same breath."""
    inbound = phone.text_service(number, body, whatsapp=whatsapp)
    answer = answer_inbound(
        sender.session,
        inbound,
        sender.clock(),
        schedules=schedules,
        provider=sender.provider,
        settings=reply_settings(settings),
    )
    if answer.text:
        phone.receive_reply(inbound, answer.text)
    # A late joiner's post for today goes out now, as the scheduler's sweep would do: on the
    # simulator nobody should have to wait up to 30 seconds for the clock process to see it.
    # Only this friend's: a rehearsal text is not the clock, and sends nobody else's morning.
    texter = frozenset(sender.session.exec(select(Subscriber.id).where(Subscriber.phone == number)).all())
    sender.session.commit()
    return Texted(answer, sweep(sender, schedules, settings.messages_dir, friends=texter))


@dataclass(frozen=True)
class Bubble:
    """One message in a phone's conversation, as a messaging app shows it."""

    at: datetime
    mine: bool  # the friend's own text (drawn on the right), else something the phone received
    kind: str  # text (the friend's own), reply (the service's answer), post or invite
    channel: str
    body: str
    # A delivery's status for posts and invites; for the friend's own texts "delivered" once the
    # service stored it and "read" once the organiser marked it read; for answers "delivered".
    status: str
    media: bool = False


def conversation(session: Session, phone: Phone, number: str) -> list[Bubble]:
    """Everything the phone at `number` sent and received, oldest first."""
    texts = session.exec(
        select(InboundMessage).where(InboundMessage.phone == number).order_by(InboundMessage.id)
    ).all()
    bubbles = [
        Bubble(
            at=text.received_at,
            mine=True,
            kind="text",
            channel=text.channel,
            body=text.body,
            status=DeliveryStatus.READ if text.read_at else DeliveryStatus.DELIVERED,
            media=text.num_media > 0,
        )
        for text in texts
    ]
    received = phone.messages_to(number)
    ids = [int(m.reference) for m in received if m.reference and m.reference.isdecimal()]
    statuses = dict(session.exec(select(Delivery.id, Delivery.status).where(Delivery.id.in_(ids))).all())
    for message in received:
        status = DeliveryStatus.DELIVERED  # an answer is on the phone the moment it is given
        if message.reference and message.reference.isdecimal():
            status = statuses.get(int(message.reference), DeliveryStatus.SENT)
        bubbles.append(
            Bubble(
                at=message.sent_at or datetime.min.replace(tzinfo=UTC),
                mine=False,
                kind=message.kind,
                channel=message.channel,
                body=message.body,
                status=status,
                media=message.media_url is not None,
            )
        )
    # The friend's text comes before the answer given at the same moment.
    return sorted(bubbles, key=lambda b: (b.at, not b.mine))


@dataclass(frozen=True)
class KnownPhone:
    number: str  # E.164
    name: str | None
    last_seen: datetime


def known_phones(session: Session, limit: int = 30) -> list[KnownPhone]:
    """The phones already used on this rehearsal list, the most recently active first."""
    people = session.exec(
        select(
            Subscriber.phone,
            func.max(func.coalesce(Subscriber.name, Subscriber.profile_name)),
            func.max(Subscriber.created_at),
        )
        .group_by(Subscriber.phone)
        .order_by(func.max(Subscriber.created_at).desc())
        .limit(limit)
    ).all()
    # Someone who only asked for HELP has texts but no subscription.
    texters = session.exec(
        select(InboundMessage.phone, func.max(InboundMessage.received_at))
        .where(InboundMessage.phone.startswith("+"))
        .group_by(InboundMessage.phone)
        .order_by(func.max(InboundMessage.received_at).desc())
        .limit(limit)
    ).all()
    seen: dict[str, KnownPhone] = {}
    for number, name, created in people:
        seen[number] = KnownPhone(number, name, created)
    for number, last in texters:
        known = seen.get(number)
        if known is None or last > known.last_seen:
            seen[number] = KnownPhone(number, known.name if known else None, last)
    return sorted(seen.values(), key=lambda p: p.last_seen, reverse=True)[:limit]


def next_free_number(session: Session) -> str:
    """A drama number nobody on this list has used yet, to suggest to a new tester."""
    used = set(
        session.exec(select(Subscriber.phone).where(Subscriber.phone.startswith("+447700900"))).all()
    ) | set(session.exec(select(InboundMessage.phone).where(InboundMessage.phone.startswith("+447700900"))))
    for n in range(123, 1000):
        candidate = f"+447700900{n:03d}"
        if candidate not in used:
            return candidate
    return FIRST_NUMBER
