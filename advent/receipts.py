"""Receipts: status reports about deliveries, from Twilio's callbacks or the simulator alike.

Every report is stored as received, then applied through the delivery state machine
(advent.states.deliveries), whose one rule is that a status only moves forward: callbacks
arrive out of order and twice, a late "sent" must never hide a "delivered", a failure is final.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from advent.organiser.alerts import alert
from advent.people import sanitise
from advent.people.subscriptions import mark_invalid, stop_subscriber
from advent.providers.base import ErrorAction, Provider, StatusReport
from advent.states import deliveries
from advent.states.deliveries import RANK, awaiting_answer
from advent.store.tables import Delivery, DeliveryEvent, Subscriber

log = logging.getLogger(__name__)

Explain = Callable[[str | None], tuple[ErrorAction, str]]


@dataclass(frozen=True)
class ReceiptOutcome:
    duplicate: bool = False
    matched: bool = False
    changed: bool = False


def _is_duplicate(session: Session, report: StatusReport) -> bool:
    if report.idempotency_token:
        seen = session.exec(
            select(DeliveryEvent.id).where(DeliveryEvent.idempotency_token == report.idempotency_token)
        ).first()
        if seen:
            return True
    return (
        session.exec(
            select(DeliveryEvent.id).where(
                DeliveryEvent.provider_sid == report.sid, DeliveryEvent.status == report.status
            )
        ).first()
        is not None
    )


def _find_delivery(session: Session, report: StatusReport) -> Delivery | None:
    # FOR UPDATE: on PostgreSQL two callbacks for one message (sent, delivered, read within
    # milliseconds, in two web workers) must apply one after the other, or the later status
    # could be overwritten by the earlier. (SQLite already runs writers one at a time.)
    delivery = session.exec(
        select(Delivery).where(Delivery.provider_sid == report.sid).with_for_update()
    ).first()
    # sanitise.report keeps only a reference that can be one of our ids.
    if delivery is None and report.reference:
        delivery = session.get(Delivery, int(report.reference), with_for_update=True)
        if delivery is None or _earlier_attempt(session, delivery, report.sid):
            return None
        if awaiting_answer(delivery):
            # The receipt beat the send's answer (or the sender crashed): now we know the id.
            delivery.provider_sid = report.sid
        elif delivery.provider_sid != report.sid:
            return None  # a row that was never handed over
    return delivery


def _earlier_attempt(session: Session, delivery: Delivery, sid: str) -> bool:
    """True when `sid` is a message this delivery already had (e.g. the free-form text WhatsApp
    refused before the template went): its late receipts must not claim the new attempt."""
    return (
        session.exec(
            select(DeliveryEvent.id).where(
                DeliveryEvent.delivery_id == delivery.id, DeliveryEvent.provider_sid == sid
            )
        ).first()
        is not None
    )


def record_receipt(
    session: Session, report: StatusReport, *, source: str, explain: Explain, now: datetime
) -> ReceiptOutcome:
    """Store a receipt and apply it to its delivery if known; the caller commits."""
    report = sanitise.report(report)
    # The delivery is locked first and duplicates looked for after: two copies of one callback
    # in two workers then take turns, and the second sees the first's event.
    delivery = _find_delivery(session, report)
    if _is_duplicate(session, report):
        return ReceiptOutcome(duplicate=True)
    event = DeliveryEvent(
        delivery_id=delivery.id if delivery else None,
        provider_sid=report.sid,
        status=report.status,
        error_code=report.error_code,
        source=source,
        idempotency_token=report.idempotency_token,
        applied=delivery is not None,
        payload=json.dumps(report.raw) if report.raw else None,
        received_at=now,
    )
    try:
        # A savepoint: a copy of this callback stored by another worker meanwhile (same
        # idempotency token) costs only this event, never the caller's transaction.
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        return ReceiptOutcome(duplicate=True)
    if delivery is None:
        # Kept unapplied: apply_early_receipts picks it up once the send's answer is stored.
        log.info("receipt for unknown message %s (%s) kept", report.sid, report.status)
        return ReceiptOutcome()
    changed = apply_status(session, delivery, event, explain, now)
    return ReceiptOutcome(matched=True, changed=changed)


def apply_status(
    session: Session, delivery: Delivery, report: DeliveryEvent, explain: Explain, now: datetime
) -> bool:
    """Apply one stored report to its delivery; False when it changes nothing (not forward)."""
    new = deliveries.next_status(delivery.status, report.status)
    if new is None:
        return False
    if new not in deliveries.FAILURES:
        deliveries.apply_receipt(session, delivery, report, new, now)
        return True
    action, reason = explain(report.error_code)
    deliveries.apply_receipt(session, delivery, report, new, now, reason=reason)
    if action is ErrorAction.NEEDS_TEMPLATE and not delivery.template_only:
        deliveries.resend_as_template(session, delivery, reason, now)
    else:
        act_on_error(session, delivery, action, reason, now)
    return True


def act_on_error(
    session: Session, delivery: Delivery, action: ErrorAction, reason: str, now: datetime
) -> None:
    """What a provider's verdict means for the person, beyond this one message."""
    subscriber = session.get(Subscriber, delivery.subscriber_id)
    if subscriber is None:
        return
    if action is ErrorAction.OPTED_OUT:
        stop_subscriber(session, subscriber, method="provider_error", text=reason, now=now)
    elif action is ErrorAction.INVALID_NUMBER:
        mark_invalid(session, subscriber, reason=reason, now=now)
    elif action in (ErrorAction.CAMPAIGN_ALERT, ErrorAction.CONTENT_ALERT):
        alert(
            session,
            delivery.campaign,
            action.value,
            f"{delivery.campaign} {delivery.day}: {reason}",
            now,
            day=delivery.day,
            subject=delivery.error_code,
        )


def apply_early_receipts(session: Session, delivery: Delivery, explain: Explain, now: datetime) -> None:
    """Apply receipts that arrived before we stored this delivery's provider id."""
    if not delivery.provider_sid:
        return
    early = session.exec(
        select(DeliveryEvent)
        .where(
            DeliveryEvent.provider_sid == delivery.provider_sid,
            DeliveryEvent.applied.is_(False),
        )
        .order_by(DeliveryEvent.id)
    ).all()
    for event in sorted(early, key=lambda e: RANK.get(e.status, 99)):
        event.delivery_id = delivery.id
        event.applied = True
        session.add(event)
        apply_status(session, delivery, event, explain, now)


def collect_receipts(session: Session, provider: Provider, now: datetime) -> int:
    """Pull due receipts from a provider that keeps them (the simulator); returns how many.

    They are acknowledged only after they are committed here, so none is lost in between.
    """
    reports = provider.collect_receipts(now)
    try:
        for report in reports:
            record_receipt(session, report, source=provider.name, explain=provider.explain, now=now)
        session.commit()
    except IntegrityError:
        # Another collector stored some of these at the same moment: store the rest one by one.
        session.rollback()
        for report in reports:
            try:
                record_receipt(session, report, source=provider.name, explain=provider.explain, now=now)
                session.commit()
            except IntegrityError:
                session.rollback()
    provider.acknowledge_receipts(reports)
    return len(reports)
