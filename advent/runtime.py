"""What a running process needs, built once from settings: database, provider, schedules."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine as DatabaseEngine
from sqlmodel import Session

from advent.config import Settings, load_settings
from advent.content.care import CareError, load_care
from advent.content.replies import RepliesError, check_reply_texts
from advent.content.schedules import (
    Schedule,
    ScheduleError,
    default_schedule,
    find_schedule,
    load_schedules,
)
from advent.providers import make_provider
from advent.providers.base import Provider
from advent.store.database import READ_ONLY, describe_location, make_engine, require_reachable
from advent.store.journal import Journal
from advent.store.migrate import require_current_schema
from advent.store.stamps import LIVE, REHEARSAL, require_kind
from advent.store.tables import utcnow
from advent.store.write_budget import budget_engine

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    db: DatabaseEngine
    provider: Provider
    schedules: list[Schedule] = field(default_factory=list)
    # Where "now" comes from; tests pass a fixed clock instead of patching time.
    clock: Callable[[], datetime] = utcnow
    warnings: list[str] = field(default_factory=list)
    _webhook_db: DatabaseEngine | None = field(default=None, repr=False)

    def session(self) -> Session:
        return Session(self.db, expire_on_commit=False)

    def webhook_db(self) -> DatabaseEngine:
        """The engine webhooks write with: it gives up after ADVENT_WEBHOOK_WRITE_SECONDS."""
        if self._webhook_db is None:
            settings = self.settings
            self._webhook_db = budget_engine(
                settings.database_url, settings.instance_dir, settings.webhook_write_seconds
            )
        return self._webhook_db

    def webhook_session(self) -> Session:
        return Session(self.webhook_db(), expire_on_commit=False)

    def journal(self) -> Journal:
        return Journal(self.settings.instance_dir / "journal")

    def schedule(self, campaign: str | None = None) -> Schedule:
        """The named schedule, or the default one (the setting, or the only one)."""
        if campaign:
            return find_schedule(self.schedules, campaign)
        chosen = default_schedule(self.schedules, self.settings.default_schedule)
        if chosen is None:
            names = ", ".join(s.campaign for s in self.schedules) or "none"
            raise ScheduleError(
                f"several schedules ({names}): name one with --campaign or ADVENT_DEFAULT_SCHEDULE"
            )
        return chosen


def build_runtime(
    settings: Settings | None = None, *, check_schema: bool = True, provider: Provider | None = None
) -> Runtime:
    """Raises one of startup.SETUP_ERRORS with a message for a person."""
    settings = settings or load_settings()
    db = make_engine(settings.database_url, settings.instance_dir, settings.db_lock_seconds)
    require_reachable(db)
    provider = provider or make_provider(settings)
    # Start-up only reads (unless a new database needs its stamp), so a web worker starts while
    # another process holds SQLite's write lock; its webhooks keep texts in the journal meanwhile.
    reader = db.execution_options(**{READ_ONLY: True})
    if check_schema:  # tests skip it on a copy of a database they migrated once
        require_current_schema(reader)
    with Session(reader) as session:
        kind = REHEARSAL if provider.rehearsal else LIVE
        require_kind(session, kind, describe_location(db.url), utcnow())
    schedules = load_schedules(settings.schedules_dir)
    default_schedule(schedules, settings.default_schedule)  # a bad name fails at start-up
    runtime = Runtime(settings, db, provider, schedules)
    for schedule in schedules:
        # A broken reply text is told now, loudly, but never stops the service: STOP handling
        # and the daily post matter more, and each reply falls back to a plain text of ours.
        try:
            check_reply_texts(settings.messages_dir, schedule)
        except RepliesError as error:
            runtime.warnings.append(f"{error} (plain fallback texts are used until it is fixed)")
        try:
            load_care(settings.messages_dir, schedule)
        except CareError as error:
            runtime.warnings.append(f"{error} (the built-in care list answers until it is fixed)")
    for warning in runtime.warnings:
        log.warning("%s", warning)
    return runtime
