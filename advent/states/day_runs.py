"""The day-run state machine: the only code that changes `DayRun.status`.

    (new) -> due -> sending -> sent;  due | sending -> missed | failed;  any but due -> sending

There is no event table for days: the row itself is the record, so each change writes its
timestamp (started_at, finished_at) or its note (why the day was missed or failed).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Session, select

from advent.states.machine import Table, TransitionRefused
from advent.store.database import insert_ignoring_duplicates
from advent.store.tables import DayRun


class DayRunStatus(StrEnum):
    DUE = "due"  # recorded, not started
    SENDING = "sending"  # a sender is at work (or stopped mid-send: see catch_up)
    SENT = "sent"  # everyone on the list was handed the post
    MISSED = "missed"  # the send time passed and the post did not go out
    FAILED = "failed"  # the day could not be sent (no post, an error)
    HELD = "held"  # the organiser held it (HOLD to the preview, `advent hold`): nothing goes out


R = DayRunStatus

MOVES: dict[str | None, frozenset[R]] = {
    None: frozenset({R.DUE}),
    R.DUE: frozenset({R.SENDING, R.MISSED, R.FAILED, R.HELD}),
    # Sending again: the sweep finishes a day whose sender stopped, `advent send` re-runs it.
    # Held while sending: at each friend's own morning, the friends still to come get nothing.
    R.SENDING: frozenset({R.SENDING, R.SENT, R.MISSED, R.FAILED, R.HELD}),
    # Released: due again if nothing went out, else sending on. A held day nobody released
    # stays held: that is its record, never "missed".
    R.HELD: frozenset({R.DUE, R.SENDING}),
    # A sent day may be sent again by hand (retries, rows handed back); finishing twice (two
    # senders at once) leaves it sent. It is never missed or failed afterwards.
    R.SENT: frozenset({R.SENDING, R.SENT}),
    # Missed or failed days may still be sent by hand; and a second sender that finishes one
    # after all (everyone handed the post) makes it sent.
    R.MISSED: frozenset({R.SENDING, R.SENT, R.MISSED, R.FAILED}),
    R.FAILED: frozenset({R.SENDING, R.SENT, R.MISSED, R.FAILED}),
}

_REASONS: dict[tuple[str | None, str], str] = {
    (R.SENT, R.MISSED): "it was sent; a sent day is never marked missed afterwards",
    (R.SENT, R.FAILED): "it was sent; a sent day is never marked failed afterwards",
    (R.DUE, R.SENT): "nothing was sent yet; a day is sent only by sending it",
    (R.DUE, R.DUE): "it is due already",
}
for _state in R:
    if _state not in (R.DUE, R.HELD):
        _REASONS[(_state, R.DUE)] = "a day never becomes due again once something happened to it"
_REASONS[(R.SENT, R.HELD)] = "it was sent already; there is nothing left to hold"
_REASONS[(R.HELD, R.HELD)] = "it is held already"

TABLE: Table[R] = Table("a day", MOVES, _REASONS)


def ensure(session: Session, campaign: str, day: date, due_at: datetime | None) -> DayRun:
    """The day's record, created as due on first use (safely, if two processes race)."""
    TABLE.check(None, R.DUE)
    insert_ignoring_duplicates(
        session,
        DayRun,
        [dict(campaign=campaign, day=day, status=R.DUE.value, due_at=due_at)],
        ["campaign", "day"],
    )
    return session.exec(select(DayRun).where(DayRun.campaign == campaign, DayRun.day == day)).one()


def move(session: Session, run: DayRun, to: R, *, note: str | None = None) -> None:
    """The one way a day's status changes: checked against the table; `note` says why."""
    target = R(to)
    TABLE.check(run.status, target)
    run.status = target.value
    if note is not None:
        run.note = note
    session.add(run)


def start(session: Session, run: DayRun, now: datetime) -> None:
    """A sender is at work on the day; the first start is kept."""
    move(session, run, R.SENDING)
    run.started_at = run.started_at or now


def finish(session: Session, run: DayRun, now: datetime, note: str) -> None:
    """Everyone was handed the post (or nobody is on the list); `note` counts the outcome."""
    move(session, run, R.SENT, note=note)
    run.finished_at = now


def give_up(session: Session, run: DayRun, to: R, why: str) -> None:
    """Missed or failed, saying why and how to send it by hand."""
    if to not in (R.MISSED, R.FAILED):
        raise TransitionRefused(f"a day is given up as missed or failed, not {to}")
    move(session, run, to, note=why)


def hold(session: Session, run: DayRun, why: str) -> None:
    """The organiser holds the day: nothing more of it goes out until it is released."""
    move(session, run, R.HELD, note=why)


def release(session: Session, run: DayRun, sent_any: bool, why: str) -> None:
    """The organiser lets a held day go: due again, or sending on if some of it went out."""
    move(session, run, R.SENDING if sent_any else R.DUE, note=why)
