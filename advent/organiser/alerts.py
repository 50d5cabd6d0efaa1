"""Organiser alerts: what the organiser must see and act on (a missed day, a full list)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from advent.store.tables import OrganiserAlert


def alert(session: Session, campaign: str | None, kind: str, message: str, now: datetime) -> None:
    """Add an alert once: the same message is not repeated while the first is unseen."""
    repeat = session.exec(
        select(OrganiserAlert.id).where(
            OrganiserAlert.kind == kind,
            OrganiserAlert.message == message,
            OrganiserAlert.seen_at == None,  # noqa: E711
        )
    ).first()
    if repeat is None:
        session.add(OrganiserAlert(campaign=campaign, kind=kind, message=message, created_at=now))
