"""Reconciliation: settle sends we lost track of by asking the provider what it really sent.

A dispatcher can die between handing a message over and storing the provider's id. Its claim
stays behind; once the claim is older than any live send could take, we ask the provider. If the
provider sent it, we record that; if it definitely did not, the row goes back to be sent; if it
cannot tell, the row is marked unknown and reported, never re-sent blindly.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import update
from sqlmodel import select

from advent.content.posts import Post
from advent.content.schedules import Schedule
from advent.organiser.alerts import alert
from advent.people.phones import mask
from advent.providers.base import ProviderError, SendResult
from advent.sending.dispatch import Sender, outgoing, record_handover, still_unsettled
from advent.states import deliveries
from advent.states.deliveries import DeliveryStatus
from advent.store.tables import Delivery, Subscriber

log = logging.getLogger(__name__)


def _take_over(sender: Sender, delivery: Delivery, cutoff: datetime) -> bool:
    """Re-claim a stale row, so that two recovering processes never both settle it. Only while
    it is still stale: its live dispatcher may have renewed it since it was read."""
    now = sender.clock()
    result = sender.session.exec(
        update(Delivery)
        .where(
            Delivery.id == delivery.id,
            Delivery.status == DeliveryStatus.CLAIMED,
            Delivery.claim_token == delivery.claim_token,
            Delivery.claimed_at <= cutoff,
        )
        .values(claim_token=uuid.uuid4().hex, updated_at=now)
    )
    sender.session.commit()
    return result.rowcount == 1


def recover_stale_claims(
    sender: Sender, schedule: Schedule, day: date, post: Post | None, kind: str = "post"
) -> dict[str, int]:
    """Settle every claim of `kind` on this day older than the claim timeout; returns counts."""
    now = sender.clock()
    cutoff = now - timedelta(seconds=sender.settings.claim_timeout_seconds)
    stale = sender.session.exec(
        select(Delivery).where(
            Delivery.campaign == schedule.campaign,
            Delivery.day == day,
            Delivery.kind == kind,
            Delivery.status == DeliveryStatus.CLAIMED,
            Delivery.claimed_at <= cutoff,
        )
    ).all()
    sender.session.commit()
    outcomes = {"found": 0, "resend": 0, "unknown": 0}
    for delivery in stale:
        if not _take_over(sender, delivery, cutoff):
            continue
        delivery = sender.session.get_one(Delivery, delivery.id, populate_existing=True)
        subscriber = sender.session.get_one(Subscriber, delivery.subscriber_id)
        sender.session.commit()  # never hold the database while asking the provider
        outcomes[_settle_claim(sender, schedule, post, delivery, subscriber)] += 1
    return outcomes


def _settle_claim(
    sender: Sender, schedule: Schedule, post: Post | None, delivery: Delivery, subscriber: Subscriber
) -> str:
    now = sender.clock()
    message = outgoing(delivery, subscriber, post, schedule, now)
    try:
        found = sender.provider.lookup(message, since=(delivery.claimed_at or now) - timedelta(hours=1))
    except ProviderError as error:
        log.warning("lookup for delivery %s failed: %s", delivery.id, error.reason)
        found = None
    if found:
        if len(found) > 1:
            alert(
                sender.session,
                delivery.campaign,
                "duplicate",
                f"{mask(subscriber.phone)} was sent {delivery.day} {len(found)} times by the provider",
                now,
                day=delivery.day,
                subject=str(subscriber.id),
            )
        record_handover(sender, delivery, SendResult(found[0].sid, found[0].status), now, source="reconcile")
        return "found"
    delivery = still_unsettled(sender, delivery)
    if delivery is None:
        return "found"  # a receipt named it while we asked: it went out
    if found is None:
        deliveries.mark_unknown(
            sender.session,
            delivery,
            "a send was interrupted and the provider cannot say whether it "
            "went out; check the provider's log before re-sending",
            now,
        )
        alert(
            sender.session,
            delivery.campaign,
            "unknown_delivery",
            f"{delivery.day}: could not confirm whether {mask(subscriber.phone)} was sent "
            "the post; not re-sent",
            now,
            day=delivery.day,
            subject=str(subscriber.id),
        )
        sender.session.commit()
        return "unknown"
    # The provider definitely has nothing: hand the row back to be sent.
    deliveries.hand_back(sender.session, delivery, now)
    sender.session.commit()
    return "resend"
