"""The delivery sender: plan a day, claim each delivery once, hand it to the provider.

Exactly once rests on three things: the delivery row is written (and unique per subscriber,
campaign and day) before the provider is called; a row is claimed by a conditional update that
only one dispatcher can win (on PostgreSQL, one that skips rows other dispatchers hold); and a
claim left without a provider id after a crash is settled by asking the provider what it sent
before anything is sent again.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, func, select

from advent.config import Settings
from advent.content.posts import Post
from advent.content.schedules import Schedule
from advent.providers.base import ErrorAction, OutgoingMessage, Provider, ProviderError, SendResult
from advent.receipts import act_on_error, apply_early_receipts
from advent.sending.pace import Pace
from advent.sending.plan import count_by_status
from advent.sending.templates import ApprovedTemplate, approved_template
from advent.states import deliveries
from advent.states.deliveries import DeliveryStatus, awaiting_answer
from advent.states.subscribers import SubscriberStatus
from advent.store.tables import Delivery, Subscriber, utcnow

log = logging.getLogger(__name__)

WHATSAPP_WINDOW = timedelta(hours=24)
# Who may still receive each kind of delivery when its turn comes: a post goes to people on the
# list, an invite only to someone still invited (not since stopped, joined or removed).
RECEIVES = {"post": SubscriberStatus.ACTIVE, "invite": SubscriberStatus.INVITED}


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


def outgoing(
    delivery: Delivery,
    subscriber: Subscriber,
    post: Post | None,
    schedule: Schedule,
    now: datetime,
    approved: ApprovedTemplate | None = None,
) -> OutgoingMessage:
    last = subscriber.last_inbound_at
    if delivery.kind == "invite":
        # An invite's text is on its row; on WhatsApp only the approved invite template may
        # open the conversation.
        return OutgoingMessage(
            reference=str(delivery.id),
            to=subscriber.phone,
            channel=delivery.channel,
            body=delivery.body or "",
            kind="invite",
            template_sid=schedule.whatsapp_invite_template_sid,
            template_variables=schedule.whatsapp_invite_template_variables,
            in_session_window=last is not None and now - last < WHATSAPP_WINDOW,
        )
    assert post is not None, "a post's delivery is sent with its post"
    # A template goes with its own variables: the post's pair, or else the schedule's; with
    # neither named, the one `advent templates` made and Meta approved (`approved`).
    if post.template_sid:
        sid, variables = post.template_sid, post.template_variables
    elif schedule.whatsapp_template_sid:
        sid, variables = schedule.whatsapp_template_sid, schedule.whatsapp_template_variables
    elif approved is not None:
        sid, variables = approved.sid, approved.variables(post.text)
    else:
        sid, variables = None, {}
    return OutgoingMessage(
        reference=str(delivery.id),
        to=subscriber.phone,
        channel=delivery.channel,
        body=post.text,
        media_url=post.media_url,
        template_sid=sid,
        template_variables=variables,
        in_session_window=(not delivery.template_only and last is not None and now - last < WHATSAPP_WINDOW),
    )


def record_handover(
    sender: Sender, delivery: Delivery, result: SendResult, now: datetime, source: str = "sender"
) -> None:
    """Store the provider's id and first status, then any receipts that beat us here."""
    # Read the row afresh (and lock it where the database can): a receipt carrying this
    # delivery's id may have moved it on while the provider was answering us.
    delivery = sender.session.get_one(Delivery, delivery.id, populate_existing=True, with_for_update=True)
    deliveries.mark_handed_over(
        sender.session, delivery, result.sid, result.status, result.used_template, now, source
    )
    sender.session.flush()
    apply_early_receipts(sender.session, delivery, sender.provider.explain, now)
    sender.session.commit()


def _send_one(sender: Sender, pace: Pace, delivery: Delivery, message: OutgoingMessage) -> None:
    pace.wait(message.channel)
    try:
        result = sender.provider.send(message)
    except ProviderError as error:
        settle_error(sender, delivery, message, error)
        return
    except Exception as error:  # a provider bug must not leave the row claimed forever
        log.exception("provider crashed sending delivery %s", delivery.id)
        settle_error(sender, delivery, message, ProviderError(f"unexpected error: {error}", maybe_sent=True))
        return
    record_handover(sender, delivery, result, sender.clock())


def backoff_seconds(sender: Sender, attempts: int) -> float:
    """Exponential backoff with full jitter: spreads retries so they don't arrive together."""
    ceiling = min(
        sender.settings.retry_max_seconds, sender.settings.retry_base_seconds * 2 ** max(0, attempts - 1)
    )
    return sender.rng.uniform(0, ceiling)


def _finish(
    sender: Sender,
    delivery: Delivery,
    status: DeliveryStatus,
    error: ProviderError | None,
    now: datetime,
    reason: str | None = None,
) -> None:
    deliveries.finish_attempt(
        sender.session,
        delivery,
        status,
        now,
        error_code=error.code if error else None,
        reason=reason or (error.reason if error else None),
    )


def still_unsettled(sender: Sender, delivery: Delivery) -> Delivery | None:
    """The row afresh (locked where the database can), or None when a receipt has settled it
    meanwhile: then a write from what we read before the provider call would undo that."""
    current = sender.session.get_one(Delivery, delivery.id, populate_existing=True, with_for_update=True)
    if awaiting_answer(current):
        return current
    sender.session.commit()
    return None


def settle_error(sender: Sender, delivery: Delivery, message: OutgoingMessage, error: ProviderError) -> None:
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
            _finish(
                sender,
                delivery,
                DeliveryStatus.UNKNOWN,
                error,
                now,
                f"the provider could not say whether it was sent ({error.reason}); "
                "run `advent reconcile` before sending again",
            )
            sender.session.commit()
            return
    if error.action is ErrorAction.RETRY:
        if delivery.attempts < sender.settings.send_max_attempts:
            delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(sender, delivery.attempts))
            _finish(sender, delivery, DeliveryStatus.PENDING, error, now)
        else:
            _finish(
                sender,
                delivery,
                DeliveryStatus.FAILED,
                error,
                now,
                f"gave up after {delivery.attempts} attempts: {error.reason}",
            )
    elif error.action is ErrorAction.NEEDS_TEMPLATE:
        _finish(sender, delivery, DeliveryStatus.NEEDS_TEMPLATE, error, now)
    else:
        _finish(sender, delivery, DeliveryStatus.FAILED, error, now)
        act_on_error(sender.session, delivery, error.action, error.reason, now)
    sender.session.commit()


def _earliest_retry(sender: Sender, schedule: Schedule, day: date, kind: str = "post") -> datetime | None:
    moment = sender.session.exec(
        select(func.min(Delivery.next_attempt_at)).where(
            Delivery.campaign == schedule.campaign,
            Delivery.day == day,
            Delivery.kind == kind,
            Delivery.status == DeliveryStatus.PENDING,
        )
    ).first()
    sender.session.commit()
    return moment


def dispatch_day(
    sender: Sender,
    schedule: Schedule,
    day: date,
    post: Post | None,
    wait_for_retries: bool = True,
    kind: str = "post",
) -> int:
    """Send every pending delivery of the day that this dispatcher can claim; returns how many.

    With `wait_for_retries`, it also sleeps until deliveries waiting on a backoff are due.
    `kind`: the day's posts, or its invites (whose text is on each row, so `post` is None).
    """
    # The pace is shared through the database with every other process sending (pace.py).
    pace = Pace(sender.session, sender.settings.send_rate_per_second, sender.sleep)
    total = count_by_status(sender.session, schedule.campaign, day).get(DeliveryStatus.PENDING, 0)
    # Looked up once per day's send, not per friend: approval changes over days, not seconds.
    approved = approved_template(sender.session, sender.provider.name, schedule.campaign, day)
    handled = 0
    while True:
        now = sender.clock()
        delivery_id = deliveries.claim_next(sender.session, schedule.campaign, day, kind, now)
        if delivery_id is None:
            retry_at = _earliest_retry(sender, schedule, day, kind) if wait_for_retries else None
            if retry_at is None:
                return handled
            sender.sleep(max(0.0, (retry_at - now).total_seconds()))
            continue
        delivery = sender.session.get_one(Delivery, delivery_id, populate_existing=True)
        subscriber = sender.session.get_one(Subscriber, delivery.subscriber_id, populate_existing=True)
        if subscriber.status != RECEIVES[kind]:
            # They said STOP (or were removed) after this row was planned; a retry or a
            # re-send must not reach them.
            _finish(
                sender,
                delivery,
                DeliveryStatus.CANCELLED,
                None,
                now,
                f"not sent: the subscriber is {subscriber.status}",
            )
            sender.session.commit()
            continue
        message = outgoing(delivery, subscriber, post, schedule, now, approved)
        sender.session.commit()  # no transaction stays open while the provider is called
        _send_one(sender, pace, delivery, message)
        handled += 1
        if sender.progress:
            sender.progress(handled, max(total, handled))
