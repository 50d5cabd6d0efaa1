"""The delivery engine: plan a day, claim each delivery once, hand it to the provider.

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
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, func, select

from advent.config import Settings
from advent.content import Post
from advent.db import insert_ignoring_duplicates
from advent.models import Delivery, DeliveryEvent, Subscriber
from advent.phones import address
from advent.providers.base import ErrorAction, OutgoingMessage, Provider, ProviderError, SendResult
from advent.rate_limit import RateLimiter
from advent.receipts import (
    AWAITING_ANSWER,
    FAILURES,
    act_on_error,
    apply_early_receipts,
    awaiting_answer,
    next_status,
)
from advent.schedules import Schedule

log = logging.getLogger(__name__)

WHATSAPP_WINDOW = timedelta(hours=24)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Engine:
    """What a send needs from the outside world, passed in so tests can fix the clock."""

    session: Session
    provider: Provider
    settings: Settings
    clock: Callable[[], datetime] = utcnow
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    progress: Callable[[int, int], None] | None = None


def add_deliveries(session: Session, subscribers: list[Subscriber], campaign: str, day: date,
                   now: datetime) -> int:
    """Pending deliveries of `day` for these subscribers; one already there is left as it is
    (the unique key decides, inside the database). Returns how many were added."""
    rows = [
        {"subscriber_id": s.id, "campaign": campaign, "day": day, "channel": s.channel,
         "address": address(s.phone, s.channel), "status": "pending", "attempts": 0,
         "used_template": False, "template_only": False, "created_at": now, "updated_at": now}
        for s in subscribers
    ]
    return insert_ignoring_duplicates(
        session, Delivery.__table__, rows, ["subscriber_id", "campaign", "day"]
    )


def plan_day(session: Session, schedule: Schedule, day: date, now: datetime) -> int:
    """One pending delivery per active subscriber; re-planning adds nothing. Returns rows added."""
    query = select(Subscriber).where(
        Subscriber.campaign == schedule.campaign,
        Subscriber.status == "active",
        Subscriber.channel.in_(schedule.channels),
    )
    if schedule.late_joiners == "tomorrow":
        # Someone who joined after the day's send time starts with the next day's post.
        query = query.where(Subscriber.joined_at <= schedule.send_at(day))
    added = add_deliveries(session, list(session.exec(query).all()), schedule.campaign, day, now)
    session.commit()
    return added


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


def _claim(engine: Engine, delivery_id: int, now: datetime) -> str | None:
    """Take one pending row for this dispatcher; None if another got there first."""
    token = uuid.uuid4().hex
    result = engine.session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == "pending",
            or_(Delivery.next_attempt_at == None, Delivery.next_attempt_at <= now),  # noqa: E711
        )
        .values(status="claimed", claim_token=token, claimed_at=now, updated_at=now,
                attempts=Delivery.attempts + 1)
    )
    engine.session.commit()
    return token if result.rowcount == 1 else None


def record_handover(engine: Engine, delivery: Delivery, result: SendResult, now: datetime,
                    source: str = "engine") -> None:
    """Store the provider's id and first status, then any receipts that beat us here."""
    # Read the row afresh (and lock it where the database can): a receipt carrying this
    # delivery's id may have moved it on while the provider was answering us.
    delivery = engine.session.get(Delivery, delivery.id, populate_existing=True,
                                  with_for_update=True)
    engine.session.add(DeliveryEvent(
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
        engine.session.add(delivery)
    engine.session.flush()
    apply_early_receipts(engine.session, delivery, engine.provider.explain, now)
    engine.session.commit()


def _send_one(engine: Engine, limiter: RateLimiter, delivery: Delivery, message: OutgoingMessage
              ) -> None:
    limiter.wait(message.channel)
    try:
        result = engine.provider.send(message)
    except ProviderError as error:
        settle_error(engine, delivery, message, error)
        return
    except Exception as error:  # a provider bug must not leave the row claimed forever
        log.exception("provider crashed sending delivery %s", delivery.id)
        settle_error(engine, delivery, message,
                     ProviderError(f"unexpected error: {error}", maybe_sent=True))
        return
    record_handover(engine, delivery, result, engine.clock())


def backoff_seconds(engine: Engine, attempts: int) -> float:
    """Exponential backoff with full jitter: spreads retries so they don't arrive together."""
    ceiling = min(engine.settings.retry_max_seconds,
                  engine.settings.retry_base_seconds * 2 ** max(0, attempts - 1))
    return engine.rng.uniform(0, ceiling)


def _finish(engine: Engine, delivery: Delivery, status: str, error: ProviderError | None,
            now: datetime, reason: str | None = None) -> None:
    delivery.status = status
    delivery.error_code = error.code if error else None
    delivery.error_reason = reason or (error.reason if error else None)
    delivery.claim_token = None
    delivery.updated_at = now
    engine.session.add(delivery)
    engine.session.add(DeliveryEvent(
        delivery_id=delivery.id, provider_sid=delivery.provider_sid, status=status,
        error_code=delivery.error_code, source="engine", applied=True, received_at=now,
        payload=delivery.error_reason,
    ))


def still_unsettled(engine: Engine, delivery: Delivery) -> Delivery | None:
    """The row afresh (locked where the database can), or None when a receipt has settled it
    meanwhile: then a write from what we read before the provider call would undo that."""
    current = engine.session.get(Delivery, delivery.id, populate_existing=True,
                                 with_for_update=True)
    if awaiting_answer(current):
        return current
    engine.session.commit()
    return None


def settle_error(engine: Engine, delivery: Delivery, message: OutgoingMessage,
                 error: ProviderError) -> None:
    """Record what the provider refused, and decide: retry later, give up, or act on the person."""
    now = engine.clock()
    if error.maybe_sent:
        found = engine.provider.lookup(message, since=delivery.claimed_at or now)
        if found:
            record_handover(engine, delivery, SendResult(found[0].sid, found[0].status), now)
            return
    delivery = still_unsettled(engine, delivery)
    if delivery is None:
        return
    if error.maybe_sent:
        if found is None:
            _finish(engine, delivery, "unknown", error, now,
                    f"the provider could not say whether it was sent ({error.reason}); "
                    "run `advent reconcile` before sending again")
            engine.session.commit()
            return
    if error.action is ErrorAction.RETRY:
        if delivery.attempts < engine.settings.send_max_attempts:
            delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(engine, delivery.attempts))
            _finish(engine, delivery, "pending", error, now)
        else:
            _finish(engine, delivery, "failed", error, now,
                    f"gave up after {delivery.attempts} attempts: {error.reason}")
    elif error.action is ErrorAction.NEEDS_TEMPLATE:
        _finish(engine, delivery, "needs_template", error, now)
    else:
        _finish(engine, delivery, "failed", error, now)
        act_on_error(engine.session, delivery, error.action, error.reason, now)
    engine.session.commit()


def _next_due(engine: Engine, schedule: Schedule, day: date, now: datetime) -> int | None:
    due = engine.session.exec(
        select(Delivery.id)
        .where(Delivery.campaign == schedule.campaign, Delivery.day == day,
               Delivery.status == "pending",
               or_(Delivery.next_attempt_at == None, Delivery.next_attempt_at <= now))  # noqa: E711
        .order_by(Delivery.id).limit(1)
    ).first()
    engine.session.commit()  # end the read: the claim starts its own write transaction
    return due


def _earliest_retry(engine: Engine, schedule: Schedule, day: date) -> datetime | None:
    moment = engine.session.exec(
        select(func.min(Delivery.next_attempt_at)).where(
            Delivery.campaign == schedule.campaign, Delivery.day == day,
            Delivery.status == "pending")
    ).first()
    engine.session.commit()
    return moment


def dispatch_day(engine: Engine, schedule: Schedule, day: date, post: Post,
                 wait_for_retries: bool = True) -> int:
    """Send every pending delivery of the day that this dispatcher can claim; returns how many.

    With `wait_for_retries`, it also sleeps until deliveries waiting on a backoff are due.
    """
    limiter = RateLimiter(engine.settings.send_rate_per_second, engine.sleep)
    total = count_by_status(engine.session, schedule.campaign, day).get("pending", 0)
    handled = 0
    while True:
        now = engine.clock()
        delivery_id = _next_due(engine, schedule, day, now)
        if delivery_id is None:
            retry_at = _earliest_retry(engine, schedule, day) if wait_for_retries else None
            if retry_at is None:
                return handled
            engine.sleep(max(0.0, (retry_at - now).total_seconds()))
            continue
        if _claim(engine, delivery_id, now) is None:
            continue
        delivery = engine.session.get(Delivery, delivery_id, populate_existing=True)
        subscriber = engine.session.get(Subscriber, delivery.subscriber_id, populate_existing=True)
        if subscriber.status != "active":
            # They said STOP (or were removed) after this row was planned; a retry or a
            # re-send must not reach them.
            _finish(engine, delivery, "cancelled", None, now,
                    f"not sent: the subscriber is {subscriber.status}")
            engine.session.commit()
            continue
        message = outgoing(delivery, subscriber, post, schedule, now)
        engine.session.commit()  # no transaction stays open while the provider is called
        _send_one(engine, limiter, delivery, message)
        handled += 1
        if engine.progress:
            engine.progress(handled, max(total, handled))


def count_by_status(session: Session, campaign: str, day: date) -> dict[str, int]:
    rows = session.exec(
        select(Delivery.status, func.count()).where(
            Delivery.campaign == campaign, Delivery.day == day
        ).group_by(Delivery.status)
    ).all()
    return dict(rows)
