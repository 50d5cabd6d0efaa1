"""`advent backup`: a consistent copy taken while the service writes, and a restore from it."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url
from sqlmodel import select

from advent.cli import main
from advent.config import Settings
from advent.content.schedules import Schedule
from advent.runtime import Runtime, build_runtime
from advent.store.tables import Subscriber
from tests.helpers import add_people, simulator_env

JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _env(settings: Settings) -> dict[str, str]:
    return {
        **simulator_env(settings),
    }


@pytest.fixture(autouse=True)
def _away_from_any_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a developer's .env must not point the command elsewhere


def _phones(database: Path) -> set[str]:
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return {row[0] for row in db.execute("SELECT phone FROM subscriber")}


@pytest.mark.sqlite_only(
    "SQLite's online backup API; on PostgreSQL `advent backup` prints pg_dump guidance (tested below)"
)
def test_a_backup_taken_while_friends_join_restores_every_row(
    runtime: Runtime, settings: Settings, schedule: Schedule, tmp_path: Path
) -> None:
    before = {p.phone for p in add_people(runtime.session(), schedule, 50, JOINED)}
    joining = threading.Event()
    stop = threading.Event()

    def keep_joining() -> None:  # the web app taking JOINs while the backup runs
        start = 200000
        while not stop.is_set():
            add_people(runtime.session(), schedule, 5, JOINED, start=start)
            start += 5
            joining.set()

    writer = threading.Thread(target=keep_joining)
    writer.start()
    joining.wait(timeout=60)
    copy = tmp_path / "nightly.db"
    try:
        result = CliRunner().invoke(main, ["backup", "--to", str(copy)], env=_env(settings))
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert f"to {copy}" in result.output and "advent db upgrade" in result.output
    saved = _phones(copy)
    assert before <= saved and len(saved) > len(before)  # every row so far, and some written meanwhile

    # Restore as the README says: processes stopped, the copy over the file, db upgrade.
    runtime.db.dispose()
    database = Path(make_url(settings.database_url).database or "")
    database.write_bytes(copy.read_bytes())
    for leftover in (Path(f"{database}-wal"), Path(f"{database}-shm")):
        leftover.unlink(missing_ok=True)
    upgraded = CliRunner().invoke(main, ["db", "upgrade"], env=_env(settings))
    assert upgraded.exit_code == 0, upgraded.output
    restored = build_runtime(settings)
    with restored.session() as session:
        assert set(session.exec(select(Subscriber.phone)).all()) == saved


@pytest.mark.sqlite_only("a SQLite backup file")
def test_backup_refuses_to_overwrite_a_file(runtime: Runtime, settings: Settings, tmp_path: Path) -> None:
    taken = tmp_path / "taken.db"
    taken.write_text("keep me")
    result = CliRunner().invoke(main, ["backup", "--to", str(taken)], env=_env(settings))
    assert result.exit_code == 2
    assert "already exists" in result.output and taken.read_text() == "keep me"


@pytest.mark.sqlite_only("a SQLite backup file")
def test_backup_by_default_goes_to_the_instance_folder(runtime: Runtime, settings: Settings) -> None:
    result = CliRunner().invoke(main, ["backup"], env=_env(settings))
    assert result.exit_code == 0, result.output
    made = list(settings.instance_dir.glob("*-backup-*.db"))
    assert len(made) == 1 and str(made[0].resolve()) in result.output


def test_on_postgresql_backup_prints_pg_dump_without_the_password(settings: Settings) -> None:
    env = {**_env(settings), "DATABASE_URL": "postgresql://sam:S3cret@db.example:5433/advent"}
    result = CliRunner().invoke(main, ["backup"], env=env)
    assert result.exit_code == 0, result.output
    assert "pg_dump --format=custom --host=db.example --port=5433 --username=sam" in result.output
    assert "S3cret" not in result.output and "pg_restore" in result.output
