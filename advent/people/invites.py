"""Organiser invites (double opt-in) and removals.

An invite asks; it never subscribes. The person is on the list only once they reply with a join
word. No second invite within the cooldown, and none ever to someone who said STOP. An invite
is a delivery (kind "invite", its text on the row), sent by `advent.sending.invites` like a post.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from advent.config import Settings
from advent.content.replies import facts, load_replies
from advent.content.schedules import Schedule
from advent.people.phones import address
from advent.people.subscriptions import cancel_unsent, find_subscriber
from advent.people.zones import guess_zone
from advent.states import deliveries, subscribers
from advent.states.subscribers import SubscriberStatus
from advent.store.tables import Delivery, Subscriber


class InviteRefused(Exception):
    """Why this invite is not sent, in words for the organiser."""


@dataclass(frozen=True)
class Invite:
    subscriber: Subscriber
    text: str
    delivery_id: int  # the invite's delivery row, pending until it is sent


def invite_words(settings: Settings, schedule: Schedule, *, phone: str, channel: str, now: datetime) -> str:
    """The invite's text (replies.toml's `invite`) for this number and channel."""
    return load_replies(settings.messages_dir, schedule).render(
        "invite",
        facts(
            schedule,
            channel=channel,
            today=schedule.local_date(now),
            organiser=settings.organiser_name,
            contact=settings.organiser_contact,
            # Not joined yet: the morning their number suggests, as joining would give them.
            zone=guess_zone(phone, schedule),
            support_line=settings.support_line,
        ),
    )


def prepare_invite(
    session: Session,
    schedule: Schedule,
    *,
    phone: str,
    channel: str,
    name: str | None,
    text: str,
    now: datetime,
    cooldown_days: int,
) -> Invite:
    """Record the invite and its delivery (before it is sent, so a crash cannot lead to a second
    one); the day is the schedule's local date now."""
    if channel not in schedule.channels:
        raise InviteRefused(f"{schedule.campaign} runs on {', '.join(schedule.channels)}, not {channel}")
    subscriber = find_subscriber(session, phone, channel, schedule.campaign)
    if subscriber is not None:
        if subscriber.status == SubscriberStatus.STOPPED:
            raise InviteRefused(
                "this person said STOP; they can rejoin themselves, but we never invite them again"
            )
        if subscriber.status in (SubscriberStatus.ACTIVE, SubscriberStatus.WAITING):
            raise InviteRefused(f"already on the list ({subscriber.status})")
        last = subscriber.invited_at
        if last is not None and now - last < timedelta(days=cooldown_days):
            raise InviteRefused(
                f"already invited on {last:%Y-%m-%d}; no second invite within "
                f"{cooldown_days} days (ADVENT_INVITE_COOLDOWN_DAYS)"
            )
    else:
        subscriber = Subscriber(phone=phone, channel=channel, campaign=schedule.campaign, created_at=now)
    subscriber.timezone = subscriber.timezone or guess_zone(phone, schedule)
    day = schedule.local_date(now)
    if subscriber.id is not None and _invited_on(session, subscriber, day):
        raise InviteRefused(f"already invited on {day}; at most one invite a day")
    subscriber.name = (name or subscriber.name or "")[:80] or None
    subscribers.invite(session, subscriber, text=text, now=now)
    session.flush()
    deliveries.insert_pending(
        session,
        [
            dict(
                subscriber_id=subscriber.id,
                campaign=schedule.campaign,
                day=day,
                kind="invite",
                body=text,
                channel=channel,
                address=address(phone, channel),
                used_template=False,
                template_only=False,
                created_at=now,
                updated_at=now,
            )
        ],
    )
    delivery = _invite_of(session, subscriber, day)
    session.commit()
    assert delivery is not None and delivery.id is not None
    return Invite(subscriber, text, delivery.id)


def _invite_of(session: Session, subscriber: Subscriber, day: date) -> Delivery | None:
    # One invite row per person and day (the delivery's unique key): a cooldown of 0 days
    # still cannot send two in one day.
    return session.exec(
        select(Delivery).where(
            Delivery.subscriber_id == subscriber.id,
            Delivery.campaign == subscriber.campaign,
            Delivery.day == day,
            Delivery.kind == "invite",
        )
    ).first()


def _invited_on(session: Session, subscriber: Subscriber, day: date) -> bool:
    return _invite_of(session, subscriber, day) is not None


def remove(session: Session, subscriber: Subscriber, now: datetime) -> None:
    """The organiser takes someone off the list: recorded like any opt-out, nothing deleted."""
    subscribers.remove(session, subscriber, now)
    cancel_unsent(session, subscriber, now)
    session.commit()
