"""A consistent copy of the database, safe while the service runs.

SQLite: the online backup API copies every page in one step under a read transaction, so the
copy is one moment's database even while the web app and the scheduler write (WAL readers never
block writers). PostgreSQL: pg_dump does the same job; we say exactly how to run it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from advent.store.database import DatabaseUnavailable, sqlite_path


@dataclass(frozen=True)
class Backup:
    source: Path
    copy: Path
    size_bytes: int


def default_backup_path(database: Path, instance_dir: Path, now: datetime) -> Path:
    """`instance/<name>-backup-YYYY-MM-DD-HHMMSS.db`: sorts by time, never overwrites a sibling."""
    return instance_dir / f"{database.stem}-backup-{now:%Y-%m-%d-%H%M%S}{database.suffix or '.db'}"


def backup_sqlite(database: Path, target: Path) -> Backup:
    """Copy `database` to `target` with SQLite's online backup API; refuses to overwrite."""
    if not database.is_file():
        raise DatabaseUnavailable(f"there is no database at {database} to back up; check DATABASE_URL")
    if target.exists():
        raise DatabaseUnavailable(f"{target} already exists; choose another --to path or move that file away")
    if not target.parent.is_dir():
        raise DatabaseUnavailable(
            f"the folder {target.parent} does not exist; create it first or choose another --to"
        )
    source = sqlite3.connect(database, timeout=30)
    copy = sqlite3.connect(target)
    try:
        # pages=-1: one step, so no writer's commit can land between two halves of the copy.
        source.backup(copy, pages=-1)
        # A single file to copy back: no -wal beside it to forget.
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
        source.close()
    return Backup(source=database, copy=target, size_bytes=target.stat().st_size)


def restore_steps(backup: Backup) -> list[str]:
    """What to do to put the copy back, in order."""
    db = backup.source
    return [
        "stop the web app and the scheduler (every process using the database)",
        f"copy {backup.copy} over {db}, and delete {db}-wal and {db}-shm if they are there "
        "(left over, they would be replayed onto the restored file)",
        "run `advent db upgrade` (a backup from an older version is brought up to date), then start again",
    ]


def pg_dump_command(database_url: str, now: datetime) -> str:
    """The pg_dump line for a PostgreSQL URL, without its password (pg_dump asks for it, or
    reads PGPASSWORD or ~/.pgpass)."""
    url = make_url(database_url)
    parts = ["pg_dump", "--format=custom"]
    if url.host:
        parts.append(f"--host={url.host}")
    if url.port:
        parts.append(f"--port={url.port}")
    if url.username:
        parts.append(f"--username={url.username}")
    parts.append(f"--file=advent-{now:%Y-%m-%d-%H%M%S}.dump")
    parts.append(url.database or "advent")
    return " ".join(parts)


def is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def sqlite_file(database_url: str) -> Path:
    path = sqlite_path(make_url(database_url))
    if path is None:
        raise DatabaseUnavailable("an in-memory database cannot be backed up; set DATABASE_URL to a file")
    return Path(path).resolve()
