"""Start-up errors: one clear message and exit status 2, never a traceback.

Shared by the web app factory and the `advent` command.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from advent.config import ConfigError
from advent.content.posts import ContentError
from advent.content.replies import RepliesError
from advent.content.schedules import ScheduleError
from advent.store.database import DatabaseUnavailable
from advent.store.migrate import SchemaOutOfDate
from advent.store.stamps import WrongDatabase

SETUP_ERRORS = (
    ConfigError,
    ScheduleError,
    SchemaOutOfDate,
    ContentError,
    RepliesError,
    DatabaseUnavailable,
    WrongDatabase,
)


@contextmanager
def exit_on_bad_setup() -> Iterator[None]:
    try:
        yield
    except SETUP_ERRORS as error:
        print(f"advent: {error}", file=sys.stderr)
        raise SystemExit(2) from None
