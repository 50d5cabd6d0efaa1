"""The subscriber state machine: the only code that changes `Subscriber.status`.

    (new) -> active | waiting | invited;  active -> stopped | invalid | removed; ...

Every change writes a ConsentEvent beside it: who agreed to what, when and how (an invalid
number too, so the record shows why posts stopped). Nothing here ever deletes one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from advent.states.machine import Table
from advent.states.machine import TransitionRefused as TransitionRefused  # what a refused move raises
from advent.store.tables import ConsentEvent, Subscriber


class SubscriberStatus(StrEnum):
    ACTIVE = "active"  # on the list
    STOPPED = "stopped"  # said STOP: may rejoin themselves, is never invited again
    INVITED = "invited"  # asked by the organiser, not yet joined
    WAITING = "waiting"  # joined while the list was full
    INVALID = "invalid"  # the provider says the number cannot receive messages
    REMOVED = "removed"  # taken off by the organiser


S = SubscriberStatus

# Joining (a join word, or the reply to an invite) puts someone on the list, or on the waiting
# list when it is full.
_JOIN = frozenset({S.ACTIVE, S.WAITING})

MOVES: dict[str | None, frozenset[S]] = {
    None: _JOIN | {S.INVITED},
    S.ACTIVE: frozenset({S.STOPPED, S.INVALID, S.REMOVED}),
    S.WAITING: _JOIN | {S.STOPPED, S.INVALID, S.REMOVED},
    S.INVITED: _JOIN | {S.INVITED, S.STOPPED, S.INVALID, S.REMOVED},
    S.STOPPED: _JOIN | {S.REMOVED},
    S.INVALID: _JOIN | {S.INVITED, S.STOPPED, S.REMOVED},
    S.REMOVED: _JOIN | {S.INVITED, S.STOPPED},
}

_REASONS: dict[tuple[str | None, str], str] = {
    (S.STOPPED, S.INVITED): "they said STOP; they can rejoin themselves, but we never invite them again",
    (S.ACTIVE, S.INVITED): "they are already on the list",
    (S.WAITING, S.INVITED): "they are already on the waiting list",
    (S.ACTIVE, S.ACTIVE): "they are already on the list",
    (S.ACTIVE, S.WAITING): "they are already on the list",
    (S.STOPPED, S.INVALID): "they said STOP; their choice stands whatever the number does",
    (S.REMOVED, S.INVALID): "the organiser took them off; nothing more goes to that number",
}
for _state in S:
    _REASONS.setdefault((_state, _state), f"they are {_state} already")

TABLE: Table[S] = Table("a subscriber", MOVES, _REASONS)


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


def move(
    session: Session,
    subscriber: Subscriber,
    to: S,
    now: datetime,
    *,
    kind: str,
    method: str,
    text: str | None = None,
    message_sid: str | None = None,
    confirmation: str | None = None,
) -> ConsentEvent:
    """The one way a subscriber's status changes: checked against the table, with its event.

    A new person (no status yet) is flushed here, as the event needs their id.
    """
    target = S(to)
    TABLE.check(subscriber.status, target)
    subscriber.status = target.value
    session.add(subscriber)
    session.flush()
    return record_consent(
        session,
        subscriber,
        kind=kind,
        method=method,
        now=now,
        text=text,
        message_sid=message_sid,
        confirmation=confirmation,
    )


def join(
    session: Session,
    subscriber: Subscriber,
    *,
    full: bool,
    method: str,
    now: datetime,
    text: str | None = None,
    message_sid: str | None = None,
) -> ConsentEvent:
    """On the list, or on the waiting list when it is `full`."""
    subscriber.joined_at = None if full else now
    subscriber.stopped_at = None
    return move(
        session,
        subscriber,
        S.WAITING if full else S.ACTIVE,
        now,
        kind="waiting" if full else "opt_in",
        method=method,
        text=text,
        message_sid=message_sid,
    )


def stop(
    session: Session,
    subscriber: Subscriber,
    *,
    method: str,
    now: datetime,
    text: str | None = None,
    message_sid: str | None = None,
    confirmation: str | None = None,
) -> bool:
    """Stopped at once; False (and nothing recorded again) if they had stopped already."""
    session.add(subscriber)
    if subscriber.status == S.STOPPED:
        return False
    subscriber.stopped_at = now
    move(
        session,
        subscriber,
        S.STOPPED,
        now,
        kind="opt_out",
        method=method,
        text=text,
        message_sid=message_sid,
        confirmation=confirmation,
    )
    return True


def mark_invalid(session: Session, subscriber: Subscriber, *, reason: str, now: datetime) -> bool:
    """The provider says the number cannot receive. True when it is now marked invalid (or was
    already); False for someone who stopped or was removed, whose record stays as it is."""
    if subscriber.status == S.INVALID:
        return True
    if not TABLE.allows(subscriber.status, S.INVALID):
        return False
    move(session, subscriber, S.INVALID, now, kind="invalid", method="provider_error", text=reason)
    return True


def remove(session: Session, subscriber: Subscriber, now: datetime) -> ConsentEvent:
    """The organiser takes someone off the list: recorded like any opt-out."""
    subscriber.stopped_at = now
    return move(session, subscriber, S.REMOVED, now, kind="opt_out", method="organiser")


def admit(session: Session, subscriber: Subscriber, now: datetime) -> ConsentEvent:
    """The organiser moves someone from the waiting list onto the list (when there is room):
    they asked to join when it was full, so this is their opt-in taking effect, recorded so."""
    if subscriber.status != S.WAITING:
        raise TransitionRefused(
            f"only someone on the waiting list can be moved onto it; they are {subscriber.status}"
        )
    subscriber.joined_at = now
    return move(session, subscriber, S.ACTIVE, now, kind="opt_in", method="waiting_list")


def invite(session: Session, subscriber: Subscriber, *, text: str, now: datetime) -> ConsentEvent:
    """The organiser asks (double opt-in): recorded before it is sent, with the words sent."""
    subscriber.invited_at = now
    return move(session, subscriber, S.INVITED, now, kind="invite", method="organiser", confirmation=text)


def appoint_organiser(session: Session, subscriber: Subscriber, now: datetime) -> ConsentEvent:
    """The organiser's own number, from settings (ADVENT_ORGANISER_PHONE): their row in the
    campaign "organiser" takes texts meant for them, never a post. Recorded like any change."""
    subscriber.joined_at, subscriber.stopped_at = now, None
    return move(session, subscriber, S.ACTIVE, now, kind="organiser", method="settings")


def retire_organiser(session: Session, subscriber: Subscriber, now: datetime) -> ConsentEvent:
    """The settings name another number for the organiser now: the old one gets nothing more."""
    subscriber.stopped_at = now
    return move(session, subscriber, S.REMOVED, now, kind="organiser", method="settings")
