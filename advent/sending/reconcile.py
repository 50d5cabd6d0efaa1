"""Stuck deliveries: ask the provider what really happened, and never send anything twice.

Two ways a delivery gets stuck:
- it was handed over (we hold the provider's id) but no final receipt came for a long time:
  a status callback got lost while the server was down or a proxy refused it. Its current
  status is fetched and applied through the same receipt code as the callbacks.
- it was claimed and never got an id (the sender died mid-send), or the provider could not say
  whether it went out ("unknown"). These are settled by `advent.sending.recovery`, which asks the
  provider what it sent to that number before anything is sent again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, and_, or_, true
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from advent.content.posts import ContentError, load_post
from advent.content.schedules import Schedule
from advent.providers.base import StatusReport
from advent.receipts import record_receipt
from advent.sending.dispatch import Sender
from advent.sending.recovery import recover_stale_claims
from advent.states import deliveries
from advent.states.deliveries import DeliveryStatus as D
from advent.store.tables import Delivery

# Handed over, no final word yet. "unknown" rows with an id are asked too: the id proves it went.
WAITING = (D.ACCEPTED, D.SCHEDULED, D.QUEUED, D.SENDING, D.SENT, D.UNKNOWN)
# After a week a status will not change any more (SMS can stay "sent" for good without a DLR).
MAX_AGE = timedelta(days=7)


@dataclass
class StuckSummary:
    asked: int = 0
    moved_on: int = 0
    unchanged: int = 0
    unanswered: int = 0
    lost_sends: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def lines(self, provider: str) -> list[str]:
        lines = [
            (
                f"asked {provider} about {self.asked} deliveries waiting for a receipt: "
                f"{self.moved_on} moved on, {self.unchanged} unchanged, "
                f"{self.unanswered} could not be asked"
            ),
            (
                f"interrupted sends: {self.lost_sends['found']} found at {provider} "
                f"(not sent again), {self.lost_sends['resend']} handed back to be sent, "
                f"{self.lost_sends['unknown']} still unknown"
            ),
        ]
        if self.lost_sends["resend"]:
            lines.append(
                "  the ones handed back go out with `advent send --date <day>`; on a day "
                "already sent, the scheduler's sweep sends them within a minute"
            )
        if self.lost_sends["unknown"]:
            lines.append(f"  check {provider}'s message log for the unknown ones before re-sending")
        return lines + [f"problem: {problem}" for problem in self.problems]


def _campaign_filter(campaign: str | None) -> ColumnElement[bool]:
    return Delivery.campaign == campaign if campaign else true()


def refresh_statuses(sender: Sender, summary: StuckSummary, campaign: str | None = None) -> None:
    """Fetch the status of handed-over deliveries with no receipt for ADVENT_STUCK_AFTER_MINUTES."""
    now = sender.clock()
    quiet_since = now - timedelta(minutes=sender.settings.stuck_after_minutes)
    stuck = sender.session.exec(
        select(Delivery)
        .where(
            Delivery.status.in_(WAITING),
            Delivery.provider_sid.is_not(None),
            Delivery.updated_at <= quiet_since,
            Delivery.created_at >= now - MAX_AGE,
            _campaign_filter(campaign),
        )
        .order_by(Delivery.id)
    ).all()
    sender.session.commit()
    for delivery in stuck:
        summary.asked += 1
        assert delivery.provider_sid is not None  # the query asked only for rows with one
        fetched = sender.provider.fetch_status(delivery.provider_sid)
        if fetched is None:
            summary.unanswered += 1
            continue
        report = StatusReport(
            sid=fetched.sid,
            status=fetched.status,
            error_code=fetched.error_code,
            idempotency_token=f"reconcile-{fetched.sid}-{fetched.status}",
        )
        try:
            outcome = record_receipt(
                sender.session, report, source="reconcile", explain=sender.provider.explain, now=now
            )
            sender.session.commit()
        except IntegrityError:  # another reconcile recorded the same status a moment ago
            sender.session.rollback()
            summary.unchanged += 1
            continue
        if outcome.changed:
            summary.moved_on += 1
        else:
            summary.unchanged += 1


def _claimed_before(sender: Sender) -> datetime:
    """Claims older than this are longer than a live send could take."""
    return sender.clock() - timedelta(seconds=sender.settings.claim_timeout_seconds)


def _stale(sender: Sender) -> ColumnElement[bool]:
    """Claimed without an id, or unknown without one, for longer than a live send could take."""
    lost = or_(
        Delivery.status == D.CLAIMED, and_(Delivery.status == D.UNKNOWN, Delivery.provider_sid.is_(None))
    )
    return and_(lost, Delivery.claimed_at <= _claimed_before(sender))


def _days_with_lost_sends(sender: Sender, campaign: str | None) -> list[tuple[str, date]]:
    rows = sender.session.exec(
        select(Delivery.campaign, Delivery.day)
        .where(_stale(sender), _campaign_filter(campaign))
        .distinct()
        .order_by(Delivery.campaign, Delivery.day)
    ).all()
    sender.session.commit()
    return [(name, day) for name, day in rows]


def settle_lost_sends(
    sender: Sender,
    schedules: list[Schedule],
    messages_dir: Path,
    summary: StuckSummary,
    campaign: str | None = None,
) -> None:
    """Claimed without an id, or unknown: find out from the provider, day by day."""
    by_campaign = {schedule.campaign: schedule for schedule in schedules}
    for name, day in _days_with_lost_sends(sender, campaign):
        schedule = by_campaign.get(name)
        if schedule is None:
            summary.problems.append(
                f"{name} {day}: interrupted sends, but no schedule for "
                f"{name} any more; restore schedules/{name}.toml"
            )
            continue
        try:
            post = load_post(messages_dir, schedule, day)
        except ContentError as error:
            summary.problems.append(f"{name} {day}: cannot check interrupted sends: {error}")
            continue
        # "unknown" sends go back as stale claims, so recover_stale_claims asks the provider again.
        deliveries.reopen_unknown(sender.session, name, day, _claimed_before(sender), sender.clock())
        summary.lost_sends.update(recover_stale_claims(sender, schedule, day, post))


def reconcile_deliveries(
    sender: Sender, schedules: list[Schedule], messages_dir: Path, campaign: str | None = None
) -> StuckSummary:
    """Everything `advent reconcile` does; the sender's clock says what "now" is."""
    summary = StuckSummary()
    refresh_statuses(sender, summary, campaign)
    settle_lost_sends(sender, schedules, messages_dir, summary, campaign)
    return summary
