"""Ticks, the feedback people trust in messaging apps: one grey tick sent, two grey delivered,
two blue read. Every page that shows a message's state shows it this way, from this table."""

from __future__ import annotations

from dataclasses import dataclass

from advent.states.deliveries import DeliveryStatus as D


@dataclass(frozen=True)
class Ticks:
    marks: str  # what is drawn: "", "✓", "✓✓", "!"
    css: str  # "waiting", "sent", "delivered", "read", "failed", "not-sent"
    label: str  # the words a screen reader says, and the tooltip


WAITING = Ticks("🕓", "waiting", "waiting to be sent")
_TABLE = {
    D.PENDING: WAITING,
    D.CLAIMED: Ticks("🕓", "waiting", "being handed to the network"),
    D.UNKNOWN: Ticks("?", "failed", "unknown: the network could not say whether it went out"),
    D.ACCEPTED: Ticks("🕓", "waiting", "accepted by the network"),
    D.SCHEDULED: Ticks("🕓", "waiting", "scheduled by the network"),
    D.QUEUED: Ticks("🕓", "waiting", "queued at the network"),
    D.SENDING: Ticks("🕓", "waiting", "being sent"),
    D.SENT: Ticks("✓", "sent", "sent"),
    D.DELIVERED: Ticks("✓✓", "delivered", "delivered"),
    D.READ: Ticks("✓✓", "read", "read"),
    D.FAILED: Ticks("!", "failed", "failed"),
    D.UNDELIVERED: Ticks("!", "failed", "not delivered"),
    D.CANCELLED: Ticks("–", "not-sent", "not sent (stopped or removed)"),
    D.NEEDS_TEMPLATE: Ticks("!", "failed", "not sent: WhatsApp needs an approved template"),
    D.MISSED: Ticks("–", "not-sent", "not sent: its morning passed while the service was down"),
}


def ticks_for(status: str | None) -> Ticks:
    """The ticks for a delivery's status; anything unknown shows as waiting, never as sent."""
    if status is None:
        return WAITING
    try:
        return _TABLE[D(status)]
    except ValueError:
        return WAITING
