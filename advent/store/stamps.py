"""Which kind of provider a database belongs to: a rehearsal on the simulator, or a live list.

Trying things out on the simulator fills the list with numbers typed as tests and marks days
as sent. If a real provider then used the same database, the first real send would text those
numbers and skip those days; a rehearsal on a live database would mark real days as sent. So a
database remembers the kind it was first used with, and refuses the other.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, func, select

from advent.store.database import insert_ignoring_duplicates
from advent.store.tables import Delivery, Stamp, Subscriber

PROVIDER_KIND = "provider_kind"
REHEARSAL = "rehearsal"
LIVE = "live"
KINDS = (REHEARSAL, LIVE)


class WrongDatabase(Exception):
    """The database belongs to the other kind of provider; the message says what to do."""


def stamped_kind(session: Session) -> str | None:
    stamp = session.get(Stamp, PROVIDER_KIND, populate_existing=True)
    return stamp.value if stamp else None


def set_kind(session: Session, kind: str, now: datetime) -> str:
    """Stamp the database with `kind` unless it has a stamp already; returns the stamp kept."""
    insert_ignoring_duplicates(
        session,
        Stamp,
        [dict(name=PROVIDER_KIND, value=kind, set_at=now)],
        ["name"],
    )
    session.commit()
    return stamped_kind(session) or kind


def _refusal(kind: str, stamped: str, where: str) -> str:
    start_over = "to start over deliberately, delete this database and run `advent db upgrade`"
    if stamped == REHEARSAL:
        return (
            f"{where} belongs to a rehearsal on the simulator (numbers typed as tests, days "
            "tried out), so a real provider will not use it: to go live, point DATABASE_URL "
            "at a fresh database (unset, it is advent.db in the instance folder) and run "
            f'`advent db upgrade` (README, "Going live"); {start_over}'
        )
    return (
        f"{where} belongs to a live list sent through a real provider, so the simulator will "
        "not use it (a rehearsal would mark real days as sent): to rehearse, unset "
        "DATABASE_URL (the simulator then keeps rehearsal.db in the instance folder) or point "
        f"it at another database; {start_over}"
    )


def _unstamped_rows(session: Session) -> tuple[int, int]:
    people = session.exec(select(func.count()).select_from(Subscriber)).one()
    deliveries = session.exec(select(func.count()).select_from(Delivery)).one()
    session.commit()
    return people, deliveries


def require_kind(session: Session, kind: str, where: str, now: datetime) -> None:
    """Stamp a new database with `kind`; refuse one that belongs to the other kind."""
    stamped = stamped_kind(session)
    if stamped is None:
        people, deliveries = _unstamped_rows(session)
        if people or deliveries:
            # Made before databases were stamped: its rows may be a rehearsal's or a live list's.
            raise WrongDatabase(
                f"{where} holds {people} subscriber(s) and {deliveries} delivery(ies) from before "
                "advent recorded which kind of provider a database belongs to, so they may be "
                f"test numbers: if it really is your {kind} list, say so once with "
                f"`advent db belongs-to {kind}`; otherwise point DATABASE_URL at a fresh database "
                "and run `advent db upgrade`"
            )
        stamped = set_kind(session, kind, now)
    if stamped != kind:
        raise WrongDatabase(_refusal(kind, stamped, where))
