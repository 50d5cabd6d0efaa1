"""The delivery sender: plan a day, claim each delivery once, hand it to the provider.

Exactly once rests on three things: the delivery row is written (and unique per subscriber,
campaign and day) before the provider is called; a row is claimed by a conditional update that
only one dispatcher can win; and a claim left without a provider id after a crash is settled by
asking the provider what it sent before anything is sent again.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, func, select

from advent.config import Settings
from advent.content.posts import Post
from advent.content.schedules import Schedule
from advent.providers.base import ErrorAction, OutgoingMessage, Provider, ProviderError, SendResult
from advent.receipts import (
    AWAITING_ANSWER,
    FAILURES,
    act_on_error,
    apply_early_receipts,
    awaiting_answer,
    next_status,
)
from advent.sending.pace import RateLimiter
from advent.sending.plan import count_by_status
from advent.store.tables import Delivery, DeliveryEvent, Subscriber, utcnow

log = logging.getLogger(__name__)

WHATSAPP_WINDOW = timedelta(hours=24)


@dataclass
class Sender:
    """What a send needs from the outside world, passed in so tests can fix the clock."""

    session: Session
    provider: Provider
    settings: Settings
    clock: Callable[[], datetime] = utcnow
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    progress: Callable[[int, int], None] | None = None






def outgoing(delivery: Delivery, subscriber: Subscriber, post: Post, schedule: Schedule,
             now: datetime) -> OutgoingMessage:
    last = subscriber.last_inbound_at
    return OutgoingMessage(
        reference=str(delivery.id),
        to=subscriber.phone,
        channel=delivery.channel,
        body=post.text,
        media_url=post.media_url,
        # A template goes with its own variables: the post's pair, or else the schedule's.
        template_sid=post.template_sid or schedule.whatsapp_template_sid,
        template_variables=(post.template_variables if post.template_sid
                            else schedule.whatsapp_template_variables),
        in_session_window=(not delivery.template_only and last is not None
                           and now - last < WHATSAPP_WINDOW),
    )


def _claim(sender: Sender, delivery_id: int, now: datetime) -> str | None:
    """Take one pending row for this dispatcher; None if another got there first."""
    token = uuid.uuid4().hex
    result = sender.session.exec(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == "pending",
            or_(Delivery.next_attempt_at == None, Delivery.next_attempt_at <= now),  # noqa: E711
        )
        .values(status="claimed", claim_token=token, claimed_at=now, updated_at=now,
                attempts=Delivery.attempts + 1)
    )
    sender.session.commit()
    return token if result.rowcount == 1 else None


def record_handover(sender: Sender, delivery: Delivery, result: SendResult, now: datetime,
                    source: str = "sender") -> None:
    """Store the provider's id and first status, then any receipts that beat us here."""
    # Read the row afresh (and lock it where the database can): a receipt carrying this
    # delivery's id may have moved it on while the provider was answering us.
    delivery = sender.session.get_one(Delivery, delivery.id, populate_existing=True,
                                      with_for_update=True)
    sender.session.add(DeliveryEvent(
        delivery_id=delivery.id, provider_sid=result.sid, status=result.status, source=source,
        applied=True, received_at=now,
    ))
    moved_on = delivery.provider_sid is None and not awaiting_answer(delivery)
    if not moved_on:
        # (When moved_on, a receipt already settled this message, e.g. WhatsApp refused it and
        # the row waits to go again as a template: keep that decision.)
        delivery.provider_sid = delivery.provider_sid or result.sid
        delivery.used_template = result.used_template
        delivery.handed_over_at = delivery.handed_over_at or now
        delivery.status = next_status(delivery.status, result.status) or delivery.status
        if delivery.status in AWAITING_ANSWER:
            delivery.status = "queued"
        if delivery.status not in FAILURES:
            delivery.error_code = delivery.error_reason = None
        delivery.updated_at = now
        sender.session.add(delivery)
    sender.session.flush()
    apply_early_receipts(sender.session, delivery, sender.provider.explain, now)
    sender.session.commit()


def _send_one(sender: Sender, limiter: RateLimiter, delivery: Delivery, message: OutgoingMessage
              ) -> None:
    limiter.wait(message.channel)
    try:
        result = sender.provider.send(message)
    except ProviderError as error:
        settle_error(sender, delivery, message, error)
        return
    except Exception as error:  # a provider bug must not leave the row claimed forever
        log.exception("provider crashed sending delivery %s", delivery.id)
        settle_error(sender, delivery, message,
                     ProviderError(f"unexpected error: {error}", maybe_sent=True))
        return
    record_handover(sender, delivery, result, sender.clock())


def backoff_seconds(sender: Sender, attempts: int) -> float:
    """Exponential backoff with full jitter: spreads retries so they don't arrive together."""
    ceiling = min(sender.settings.retry_max_seconds,
                  sender.settings.retry_base_seconds * 2 ** max(0, attempts - 1))
    return sender.rng.uniform(0, ceiling)


def _finish(sender: Sender, delivery: Delivery, status: str, error: ProviderError | None,
            now: datetime, reason: str | None = None) -> None:
    delivery.status = status
    delivery.error_code = error.code if error else None
    delivery.error_reason = reason or (error.reason if error else None)
    delivery.claim_token = None
    delivery.updated_at = now
    sender.session.add(delivery)
    sender.session.add(DeliveryEvent(
        delivery_id=delivery.id, provider_sid=delivery.provider_sid, status=status,
        error_code=delivery.error_code, source="sender", applied=True, received_at=now,
        payload=delivery.error_reason,
    ))


def still_unsettled(sender: Sender, delivery: Delivery) -> Delivery | None:
    """The row afresh (locked where the database can), or None when a receipt has settled it
    meanwhile: then a write from what we read before the provider call would undo that."""
    current = sender.session.get_one(Delivery, delivery.id, populate_existing=True,
                                     with_for_update=True)
    if awaiting_answer(current):
        return current
    sender.session.commit()
    return None


def settle_error(sender: Sender, delivery: Delivery, message: OutgoingMessage,
                 error: ProviderError) -> None:
    """Record what the provider refused, and decide: retry later, give up, or act on the person."""
    now = sender.clock()
    if error.maybe_sent:
        found = sender.provider.lookup(message, since=delivery.claimed_at or now)
        if found:
            record_handover(sender, delivery, SendResult(found[0].sid, found[0].status), now)
            return
    delivery = still_unsettled(sender, delivery)
    if delivery is None:
        return
    if error.maybe_sent:
        if found is None:
            _finish(sender, delivery, "unknown", error, now,
                    f"the provider could not say whether it was sent ({error.reason}); "
                    "run `advent reconcile` before sending again")
            sender.session.commit()
            return
    if error.action is ErrorAction.RETRY:
        if delivery.attempts < sender.settings.send_max_attempts:
            delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(sender, delivery.attempts))
            _finish(sender, delivery, "pending", error, now)
        else:
            _finish(sender, delivery, "failed", error, now,
                    f"gave up after {delivery.attempts} attempts: {error.reason}")
    elif error.action is ErrorAction.NEEDS_TEMPLATE:
        _finish(sender, delivery, "needs_template", error, now)
    else:
        _finish(sender, delivery, "failed", error, now)
        act_on_error(sender.session, delivery, error.action, error.reason, now)
    sender.session.commit()


def _next_due(sender: Sender, schedule: Schedule, day: date, now: datetime) -> int | None:
    due = sender.session.exec(
        select(Delivery.id)
        .where(Delivery.campaign == schedule.campaign, Delivery.day == day,
               Delivery.status == "pending",
               or_(Delivery.next_attempt_at == None, Delivery.next_attempt_at <= now))  # noqa: E711
        .order_by(Delivery.id).limit(1)
    ).first()
    sender.session.commit()  # end the read: the claim starts its own write transaction
    return due


def _earliest_retry(sender: Sender, schedule: Schedule, day: date) -> datetime | None:
    moment = sender.session.exec(
        select(func.min(Delivery.next_attempt_at)).where(
            Delivery.campaign == schedule.campaign, Delivery.day == day,
            Delivery.status == "pending")
    ).first()
    sender.session.commit()
    return moment


def dispatch_day(sender: Sender, schedule: Schedule, day: date, post: Post,
                 wait_for_retries: bool = True) -> int:
    """Send every pending delivery of the day that this dispatcher can claim; returns how many.

    With `wait_for_retries`, it also sleeps until deliveries waiting on a backoff are due.
    """
    limiter = RateLimiter(sender.settings.send_rate_per_second, sender.sleep)
    total = count_by_status(sender.session, schedule.campaign, day).get("pending", 0)
    handled = 0
    while True:
        now = sender.clock()
        delivery_id = _next_due(sender, schedule, day, now)
        if delivery_id is None:
            retry_at = _earliest_retry(sender, schedule, day) if wait_for_retries else None
            if retry_at is None:
                return handled
            sender.sleep(max(0.0, (retry_at - now).total_seconds()))
            continue
        if _claim(sender, delivery_id, now) is None:
            continue
        delivery = sender.session.get_one(Delivery, delivery_id, populate_existing=True)
        subscriber = sender.session.get_one(Subscriber, delivery.subscriber_id, populate_existing=True)
        if subscriber.status != "active":
            # They said STOP (or were removed) after this row was planned; a retry or a
            # re-send must not reach them.
            _finish(sender, delivery, "cancelled", None, now,
                    f"not sent: the subscriber is {subscriber.status}")
            sender.session.commit()
            continue
        message = outgoing(delivery, subscriber, post, schedule, now)
        sender.session.commit()  # no transaction stays open while the provider is called
        _send_one(sender, limiter, delivery, message)
        handled += 1
        if sender.progress:
            sender.progress(handled, max(total, handled))
