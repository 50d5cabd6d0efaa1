"""Webhooks the database could not take in time: what they are answered, and their replay.

When a write for an inbound text or a status callback cannot finish within
ADVENT_WEBHOOK_WRITE_SECONDS (or the database cannot be reached), the verified request goes to
the journal (advent.store.journal) and is answered at once, because Twilio does not retry an
inbound text: a 503 would lose it. The next process that can write replays the journal, oldest
first, through the same code as a live request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session, col, update

from advent.content.replies import RepliesError, facts, fallback, load_replies
from advent.content.schedules import Schedule, default_schedule
from advent.organiser.alerts import alert
from advent.people.care import care_words
from advent.people.conversations import ReplySettings, handle_inbound, reply_settings
from advent.people.keywords import classify
from advent.providers.base import Inbound, Provider
from advent.receipts import record_receipt
from advent.store.journal import Entry, Journal, UnreadableEntry
from advent.store.tables import InboundMessage

if TYPE_CHECKING:
    from advent.runtime import Runtime

log = logging.getLogger(__name__)

# Anything but STOP and HELP: we cannot know yet what it will do (a join may find the campaign
# full or over), so the answer promises only what is true already: the text is safe with us.
RECEIVED = "Thanks, we got your message."
# An entry failing this often for a reason other than a busy or absent database is kept aside.
MOST_FAILURES = 3


def database_busy(error: BaseException) -> bool:
    """The database is locked, too slow or unreachable: try again later, nothing is wrong with
    the entry itself."""
    if isinstance(error, (OperationalError, PoolTimeout)):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def held_answer(
    inbound: Inbound, provider: Provider, schedules: list[Schedule], settings: ReplySettings, now: datetime
) -> str | None:
    """The answer chosen from the text alone, while the database cannot say who is asking.

    STOP is confirmed at once (the person must never wonder whether it worked, and the replay
    stops them whatever their state); HELP gets the help text. Both say nothing when the
    provider answers those words itself, as on a live request.
    """
    kind = inbound.provider_kind or classify(inbound.body, {s.join_keyword for s in schedules}).kind
    schedule = default_schedule(schedules, settings.default_schedule) or (schedules[0] if schedules else None)
    # A text that may signal distress gets the care answer now; the replay flags and alerts it.
    return care_words(
        inbound.body,
        kind,
        _plain_answer(inbound, kind, provider, schedule, settings, now),
        schedule,
        settings,
    )


def _plain_answer(
    inbound: Inbound,
    kind: str,
    provider: Provider,
    schedule: Schedule | None,
    settings: ReplySettings,
    now: datetime,
) -> str | None:
    if kind not in ("stop", "help"):
        return RECEIVED
    if schedule is None or provider.answers_itself(inbound):
        return None
    name = "stopped" if kind == "stop" else "help"
    known = facts(
        schedule,
        channel=inbound.channel,
        today=schedule.local_date(now),
        organiser=settings.organiser_name,
        contact=settings.organiser_contact,
        support_line=settings.support_line,
    )
    try:
        return load_replies(settings.messages_dir, schedule).render(name, known)
    except RepliesError:
        return fallback(name, known)


@dataclass
class Replayed:
    stored: int = 0
    kept_aside: int = 0
    waiting: int = 0  # left for later: the database was still busy


def replay(
    journal: Journal,
    session: Session,
    provider: Provider,
    schedules: list[Schedule],
    settings: ReplySettings,
    now: datetime,
) -> Replayed:
    """Store every waiting entry, oldest first; stop at the first one the database is too busy
    for, so later texts from one person never overtake earlier ones. A no-op while another
    process is replaying."""
    done = Replayed()
    with journal.replaying() as mine:
        if not mine:
            return done
        paths = journal.waiting()
        for number, path in enumerate(paths):
            try:
                entry = journal.read(path)
            except (UnreadableEntry, OSError) as error:
                _keep_aside(journal, session, path, str(error), now)
                done.kept_aside += 1
                continue
            try:
                _store(entry, session, provider, schedules, settings)
            except UnreadableEntry as error:
                session.rollback()
                _keep_aside(journal, session, path, str(error), now)
                done.kept_aside += 1
                continue
            except Exception as error:
                session.rollback()
                if database_busy(error):
                    log.info("journal replay paused: the database is still busy (%s)", error)
                    done.waiting = len(paths) - number
                    return done
                log.exception("journal entry %s failed", path.name)
                journal.note_failure(entry, f"{type(error).__name__}: {error}")
                if entry.failures >= MOST_FAILURES:
                    _keep_aside(journal, session, path, entry.last_error, now)
                    done.kept_aside += 1
                else:
                    done.waiting += 1
                continue
            # Only now: a crash before this line replays the entry again, and the stores below
            # recognise a MessageSid or receipt they already have.
            journal.remove(path)
            done.stored += 1
    if done.stored or done.kept_aside:
        log.info("journal replayed: %s stored, %s kept aside", done.stored, done.kept_aside)
    return done


def replay_waiting(runtime: Runtime) -> Replayed:
    """Replay the journal if anything waits in it (a web worker starting, a webhook that went
    through, the clock's tick); quick when it is empty."""
    journal = runtime.journal()
    if not journal.waiting():
        return Replayed()
    with runtime.webhook_session() as session:
        return replay(
            journal,
            session,
            runtime.provider,
            runtime.schedules,
            reply_settings(runtime.settings),
            runtime.clock(),
        )


def _store(
    entry: Entry, session: Session, provider: Provider, schedules: list[Schedule], settings: ReplySettings
) -> None:
    received = datetime.fromisoformat(entry.received_at)
    if entry.kind == "inbound":
        inbound = provider.read_inbound(entry.form)
        handle_inbound(session, inbound, received, schedules=schedules, provider=provider, settings=settings)
        if inbound.message_sid:
            # What the friend was actually told; a retry of this MessageSid gets the same.
            session.execute(
                update(InboundMessage)
                .where(col(InboundMessage.provider_sid) == inbound.message_sid)
                .values(reply_text=entry.answered)
            )
            session.commit()
        return
    if entry.kind != "status":
        raise UnreadableEntry(f"{entry.path.name} holds an unknown kind of webhook {entry.kind!r}")
    report = provider.read_status(entry.form, entry.reference, entry.headers or {})
    if report is None:
        return
    try:
        record_receipt(session, report, source=provider.name, explain=provider.explain, now=received)
        session.commit()
    except IntegrityError:
        session.rollback()  # stored before a crash, or by a retry that came through live


def _keep_aside(journal: Journal, session: Session, path: Path, reason: str, now: datetime) -> None:
    moved = journal.set_aside(path)
    log.error("journal entry %s kept aside: %s", path.name, reason)
    try:
        alert(
            session,
            None,
            "journal",
            f"a webhook kept while the database was busy could not be stored ({reason}); it is kept "
            f"in {moved}: read it, fix the cause, and move it back into {journal.folder} to replay it",
            now,
            subject=path.stem[:60],
        )
        session.commit()
    except SQLAlchemyError:
        session.rollback()  # the file stays aside; `advent doctor` still lists it
        log.exception("could not raise the alert for journal entry %s", path.name)
