"""Organiser alerts: what the organiser must see and act on (a missed day, a full list).

Each alert is about one thing, named by its key (kind, campaign, day, subject). An alert is raised
once per key and stays open until its condition clears (`resolve`), however often the condition
is found again meanwhile and whether or not the organiser has read it: the clock checks some
conditions every 30 seconds, and a reader must not be told the same thing twice.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from advent.store.tables import OrganiserAlert


def alert_key(kind: str, campaign: str | None, day: date | None = None, subject: str | None = None) -> str:
    """One string per thing an alert can be about ("-" stands for a part that does not apply)."""
    return "/".join([kind, campaign or "-", day.isoformat() if day else "-", subject or "-"])


def open_alert(session: Session, key: str) -> OrganiserAlert | None:
    """The unresolved alert with this key, if there is one."""
    return session.exec(
        select(OrganiserAlert)
        .where(OrganiserAlert.key == key, OrganiserAlert.resolved_at.is_(None))
        .order_by(OrganiserAlert.id)
    ).first()


def alert(
    session: Session,
    campaign: str | None,
    kind: str,
    message: str,
    now: datetime,
    *,
    day: date | None = None,
    subject: str | None = None,
    refresh: bool = False,
) -> OrganiserAlert:
    """Raise the alert unless one with the same key is open; returns the open alert.

    `subject` is a short id (a subscriber id, an error code, a reply's name), never a phone
    number. With `refresh`, an open alert's text is brought up to date (new counts) without
    making it a new alert: it is not shown as new again.
    """
    key = alert_key(kind, campaign, day, subject)
    found = open_alert(session, key)
    if found is None:
        made = OrganiserAlert(
            campaign=campaign, kind=kind, key=key, day=day, subject=subject, message=message, created_at=now
        )
        try:
            # Flushed at once, so a second call before the commit finds this one; inside a
            # savepoint, so losing a race to another process costs only this insert.
            with session.begin_nested():
                session.add(made)
        except IntegrityError:
            # Another process raised it between our look and our insert (the partial unique
            # index allows one open alert per key): that one is the alert.
            found = open_alert(session, key)
            if found is None:
                raise
        else:
            return made
    elif refresh and found.message != message:
        found.message = message
        session.add(found)
    return found


def resolve(
    session: Session,
    kind: str,
    campaign: str | None,
    *,
    day: date | None = None,
    subject: str | None = None,
    now: datetime,
) -> bool:
    """The condition has cleared: close the open alert with this key. False if none was open."""
    found = open_alert(session, alert_key(kind, campaign, day, subject))
    if found is None:
        return False
    found.resolved_at = now
    session.add(found)
    return True


def any_open(session: Session, kind: str, campaign: str | None, day: date) -> bool:
    """True when an alert of this kind about this campaign day is open, whatever its subject."""
    return (
        session.exec(
            select(OrganiserAlert.id).where(
                OrganiserAlert.kind == kind,
                OrganiserAlert.campaign == campaign,
                OrganiserAlert.day == day,
                OrganiserAlert.resolved_at.is_(None),
            )
        ).first()
        is not None
    )


def open_alerts(session: Session, kinds: tuple[str, ...]) -> list[OrganiserAlert]:
    """Unresolved alerts of these kinds, oldest first."""
    return list(
        session.exec(
            select(OrganiserAlert)
            .where(OrganiserAlert.kind.in_(kinds), OrganiserAlert.resolved_at.is_(None))
            .order_by(OrganiserAlert.id)
        ).all()
    )


def state(found: OrganiserAlert) -> str:
    """new (open, not shown yet), seen (open, shown before) or resolved."""
    if found.resolved_at is not None:
        return "resolved"
    return "new" if found.seen_at is None else "seen"


def read_alerts(session: Session, now: datetime, *, everything: bool = False) -> tuple[list[dict], int]:
    """What `advent alerts` shows: the new open alerts (or, with `everything`, all of them) as
    rows, which are marked seen; and how many open alerts shown before are left out. The caller
    commits."""
    # Counted before anything is marked: open alerts the organiser has already been shown.
    left_out = (
        0
        if everything
        else session.exec(
            select(func.count())
            .select_from(OrganiserAlert)
            .where(OrganiserAlert.resolved_at.is_(None), OrganiserAlert.seen_at.is_not(None))
        ).one()
    )
    query = select(OrganiserAlert).order_by(OrganiserAlert.id)
    if not everything:
        query = query.where(
            OrganiserAlert.resolved_at.is_(None),
            OrganiserAlert.seen_at.is_(None),
        )
    found = session.exec(query).all()
    rows = [_row(a) for a in found]
    for shown in found:
        shown.seen_at = shown.seen_at or now
        session.add(shown)
    return rows, left_out


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _row(found: OrganiserAlert) -> dict:
    return {
        "at": _when(found.created_at),
        "campaign": found.campaign,
        "kind": found.kind,
        "day": found.day.isoformat() if found.day else None,
        "subject": found.subject,
        "state": state(found),
        "seen_at": _when(found.seen_at),
        "resolved_at": _when(found.resolved_at),
        "message": found.message,
    }
