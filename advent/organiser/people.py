"""People, as the organiser sees them: who is on which list, how they joined, what reached
them last, and their consent history; moving someone from the waiting list; inviting by number;
moving a friend's morning (as their own TIME would).

Status changes go through the subscriber state machine (advent.states.subscribers) and the
people domain (advent.people.invites); nothing here assigns a status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from advent.content.schedules import Schedule
from advent.organiser.erase import shown_number
from advent.organiser.own_phone import ORGANISER
from advent.people.invites import InviteRefused, invite_words, prepare_invite
from advent.people.phones import InvalidNumber, mask, normalise_number
from advent.people.subscriptions import active_count
from advent.people.zones import MorningRefused, request_from, set_morning
from advent.receipts import collect_receipts
from advent.sending.dispatch import Sender
from advent.sending.invites import invite_status, send_invites
from advent.sending.late_joiners import catch_up_late_joiner
from advent.sending.mornings import known_zone, morning_of
from advent.states import subscribers
from advent.states.subscribers import SubscriberStatus
from advent.store.tables import ConsentEvent, Delivery, Subscriber

# In the order the organiser thinks of them: on the list first, gone last.
STATUSES = ("active", "invited", "waiting", "stopped", "invalid", "removed")

# A consent event in words: (kind, method) -> what happened.
_EVENT_WORDS = {
    ("opt_in", "keyword"): "joined by texting the join word",
    ("opt_in", "invite_reply"): "joined by answering an invite",
    ("opt_in", "waiting_list"): "moved from the waiting list onto the list",
    ("waiting", "keyword"): "asked to join while the list was full: waiting list",
    ("waiting", "invite_reply"): "answered an invite while the list was full: waiting list",
    ("opt_out", "keyword"): "said STOP",
    ("opt_out", "organiser"): "taken off the list by the organiser",
    ("opt_out", "provider_error"): "opted out at the carrier",
    ("invite", "organiser"): "invited by the organiser",
    ("invalid", "provider_error"): "the network says the number cannot receive",
}


def event_words(kind: str, method: str) -> str:
    return _EVENT_WORDS.get((kind, method), f"{kind.replace('_', ' ')} ({method.replace('_', ' ')})")


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str
    method: str
    words: str
    text: str | None  # what they texted, if anything
    confirmation: str | None  # what we sent back, word for word


@dataclass(frozen=True)
class LastDelivery:
    day: date
    kind: str  # post or invite
    status: str


@dataclass
class Person:
    id: int
    campaign: str
    channel: str
    status: str
    number: str  # masked (or "erased")
    name: str | None
    joined_at: datetime | None
    joined_how: str | None  # the latest join or invite, in words
    last: LastDelivery | None
    history: list[Event] = field(default_factory=list)
    timezone: str | None = None  # their own (or guessed) zone; None: the schedule's
    send_time: str | None = None  # their own hour; None: the schedule's

    @property
    def erased(self) -> bool:
        return self.number == "erased"


@dataclass(frozen=True)
class PeopleFilter:
    campaign: str | None = None
    status: str | None = None


def _where(query, wanted: PeopleFilter):  # type: ignore[no-untyped-def]
    # The organiser's own phone is not one of the friends (advent.organiser.own_phone).
    query = query.where(Subscriber.campaign != ORGANISER)
    if wanted.campaign:
        query = query.where(Subscriber.campaign == wanted.campaign)
    if wanted.status:
        query = query.where(Subscriber.status == wanted.status)
    return query


def status_counts(session: Session, campaign: str | None = None) -> dict[str, int]:
    """How many people are in each status (every status named, zero or not)."""
    query = _where(select(Subscriber.status, func.count()), PeopleFilter(campaign)).group_by(
        Subscriber.status
    )
    found = dict(session.exec(query).all())
    return {status: found.get(status, 0) for status in STATUSES}


def count_people(session: Session, wanted: PeopleFilter = PeopleFilter()) -> int:
    return session.exec(_where(select(func.count()).select_from(Subscriber), wanted)).one()


def list_people(
    session: Session, wanted: PeopleFilter = PeopleFilter(), *, limit: int | None = None, offset: int = 0
) -> list[Person]:
    """One page of people, newest first, with their last delivery and consent history.

    Three queries whatever the page size: the people with their last delivery (the highest
    delivery id per person, from the subscriber index), then the history of just these people.
    """
    last_id = (
        select(Delivery.subscriber_id, func.max(Delivery.id).label("last_id"))
        .group_by(Delivery.subscriber_id)
        .subquery()
    )
    query = _where(
        select(Subscriber, Delivery.day, Delivery.kind, Delivery.status)
        .outerjoin(last_id, last_id.c.subscriber_id == Subscriber.id)
        .outerjoin(Delivery, Delivery.id == last_id.c.last_id),
        wanted,
    ).order_by(col(Subscriber.id).desc())
    if limit is not None:
        query = query.limit(limit).offset(offset)
    people = [
        _person(s, LastDelivery(day, kind, status) if day is not None else None)
        for s, day, kind, status in session.exec(query).all()
    ]
    _add_history(session, people)
    return people


def find_person(session: Session, person_id: int) -> Person | None:
    subscriber = session.get(Subscriber, person_id)
    if subscriber is None:
        return None
    last = session.exec(
        select(Delivery).where(Delivery.subscriber_id == person_id).order_by(col(Delivery.id).desc())
    ).first()
    person = _person(subscriber, LastDelivery(last.day, last.kind, last.status) if last else None)
    _add_history(session, [person])
    return person


def _person(s: Subscriber, last: LastDelivery | None) -> Person:
    assert s.id is not None
    return Person(
        id=s.id,
        campaign=s.campaign,
        channel=s.channel,
        status=s.status,
        number=shown_number(s.phone),
        name=s.name or s.profile_name,
        joined_at=s.joined_at,
        joined_how=None,
        last=last,
        timezone=s.timezone,
        send_time=s.send_time,
    )


def _add_history(session: Session, people: list[Person]) -> None:
    by_id = {p.id: p for p in people}
    if not by_id:
        return
    events = session.exec(
        select(ConsentEvent)
        .where(col(ConsentEvent.subscriber_id).in_(list(by_id)))
        .order_by(col(ConsentEvent.created_at), col(ConsentEvent.id))
    ).all()
    for e in events:
        person = by_id[e.subscriber_id]  # type: ignore[index]  # selected by these ids
        words = event_words(e.kind, e.method)
        person.history.append(
            Event(e.created_at, e.kind, e.method, words, e.text_received, e.confirmation_sent)
        )
        if e.kind in ("opt_in", "waiting", "invite"):
            person.joined_how = words


class NoRoom(Exception):
    """The list is full: nobody can be moved onto it from the waiting list."""


def room_on_list(session: Session, schedule: Schedule) -> int:
    return max(0, schedule.list_cap - active_count(session, schedule.campaign))


def admit_from_waiting_list(
    session: Session, schedule: Schedule, subscriber: Subscriber, now: datetime
) -> None:
    """Onto the list, if there is room; their posts start as for anyone joining now."""
    if subscriber.status != SubscriberStatus.WAITING:
        raise subscribers.TransitionRefused(
            f"only someone on the waiting list can be moved onto the list; this person is {subscriber.status}"
        )
    if room_on_list(session, schedule) == 0:
        raise NoRoom(
            f"the {schedule.campaign} list is full ({schedule.list_cap} people); take someone off, "
            "or raise list_cap in the schedule, first"
        )
    subscribers.admit(session, subscriber, now)
    session.flush()
    catch_up_late_joiner(session, schedule, subscriber, now)
    session.commit()


# How an invite can end without reaching the phone (the delivery's reason says why).
NOT_SENT = ("failed", "undelivered", "needs_template", "cancelled", "unknown")


def invite_by_number(
    sender: Sender, schedule: Schedule, *, number: str, channel: str, name: str | None
) -> str:
    """Invite NUMBER as `advent subscribers invite` does: recorded, then handed over by the same
    sender as the day's posts (claimed once, paced, receipted). Returns what happened in words;
    raises InviteRefused with the same sentence the command prints."""
    settings, provider = sender.settings, sender.provider
    try:
        phone = normalise_number(number, settings.default_region, allow_drama_numbers=provider.rehearsal)
    except InvalidNumber as error:
        raise InviteRefused(str(error)) from None
    if channel == "whatsapp" and not schedule.whatsapp_invite_template_sid:
        raise InviteRefused(
            "WhatsApp lets a business start a conversation only with an approved template. "
            "Set whatsapp_invite_template_sid in the schedule, or invite by SMS"
        )
    now = sender.clock()
    text = invite_words(settings, schedule, phone=phone, channel=channel, now=now)
    prepared = prepare_invite(
        sender.session,
        schedule,
        phone=phone,
        channel=channel,
        name=name,
        text=text,
        now=now,
        cooldown_days=settings.invite_cooldown_days,
    )
    # A retry the network asks for is left to the scheduler's sweep: a page must not wait on it.
    send_invites(sender, schedule, wait_for_retries=False)
    collect_receipts(sender.session, provider, sender.clock())
    delivery = invite_status(sender, prepared.delivery_id)
    if delivery.status in NOT_SENT:
        return f"Invite recorded but not sent: {delivery.error_reason}"
    return f"Invited {mask(phone)} by {channel}."


def deliveries_of(session: Session, subscriber_id: int) -> list[Delivery]:
    """Everything sent (or meant) to this person, newest first: at most a post a day and invites."""
    return list(
        session.exec(
            select(Delivery).where(Delivery.subscriber_id == subscriber_id).order_by(col(Delivery.id).desc())
        ).all()
    )


def morning_words(schedules: list[Schedule], person: Person) -> str | None:
    """When this person's message comes on their clock ("07:30 America/Toronto"), where their
    schedule sends at each friend's own time; None where everyone shares the schedule's."""
    schedule = next((s for s in schedules if s.campaign == person.campaign), None)
    if schedule is None or not schedule.for_each_friend:
        return None
    hour = person.send_time or f"{schedule.send_time:%H:%M}"
    return f"{hour} {known_zone(person.timezone) or schedule.timezone}"


def change_morning(
    session: Session, schedule: Schedule, subscriber: Subscriber, *, place: str, hour: str, now: datetime
) -> str:
    """The organiser moves a friend's morning (the People page), checked as TIME checks it;
    commits, and says what it is now. Raises MorningRefused saying what was not understood."""
    if not schedule.for_each_friend:
        raise MorningRefused(
            f"{schedule.campaign} sends to everyone at {schedule.send_time:%H:%M} {schedule.timezone} "
            '(send_at = "schedule"), so there is no morning of their own to change'
        )
    request = request_from(place=place, hour=hour)
    if request.empty:
        raise MorningRefused("give a place (Toronto, Europe/Paris) or an hour (7:30), or both")
    changed = set_morning(schedule, subscriber, request, now)
    session.add(subscriber)
    session.commit()
    morning = morning_of(schedule, subscriber)
    return f"{'Now' if changed else 'Unchanged'}: their message comes at {morning.hour:%H:%M} {morning.zone}."
