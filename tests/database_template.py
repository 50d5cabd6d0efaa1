"""One migrated SQLite file per test session, copied into each test's instance folder.

Running every Alembic migration for every test cost about half the suite's time; a copy of a
file migrated once costs a few milliseconds, and each test still gets a real SQLite file of its
own. `tests/conftest.py` builds the template once; the runtime fixture and `twilio_setup` copy it.
Also here: taking a test's database away, as an unreachable database would be.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from advent.runtime import Runtime
from advent.store.database import make_engine
from advent.store.migrate import require_current_schema, upgrade

_template: Path | None = None


def build_template(folder: Path) -> Path:
    """Migrate a fresh SQLite file in `folder` to head, as one self-contained file."""
    global _template
    path = folder / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    require_current_schema(engine)  # once here, so the fixtures need not check each copy
    engine.dispose()  # close every pooled connection before touching the file
    # The engine runs in WAL mode, whose latest pages may sit in template.db-wal. Back in
    # rollback-journal mode everything is in the one file, so a plain copy carries it all;
    # each copy switches itself back to WAL on its first connection.
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=DELETE")
    connection.close()
    leftovers = [p.name for p in folder.glob("template.db-*")]
    assert not leftovers, f"the template database left {leftovers} behind; a copy would miss them"
    _template = path
    return path


def install_migrated_database(database_url: str) -> None:
    """Put a copy of the migrated template where `database_url` points (a SQLite file)."""
    if _template is None:
        raise RuntimeError(
            "no template database: the session fixture in tests/conftest.py "
            "builds it; use the runtime fixture or twilio_setup inside a test"
        )
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return  # tests/postgres_mode.py emptied this worker's database, at head, before the test
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise ValueError(f"tests copy a SQLite file, but the database is {url.render_as_string()}")
    target = Path(url.database)
    if target.exists():
        # Another fixture of this test made it already, and may hold it open: migrate in place
        # (a no-op at head) rather than pull the file from under it.
        engine = make_engine(database_url)
        upgrade(engine)
        engine.dispose()
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        # A WAL file without its database would be replayed into the copy.
        stale.unlink(missing_ok=True)
    shutil.copyfile(_template, target)


@contextmanager
def database_away(runtime: Runtime, aside: Path) -> Iterator[None]:
    """The database unreachable, then back: a SQLite file replaced by a folder (SQLite cannot
    open it); a PostgreSQL database refusing every connection, as a server restarting does."""
    if make_url(runtime.settings.database_url).get_backend_name() == "postgresql":
        from tests import postgres_mode

        runtime.db.dispose()
        with postgres_mode.refusing_connections(runtime.settings.database_url):
            yield
        return
    path = Path(make_url(runtime.settings.database_url).database or "")
    runtime.db.dispose()  # the last connection closing folds the WAL into the file
    runtime.webhook_db().dispose()
    aside.mkdir()
    moved = list(path.parent.glob(path.name + "*"))  # the file and its -wal/-shm, if any
    for found in moved:
        shutil.move(found, aside / found.name)
    path.mkdir()
    try:
        yield
    finally:
        path.rmdir()
        for found in moved:
            shutil.move(aside / found.name, found)
