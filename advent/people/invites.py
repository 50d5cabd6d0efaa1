"""Organiser invites (double opt-in) and removals.

An invite asks; it never subscribes. The person is on the list only once they reply with a join
word. No second invite within the cooldown, and none ever to someone who said STOP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from advent.content.schedules import Schedule
from advent.people.subscriptions import cancel_unsent, find_subscriber
from advent.states import subscribers
from advent.states.subscribers import SubscriberStatus
from advent.store.tables import Subscriber


class InviteRefused(Exception):
    """Why this invite is not sent, in words for the organiser."""


@dataclass(frozen=True)
class Invite:
    subscriber: Subscriber
    text: str


def prepare_invite(session: Session, schedule: Schedule, *, phone: str, channel: str,
                   name: str | None, text: str, now: datetime, cooldown_days: int) -> Invite:
    """Record the invite (before it is sent, so a crash cannot lead to a second one)."""
    if channel not in schedule.channels:
        raise InviteRefused(f"{schedule.campaign} runs on {', '.join(schedule.channels)}, "
                            f"not {channel}")
    subscriber = find_subscriber(session, phone, channel, schedule.campaign)
    if subscriber is not None:
        if subscriber.status == SubscriberStatus.STOPPED:
            raise InviteRefused("this person said STOP; they can rejoin themselves, "
                                "but we never invite them again")
        if subscriber.status in (SubscriberStatus.ACTIVE, SubscriberStatus.WAITING):
            raise InviteRefused(f"already on the list ({subscriber.status})")
        last = subscriber.invited_at
        if last is not None and now - last < timedelta(days=cooldown_days):
            raise InviteRefused(f"already invited on {last:%Y-%m-%d}; no second invite within "
                                f"{cooldown_days} days (ADVENT_INVITE_COOLDOWN_DAYS)")
    else:
        subscriber = Subscriber(phone=phone, channel=channel, campaign=schedule.campaign,
                                created_at=now)
    subscriber.name = (name or subscriber.name or "")[:80] or None
    subscribers.invite(session, subscriber, text=text, now=now)
    session.commit()
    return Invite(subscriber, text)


def remove(session: Session, subscriber: Subscriber, now: datetime) -> None:
    """The organiser takes someone off the list: recorded like any opt-out, nothing deleted."""
    subscribers.remove(session, subscriber, now)
    cancel_unsent(session, subscriber, now)
    session.commit()
