"""The sender, and what becomes of one message: built from its delivery, handed to the
provider, and the answer stored: the provider's id (handed over), or a refusal settled (retry
later, give up, ask the provider, act on the person).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from advent.config import Settings
from advent.content.posts import Post
from advent.content.schedules import Schedule
from advent.providers.base import ErrorAction, OutgoingMessage, Provider, ProviderError, SendResult
from advent.receipts import act_on_error, apply_early_receipts
from advent.sending.in_flight import Handover
from advent.sending.templates import ApprovedTemplate
from advent.states import deliveries
from advent.states.deliveries import DeliveryStatus, awaiting_answer
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
    in_window = last is not None and now - last < WHATSAPP_WINDOW
    # The evening preview (advent.organiser.canary) to an organiser on WhatsApp outside their
    # 24-hour window goes exactly as a friend outside theirs gets the post: as the approved
    # template, built below; anywhere else, as the marked preview on its row.
    preview_as_template = (
        delivery.kind == "organiser" and delivery.ref == "canary" and post is not None
        and delivery.channel == "whatsapp" and not in_window
    )  # fmt: skip
    if delivery.kind == "organiser" and not preview_as_template:
        # A text to the organiser's own phone (advent.organiser.own_phone): its words are on
        # its row, free-form (on WhatsApp it reaches them within their 24-hour window).
        return OutgoingMessage(
            reference=str(delivery.id),
            to=subscriber.phone,
            channel=delivery.channel,
            body=delivery.body or "",
            kind="organiser",
            in_session_window=in_window,
        )
    assert post is not None, "a post's delivery is sent with its post"
    # A template goes with its own variables: the post's pair, or else the schedule's; with
    # neither named, the one `advent templates` made and Meta approved (`approved`).
    if post.template_sid:
        sid, variables = post.template_sid, post.template_variables
    elif schedule.whatsapp_template_sid:
        sid, variables = schedule.whatsapp_template_sid, schedule.whatsapp_template_variables
    elif approved is not None:
        sid, variables = approved.sid, approved.variables(post)
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
        kind="organiser" if preview_as_template else "post",
    )


def record_handovers(
    sender: Sender, answered: list[tuple[int, SendResult]], now: datetime, source: str = "sender"
) -> None:
    """Store each provider id and first status, then any receipts that beat us here; one commit."""
    if not answered:
        return
    session = sender.session
    # Read the rows afresh (and lock them where the database can): a receipt carrying a
    # delivery's id may have moved it on while the provider was answering us.
    rows = session.exec(
        select(Delivery)
        .where(col(Delivery.id).in_([delivery_id for delivery_id, _ in answered]))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    by_id = {row.id: row for row in rows}
    for delivery_id, result in answered:
        deliveries.mark_handed_over(
            session, by_id[delivery_id], result.sid, result.status, result.used_template, now, source
        )
    session.flush()
    # One query finds whether any receipt beat its message here (rare: it needs the provider's
    # callback to arrive before its own answer), rather than one query a message.
    early = set(
        session.exec(
            select(DeliveryEvent.provider_sid).where(
                col(DeliveryEvent.provider_sid).in_([result.sid for _, result in answered]),
                col(DeliveryEvent.applied).is_(False),
            )
        ).all()
    )
    for delivery_id, result in answered:
        if result.sid in early:
            apply_early_receipts(session, by_id[delivery_id], sender.provider.explain, now)
    session.commit()


def record_handover(
    sender: Sender, delivery: Delivery, result: SendResult, now: datetime, source: str = "sender"
) -> None:
    """Store one provider id and first status (see record_handovers)."""
    assert delivery.id is not None, "a delivery is stored before it is sent"
    record_handovers(sender, [(delivery.id, result)], now, source)


def backoff_seconds(sender: Sender, attempts: int) -> float:
    """Exponential backoff with full jitter: spreads retries so they don't arrive together."""
    ceiling = min(
        sender.settings.retry_max_seconds, sender.settings.retry_base_seconds * 2 ** max(0, attempts - 1)
    )
    return sender.rng.uniform(0, ceiling)


def finish_attempt(
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
    assert delivery.id is not None
    return _unsettled(sender, delivery.id)


def _unsettled(sender: Sender, delivery_id: int) -> Delivery | None:
    current = sender.session.get_one(Delivery, delivery_id, populate_existing=True, with_for_update=True)
    if awaiting_answer(current):
        return current
    sender.session.commit()
    return None


def settle_error(sender: Sender, handover: Handover, error: ProviderError) -> None:
    """Record what the provider refused, and decide: retry later, give up, or act on the person."""
    now = sender.clock()
    if error.maybe_sent:
        found = sender.provider.lookup(handover.message, since=handover.claimed_at or now)
        if found:
            record_handovers(sender, [(handover.delivery_id, SendResult(found[0].sid, found[0].status))], now)
            return
    delivery = _unsettled(sender, handover.delivery_id)
    if delivery is None:
        return
    if error.maybe_sent:
        if found is None:
            finish_attempt(
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
            finish_attempt(sender, delivery, DeliveryStatus.PENDING, error, now)
        else:
            finish_attempt(
                sender,
                delivery,
                DeliveryStatus.FAILED,
                error,
                now,
                f"gave up after {delivery.attempts} attempts: {error.reason}",
            )
    elif error.action is ErrorAction.NEEDS_TEMPLATE:
        finish_attempt(sender, delivery, DeliveryStatus.NEEDS_TEMPLATE, error, now)
    else:
        finish_attempt(sender, delivery, DeliveryStatus.FAILED, error, now)
        act_on_error(sender.session, delivery, error.action, error.reason, now)
    sender.session.commit()
