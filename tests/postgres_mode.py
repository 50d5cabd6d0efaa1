"""The suite on a real PostgreSQL server, when ADVENT_TEST_POSTGRES_URL names one.

`.ci/run` starts a throwaway server (scripts/postgres.sh) and runs the whole suite twice: on
SQLite files, then with this set. Each pytest-xdist worker gets a database of its own, migrated
once; before every test its tables are emptied (TRUNCATE ... RESTART IDENTITY), which costs a
few milliseconds where a new database per test would cost a hundred. DATABASE_URL is set for
the test, so settings, fixtures and every `advent` subprocess a test starts use that database.

A test about SQLite itself (its file, its lock, its backup API) is marked `sqlite_only`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import advent.store.tables  # noqa: F401 (every table in SQLModel.metadata)
from advent.store.migrate import current_and_head, upgrade

SERVER_URL = os.environ.get("ADVENT_TEST_POSTGRES_URL", "").strip()
_engines: dict[str, Engine] = {}
_EXPECTED = set(SQLModel.metadata.tables)


def enabled() -> bool:
    return bool(SERVER_URL)


def _driver_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def worker_database(worker: str) -> str:
    """This worker's database on the server (created on first use); a URL for DATABASE_URL."""
    server = make_url(_driver_url(SERVER_URL))
    name = f"{server.database}_{worker}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def _engine(url: str) -> Engine:
    if url not in _engines:
        _engines[url] = create_engine(url, isolation_level="AUTOCOMMIT")
    return _engines[url]


def reset(url: str) -> None:
    """Every table of `url` empty and its schema at head, whatever the last test left."""
    engine = _engine(url)
    with engine.connect() as connection:
        # A connection a finished test left open (a leaked session, a killed subprocess's
        # server side) could hold a lock the TRUNCATE below would wait on forever.
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    current, head = current_and_head(engine)
    with engine.connect() as connection:
        tables = set(connection.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")))
    if current != head or not _EXPECTED <= tables:
        # A test migrated up or down or dropped a table, or this is the first test: start again.
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        migrating = create_engine(url)
        upgrade(migrating)
        migrating.dispose()
    with engine.connect() as connection:
        tables = connection.scalars(
            text(
                "SELECT tablename FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ).all()
        if tables:
            names = ", ".join(f'"{name}"' for name in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def _server_engine(url: str) -> Engine:
    return _engine(make_url(url).set(database="postgres").render_as_string(hide_password=False))


@contextmanager
def refusing_connections(url: str) -> Iterator[None]:
    """The database at `url` refuses every connection (and drops those it had), then is back."""
    name = make_url(url).database
    with _server_engine(url).connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
        connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
        )
    _engines.pop(url, None)
    try:
        yield
    finally:
        with _server_engine(url).connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))


def stored_text(url: str) -> bytes:
    """Every row of every table as text: what a look through the database's files would find."""
    engine = _engine(url)
    found = []
    with engine.connect() as connection:
        tables = connection.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).all()
        for table in tables:
            found += connection.scalars(text(f'SELECT t::text FROM "{table}" t')).all()
    return "\n".join(found).encode()
