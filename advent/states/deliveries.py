"""The delivery state machine: the only code that changes `Delivery.status`.

    (planned) -> pending -> claimed -> accepted/scheduled -> queued -> sending -> sent
              -> delivered -> read;  failed, undelivered, cancelled, needs_template are final

A status reported by the provider only moves forward: callbacks arrive out of order and twice,
a late "sent" must never hide a "delivered", and a failure is final (RapidPro's courier learned
this the hard way). Our own moves (claim, retry, hand back, cancel) are in the same table.

Every change writes a DeliveryEvent beside it: the provider's report, as received, when a report
caused the change; otherwise one saying which status the row took, who moved it and why.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from advent.states.machine import Table
from advent.states.machine import TransitionRefused as TransitionRefused  # what a refused move raises
from advent.store.database import insert_ignoring_duplicates
from advent.store.tables import Delivery, DeliveryEvent


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # planned, or handed back: waits to be claimed
    CLAIMED = "claimed"  # one dispatcher took it and may be handing it over right now
    UNKNOWN = "unknown"  # the provider could not say whether it went out: never re-sent blindly
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    UNDELIVERED = "undelivered"
    CANCELLED = "cancelled"  # never handed over (the person said STOP), or the provider cancelled it
    NEEDS_TEMPLATE = "needs_template"  # WhatsApp needs an approved template and there is none
    # Its moment passed unsent for this friend (the clock was down past the grace, or it would
    # have fallen in their night): never sent late on its own; the reason is on the row.
    MISSED = "missed"


D = DeliveryStatus

# Forward-only order (accepted/scheduled come before queued); a report must rank higher to count.
RANK: dict[str, int] = {
    D.PENDING: 0,
    D.CLAIMED: 1,
    D.UNKNOWN: 1,
    D.ACCEPTED: 2,
    D.SCHEDULED: 2,
    D.QUEUED: 3,
    D.SENDING: 4,
    D.SENT: 5,
    D.DELIVERED: 6,
    D.READ: 7,
}
FAILURES = frozenset({D.FAILED, D.UNDELIVERED, D.CANCELLED})
# Statuses no receipt may change.
SETTLED = FAILURES | {D.NEEDS_TEMPLATE, D.MISSED}
DELIVERED = frozenset({D.DELIVERED, D.READ})
# Handed to the provider (or perhaps handed), with no answer stored yet.
AWAITING_ANSWER = (D.CLAIMED, D.UNKNOWN)
# What a provider may report about a message it took. ("canceled", Twilio's spelling, is not
# ours: a provider reports "cancelled", and anything else is kept as received but changes nothing.)
REPORTABLE = frozenset(D(s) for s, rank in RANK.items() if rank >= RANK[D.ACCEPTED]) | FAILURES


def _reported_after(current: D) -> frozenset[D]:
    """What a receipt may move a handed-over delivery to: anything later, or a failure before
    delivery (Twilio treats delivered as final for SMS; a failure after it is noise)."""
    later = {s for s in REPORTABLE - FAILURES if RANK[s] > RANK[current]}
    return frozenset(later | (set() if current in DELIVERED else FAILURES))


# A send that ended without the provider's id: retry later, give up, need a template, or ask.
_ATTEMPT_ENDS = frozenset({D.PENDING, D.UNKNOWN, D.FAILED, D.NEEDS_TEMPLATE})

MOVES: dict[str | None, frozenset[D]] = {
    None: frozenset({D.PENDING}),  # planned
    D.PENDING: frozenset({D.CLAIMED, D.CANCELLED, D.MISSED}),
    # Claimed: handed over (any report), ended without an id, or cancelled (they said STOP).
    D.CLAIMED: _reported_after(D.CLAIMED) | _ATTEMPT_ENDS | {D.CANCELLED},
    # Unknown: found at the provider after all, asked again (claimed), or still unknown.
    D.UNKNOWN: _reported_after(D.UNKNOWN) | _ATTEMPT_ENDS | {D.CLAIMED},
    **{s: _reported_after(s) for s in (D.ACCEPTED, D.SCHEDULED, D.QUEUED, D.SENDING, D.SENT, D.DELIVERED)},
    D.READ: frozenset(),
    # Back from a failure only when nobody received it: WhatsApp refused the free-form text, so
    # it goes once more as the approved template; or a STOP is undone by rejoining the same day.
    D.FAILED: frozenset({D.PENDING}),
    D.UNDELIVERED: frozenset({D.PENDING}),
    D.CANCELLED: frozenset({D.PENDING}),
    D.NEEDS_TEMPLATE: frozenset(),
    # Sent by hand after all (`advent send --date`), which the organiser may choose to do.
    D.MISSED: frozenset({D.PENDING}),
}


def _reasons() -> dict[tuple[str | None, str], str]:
    reasons: dict[tuple[str | None, str], str] = {}
    for current in map(D, RANK):
        for target in map(D, RANK):
            if RANK[target] <= RANK[current] and current not in (D.PENDING, D.CLAIMED, D.UNKNOWN):
                reasons[(current, target)] = (
                    f"a delivery's status only moves forward, and {target} does not come after {current}"
                )
    for failure in FAILURES:
        for done in DELIVERED:
            reasons[(done, failure)] = (
                "it was delivered; a failure reported afterwards is noise (delivered is final)"
            )
    for target in set(D) - MOVES[D.PENDING]:
        reasons[(D.PENDING, target)] = "it was never handed over; it must be claimed first (or cancelled)"
    return reasons


TABLE: Table[D] = Table("a delivery", MOVES, _reasons())


def awaiting_answer(delivery: Delivery) -> bool:
    """True while a send's answer (the provider's id) is still to come for this delivery."""
    return delivery.provider_sid is None and delivery.status in AWAITING_ANSWER


def next_status(current: str, reported: str) -> D | None:
    """The delivery's new status after a provider's report, or None when it changes nothing."""
    if current in SETTLED or reported not in REPORTABLE:
        return None
    if reported in FAILURES:
        target = None if current in DELIVERED else D(reported)
    else:
        target = D(reported) if RANK[reported] > RANK.get(current, -1) else None
    # The table has the last word: a receipt never moves a row that was not handed over.
    return target if target is not None and TABLE.allows(current, target) else None


def _event(
    delivery_id: int | None,
    status: str,
    now: datetime,
    source: str,
    *,
    sid: str | None = None,
    error_code: str | None = None,
    reason: str | None = None,
) -> DeliveryEvent:
    return DeliveryEvent(
        delivery_id=delivery_id,
        provider_sid=sid,
        status=status,
        error_code=error_code,
        source=source,
        applied=True,
        received_at=now,
        payload=reason,
    )


def move(
    session: Session,
    delivery: Delivery,
    to: D,
    now: datetime,
    *,
    source: str,
    reason: str | None = None,
    error_code: str | None = None,
    report: DeliveryEvent | None = None,
) -> None:
    """The one way a delivery's status changes: checked against the table, with its event.

    `report`: the provider's report that caused the change, already stored as received; it is
    this change's event. Otherwise an event is written naming the new status and `source`.
    """
    target = D(to)
    TABLE.check(delivery.status, target)
    delivery.status = target.value
    delivery.updated_at = now
    session.add(delivery)
    if report is None:
        session.add(
            _event(
                delivery.id,
                target,
                now,
                source,
                sid=delivery.provider_sid,
                error_code=error_code,
                reason=reason,
            )
        )


def insert_pending(session: Session, rows: list[dict[str, Any]]) -> int:
    """Add planned deliveries as pending; one already there is left as it is (the unique key
    decides, inside the database). Returns how many were added. No event: nothing changed yet."""
    TABLE.check(None, D.PENDING)
    planned = [{**row, "status": D.PENDING.value, "attempts": 0} for row in rows]
    return insert_ignoring_duplicates(
        session,
        Delivery,
        planned,
        ["subscriber_id", "campaign", "day", "kind", "ref"],
    )


def mark_handed_over(
    session: Session,
    delivery: Delivery,
    sid: str,
    reported: str,
    used_template: bool,
    now: datetime,
    source: str = "sender",
) -> None:
    """Store the provider's id and first status (as reported, in an event); the caller has read
    the row afresh, and applies any receipts that beat us here."""
    event = _event(delivery.id, reported, now, source, sid=sid)
    session.add(event)
    if delivery.provider_sid is None and not awaiting_answer(delivery):
        # A receipt already settled this message (e.g. WhatsApp refused it and the row waits
        # to go again as a template): keep that decision.
        return
    delivery.provider_sid = delivery.provider_sid or sid
    delivery.used_template = used_template
    delivery.handed_over_at = delivery.handed_over_at or now
    target = next_status(delivery.status, reported) or D(delivery.status)
    if target in AWAITING_ANSWER:
        target = D.QUEUED  # the provider took it, whatever it called its first status
    if target not in FAILURES:
        delivery.error_code = delivery.error_reason = None
    if target != delivery.status:
        move(session, delivery, target, now, source=source, report=event)
    delivery.updated_at = now
    session.add(delivery)


def finish_attempt(
    session: Session,
    delivery: Delivery,
    to: D,
    now: datetime,
    *,
    error_code: str | None = None,
    reason: str | None = None,
) -> None:
    """A send that ended without the provider's id: pending (retry), unknown, failed,
    needs_template or cancelled, with the provider's code and reason."""
    delivery.error_code = error_code
    delivery.error_reason = reason
    delivery.claim_token = None
    move(session, delivery, to, now, source="sender", reason=reason, error_code=error_code)


def mark_unknown(session: Session, delivery: Delivery, reason: str, now: datetime) -> None:
    """An interrupted send the provider cannot account for: reported, never re-sent blindly."""
    delivery.error_reason = reason
    move(session, delivery, D.UNKNOWN, now, source="reconcile", reason=reason)


def hand_back(session: Session, delivery: Delivery, now: datetime) -> None:
    """The provider definitely has nothing: the row goes back to be sent."""
    delivery.claim_token = None
    delivery.next_attempt_at = None
    move(
        session,
        delivery,
        D.PENDING,
        now,
        source="reconcile",
        reason="the provider has no record of it: handed back to be sent",
    )


def resend_as_template(session: Session, delivery: Delivery, reason: str, now: datetime) -> None:
    """WhatsApp refused the free-form text, so nobody received it: hand the row back once, to be
    sent as the approved template (the sender records needs_template if there is none)."""
    delivery.template_only = True
    delivery.provider_sid = None  # the refused message stays in the delivery's events
    delivery.claim_token = None
    delivery.next_attempt_at = None
    delivery.error_reason = f"{reason}; sending it again as the approved template"
    move(session, delivery, D.PENDING, now, source="receipt", reason=delivery.error_reason)


def apply_receipt(
    session: Session,
    delivery: Delivery,
    report: DeliveryEvent,
    to: D,
    now: datetime,
    reason: str | None = None,
) -> None:
    """Move a delivery as a provider's report says (`to` from next_status); a failure keeps
    the report's code and `reason`, its plain meaning."""
    if to in FAILURES:
        delivery.error_code = report.error_code
        delivery.error_reason = reason
    move(session, delivery, to, now, source=report.source, report=report)


def wait_for_morning(session: Session, delivery: Delivery, until: datetime, now: datetime) -> None:
    """A claimed row whose friend is in their night: handed back unsent, to go at `until`. Not
    an attempt, so it does not count towards the attempts a send may take."""
    delivery.claim_token = None
    delivery.attempts = max(0, delivery.attempts - 1)
    delivery.next_attempt_at = until
    move(
        session,
        delivery,
        D.PENDING,
        now,
        source="sender",
        reason=f"not sent in the friend's night: waits for their morning ({until.isoformat()})",
    )


def plan_missed(session: Session, rows: list[dict[str, Any]], reason: str, now: datetime) -> int:
    """Record deliveries of one day whose moment passed unsent: planned, then missed at once,
    with the reason on each row and its event. A row already there is left as it is (one
    planned meanwhile stays pending). Returns how many were recorded missed."""
    if not rows:
        return 0
    added = insert_pending(session, rows)
    if not added:
        return 0
    where = [
        Delivery.campaign == rows[0]["campaign"],
        Delivery.day == rows[0]["day"],
        Delivery.kind == "post",
        col(Delivery.subscriber_id).in_([row["subscriber_id"] for row in rows]),
        Delivery.attempts == 0,
        Delivery.created_at == now,
    ]
    return _bulk(session, where, D.PENDING, D.MISSED, now, "sender", reason, error_reason=reason)


def miss_overdue(
    session: Session, campaign: str, days: list[date], cutoff: datetime, reason: str, now: datetime
) -> int:
    """Pending posts due before `cutoff` (their moment plus the grace window) are missed, not
    sent late. Rows from before due times were kept (due_at empty) are left alone."""
    return _bulk(
        session,
        [
            Delivery.campaign == campaign,
            Delivery.day.in_(days),
            Delivery.kind == "post",
            Delivery.due_at.is_not(None),
            Delivery.due_at < cutoff,
        ],
        D.PENDING,
        D.MISSED,
        now,
        "sender",
        reason,
        error_reason=reason,
        claim_token=None,
    )


def send_missed_by_hand(session: Session, campaign: str, day: date, now: datetime) -> int:
    """The organiser sends a day by hand: its missed rows go back to be sent, due now."""
    return _bulk(
        session,
        [Delivery.campaign == campaign, Delivery.day == day, Delivery.kind == "post"],
        D.MISSED,
        D.PENDING,
        now,
        "sender",
        "sent by hand by the organiser",
        error_reason=None,
        due_at=now,
        next_attempt_at=None,
    )


def uncancel(session: Session, delivery: Delivery, now: datetime) -> None:
    """Someone who said STOP before today's post reached them came back: send it after all."""
    delivery.error_reason = None
    move(
        session,
        delivery,
        D.PENDING,
        now,
        source="late_joiner",
        reason="they joined again before the day was over",
    )


def _bulk(
    session: Session,
    where: list[Any],
    current: D,
    to: D,
    now: datetime,
    source: str,
    reason: str | None,
    **values: Any,
) -> int:
    """Move every row matching `where` from `current` to `to` in one UPDATE; an event per row."""
    TABLE.check(current, to)
    moved = (
        session.execute(
            update(Delivery)
            .where(Delivery.status == current, *where)
            .values(status=to.value, updated_at=now, **values)
            .returning(Delivery.id)
        )
        .scalars()
        .all()
    )
    session.add_all([_event(delivery_id, to, now, source, reason=reason) for delivery_id in moved])
    return len(moved)


def cancel_unsent(session: Session, subscriber_id: int, reason: str, now: datetime) -> int:
    """Cancel a person's deliveries not yet handed to the provider; returns how many."""
    return _bulk(
        session,
        [Delivery.subscriber_id == subscriber_id],
        D.PENDING,
        D.CANCELLED,
        now,
        "subscriber",
        reason,
        error_reason=reason,
    )


def reopen_unknown(
    session: Session, campaign: str, day: date, claimed_before: datetime, now: datetime
) -> int:
    """Put "unknown" sends without an id back as stale claims, so that recovery asks the
    provider about them again. Commits; returns how many."""
    reopened = _bulk(
        session,
        [
            Delivery.provider_sid.is_(None),
            Delivery.claimed_at <= claimed_before,
            Delivery.campaign == campaign,
            Delivery.day == day,
        ],
        D.UNKNOWN,
        D.CLAIMED,
        now,
        "reconcile",
        "asked the provider again",
        claim_token="reconcile",
    )
    session.commit()
    return reopened


def retry_failed(session: Session, where: list[Any], now: datetime) -> int:
    """The organiser's "retry the failed ones": failed and undelivered rows matching `where` go
    back to pending, to be sent afresh. Returns how many; the caller commits.

    The old message's id is let go (it stays in the row's events, so its late receipts cannot
    claim the new attempt), and the attempts start again from nothing, as for a new send.
    """
    reason = "handed back by the organiser to be sent again"
    values: dict[str, Any] = {
        "provider_sid": None,
        "claim_token": None,
        "next_attempt_at": None,
        "handed_over_at": None,
        "attempts": 0,
    }
    return sum(
        _bulk(session, where, failure, D.PENDING, now, "organiser", reason, **values)
        for failure in (D.FAILED, D.UNDELIVERED)
    )
