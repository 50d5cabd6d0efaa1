"""The database as a new user meets it: where it is, and one sentence when it cannot be used."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from advent.store.database import DatabaseUnavailable, make_engine, require_reachable

ROOT = Path(__file__).resolve().parent.parent


def advent(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-m", "advent.cli", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A working folder with the shipped schedules, and no .env."""
    (tmp_path / "schedules").symlink_to(ROOT / "schedules")
    (tmp_path / "messages").symlink_to(ROOT / "messages")
    return tmp_path


@pytest.mark.parametrize("command", [["stats"], ["db", "upgrade"]])
def test_an_unreachable_postgresql_is_one_sentence_without_the_password(workdir, command):
    # Port 1 on this machine refuses at once: no network involved.
    result = advent(workdir, *command, DATABASE_URL="postgresql://sam:hunter2secret@127.0.0.1:1/advent")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    [line] = result.stderr.strip().splitlines()
    assert "could not connect to the database at postgresql://sam:***@127.0.0.1:1/advent" in line
    assert "check DATABASE_URL" in line
    assert "hunter2secret" not in result.stderr + result.stdout


def test_a_sqlite_folder_outside_the_instance_folder_is_not_created(tmp_path):
    database = tmp_path / "nowhere" / "dir" / "advent.db"
    with pytest.raises(DatabaseUnavailable) as caught:
        make_engine(f"sqlite:///{database}", tmp_path / "instance")
    message = str(caught.value)
    assert f"the database would be {database}" in message
    assert f"the folder {database.parent} does not exist" in message
    assert "unset DATABASE_URL" in message
    assert not (tmp_path / "nowhere").exists()


def test_the_command_refuses_a_missing_folder_with_exit_2(workdir, tmp_path):
    database = tmp_path / "nowhere" / "dir" / "advent.db"
    result = advent(workdir, "db", "upgrade", DATABASE_URL=f"sqlite:///{database}")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "does not exist" in result.stderr and not (tmp_path / "nowhere").exists()


@pytest.mark.sqlite_only("the default SQLite file in the instance folder")
def test_the_instance_folder_is_made_on_first_use_and_upgrade_says_where(workdir):
    result = advent(workdir, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Database instance/rehearsal.db upgraded from empty to ")
    assert (workdir / "instance" / "rehearsal.db").is_file()


def test_an_existing_folder_elsewhere_is_fine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'advent.db'}", tmp_path / "instance")
    require_reachable(engine)
    assert (tmp_path / "advent.db").is_file()


def test_a_postgresql_database_never_created_is_one_sentence(workdir):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("needs the PostgreSQL server the suite runs on (ADVENT_TEST_POSTGRES_URL)")
    missing = make_url(url).set(database="advent_never_created").render_as_string(hide_password=False)
    result = advent(workdir, "stats", DATABASE_URL=missing)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    [line] = result.stderr.strip().splitlines()
    assert 'database "advent_never_created" does not exist' in line and "check DATABASE_URL" in line
