"""Engine and sessions, for SQLite (the default) and PostgreSQL alike."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, Table, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, SQLModel, create_engine

# An execution option: transactions on an engine made with it begin without the write lock.
READ_ONLY = "advent_read_only"


class DatabaseUnavailable(Exception):
    """The database cannot be reached or created; the message says where and what to do."""


class DatabaseRefusedWrite(DatabaseUnavailable, OperationalError):
    """SQLite would not take a write: the file is read-only, or another process held the lock.

    Still an OperationalError (code that retries or journals a locked write catches it as
    before), and a DatabaseUnavailable, so a command or start-up prints one sentence.
    """

    def __init__(self, sentence: str, original: OperationalError, cause: BaseException) -> None:
        OperationalError.__init__(self, original.statement, original.params, cause, hide_parameters=True)
        self.sentence = sentence

    def __str__(self) -> str:
        return self.sentence


def describe_location(database_url: str | URL) -> str:
    """Where the database is, fit to print: a SQLite file's path, or the URL without password."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return sqlite_path(url) or "memory"
    # Shown as the organiser wrote it (no driver name), and never with the password.
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


def _sqlite_folder(database: str, instance_dir: Path | None) -> None:
    """Make the instance folder on first use; anywhere else, the folder must exist already.

    A typo in DATABASE_URL (one slash too many) would otherwise create folders at the root of
    the disk and keep the list somewhere nobody looks.
    """
    folder = Path(database).parent
    if folder.is_dir():
        return
    inside = instance_dir is not None and folder.resolve().is_relative_to(instance_dir.resolve())
    if inside:
        folder.mkdir(parents=True, exist_ok=True)
        return
    raise DatabaseUnavailable(
        f"the database would be {Path(database).resolve()}, but the folder {folder.resolve()} does not "
        "exist; create that folder first if this is where you want it, or unset DATABASE_URL to "
        "keep the database in the instance folder"
    )


def sqlite_path(url: URL) -> str | None:
    """The file a SQLite URL names; a URI filename (file:path?mode=ro, with uri=true) included."""
    database = url.database
    if not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return database.removeprefix("file:").split("?", 1)[0]
    return database


def _refusal(error: BaseException, where: str, lock_seconds: float) -> str | None:
    """A sentence for a write SQLite refused, or None for any other error."""
    reason = str(error)
    if "readonly database" in reason:
        return (
            f"the database {where} is read-only for this process (the file, its -wal/-shm files "
            "or its folder cannot be written, or DATABASE_URL asks for mode=ro); give the user "
            "running advent write permission on the file and its folder, or point DATABASE_URL "
            "at a writable copy"
        )
    if "database is locked" in reason:
        return (
            f"the database {where} stayed locked by another process for {lock_seconds:g} s "
            "(likely a long `advent send`, `advent db upgrade` or backup, or a program such as "
            "DB Browser for SQLite with unsaved changes); let it finish or close it and try "
            "again, or raise ADVENT_DB_LOCK_SECONDS to wait longer"
        )
    return None


def make_engine(database_url: str, instance_dir: Path | None = None, lock_seconds: float = 30) -> Engine:
    """An engine for `database_url`; a SQLite file's folder is only created inside `instance_dir`.

    On SQLite a write waits up to `lock_seconds` for another process's lock, then fails with
    DatabaseRefusedWrite, as does a write to a read-only file.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        # pre_ping: a hosted PostgreSQL drops idle connections; find out before using one.
        return create_engine(database_url, pool_pre_ping=True, hide_parameters=True)
    path = sqlite_path(url)
    if path:
        _sqlite_folder(path, instance_dir)
    # A scheduler, a web worker and a CLI command may share the file: wait for locks, don't fail.
    # hide_parameters: a logged database error must not print a friend's phone number.
    engine = create_engine(
        database_url,
        hide_parameters=True,
        connect_args={"timeout": lock_seconds, "check_same_thread": False},
    )
    where = str(Path(path).resolve()) if path else "in memory"

    @event.listens_for(engine, "handle_error")
    def _sentence_for_refused_write(context: ExceptionContext) -> None:
        error = context.sqlalchemy_exception
        sentence = _refusal(context.original_exception, where, lock_seconds)
        if sentence and isinstance(error, OperationalError):
            cause = context.original_exception
            raise DatabaseRefusedWrite(sentence, error, cause) from cause

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # pysqlite's own transaction handling would delay BEGIN; take control (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the sender
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a crashed process loses
        # nothing, a power cut may lose the last commits, and the file is never corrupted.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores foreign keys unless asked
        cursor.execute(f"PRAGMA busy_timeout={round(lock_seconds * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection) -> None:  # type: ignore[no-untyped-def]
        if connection.get_execution_options().get(READ_ONLY):
            # A reader need not wait for the write lock; SQLite takes it if the reader writes.
            connection.exec_driver_sql("BEGIN")
            return
        # IMMEDIATE takes the write lock up front. A deferred transaction that reads and then
        # writes fails at once with "database is locked" if another process wrote in between,
        # and busy_timeout cannot help it; our transactions are short, so waiting is cheap.
        driver = connection.connection.driver_connection
        driver.execute("PRAGMA busy_timeout=0")  # a try that finds the lock held returns at once
        try:
            if not _wait_for_the_write_lock(driver, lock_seconds):
                connection.exec_driver_sql("BEGIN IMMEDIATE")  # one last try: its error is the sentence
        finally:
            driver.execute(f"PRAGMA busy_timeout={round(lock_seconds * 1000)}")

    return engine


# How often a write asks again for SQLite's write lock while another process holds it.
_LOCK_POLL_SECONDS = 0.001


def _wait_for_the_write_lock(driver: sqlite3.Connection, lock_seconds: float) -> bool:
    """BEGIN IMMEDIATE, asking again every millisecond while another process holds the write
    lock; False if it is still held after `lock_seconds` (or the begin failed otherwise). The
    connection's busy_timeout must be 0 meanwhile, so that a try returns at once.

    SQLite's own busy handler sleeps in growing steps (1, 2, 5, 10, 15, 20, 25, 50 ms, ...) and
    often wakes long after the lock came free: two web workers taking turns at one file waited
    so for up to 100 ms a text. Asking every millisecond costs a few microseconds a try.
    """
    deadline = time.monotonic() + lock_seconds
    while True:
        try:
            driver.execute("BEGIN IMMEDIATE")
            return True
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                return False
        time.sleep(_LOCK_POLL_SECONDS)


def require_reachable(engine: Engine) -> None:
    """Connect once, so a database that cannot be reached is one sentence, not a traceback."""
    try:
        with engine.connect():
            pass
    except DatabaseRefusedWrite:
        raise  # already a sentence
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        password = engine.url.password
        if password:  # drivers rarely echo it, but never risk printing it
            reason = reason.replace(str(password), "***")
        raise DatabaseUnavailable(
            f"could not connect to the database at {describe_location(engine.url)} ({reason}); "
            "check DATABASE_URL (host, port, name, user, password) and that the server is running "
            "and reachable from here"
        ) from None


def insert_ignoring_duplicates(
    session: Session, model: type[SQLModel], rows: list[dict[str, Any]], unique: list[str]
) -> int:
    """INSERT ... ON CONFLICT DO NOTHING into `model`'s table; returns the number of rows added.

    The unique key does the deduplication inside the database, so two planners running at
    once cannot both add a row, whatever they read beforehand.
    """
    # SQLModel sets __table__ when it creates a table class; its type stubs do not say so.
    table: Table = model.__table__  # type: ignore[attr-defined]
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]  # same API
    else:
        raise RuntimeError(f"unsupported database {dialect}; use SQLite or PostgreSQL")
    # RETURNING counts what was added on both databases; rowcount after an executemany is -1
    # on psycopg.
    statement = (
        insert(table).on_conflict_do_nothing(index_elements=unique).returning(*table.primary_key.columns)
    )
    return len(session.execute(statement, rows).all())
