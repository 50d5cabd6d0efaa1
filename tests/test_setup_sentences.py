"""Set-up trouble is one sentence and exit status 2, never a traceback: a `.env` that is not
UTF-8, a read-only database, and a write lock another process holds too long."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from advent.config import Settings
from advent.runtime import Runtime
from tests.helpers import simulator_env  # noqa: I001

ROOT = Path(__file__).resolve().parent.parent


def _advent(
    settings: Settings, *args: str, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        **simulator_env(settings),
        "PYTHONPATH": str(ROOT),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "advent.cli", *args],
        env=environment,
        cwd=cwd or settings.instance_dir,  # never a developer's .env
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_sentence(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_settings_file_that_is_not_utf8_is_named_with_its_line(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "here"
    folder.mkdir()
    # "José" as Latin-1, the way an old editor saves it.
    (folder / ".env").write_bytes(b"ADVENT_PROVIDER=simulator\nADVENT_ORGANISER_NAME=Jos\xe9\n")
    line = _one_sentence(_advent(settings, "stats", cwd=folder))
    assert f"{folder / '.env'} is not UTF-8" in line
    assert "line 2" in line and "save it as UTF-8" in line


@pytest.mark.sqlite_only("a read-only SQLite file")
def test_sending_to_a_read_only_database_says_it_is_read_only(runtime: Runtime, settings: Settings) -> None:
    # Tests run as root, which writes to a chmod 0444 file regardless; SQLite's own read-only
    # mode refuses the write with the same error ("attempt to write a readonly database").
    path = Path(make_url(settings.database_url).database or "")
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    line = _one_sentence(_advent(settings, "send", "--date", "2026-12-03", DATABASE_URL=read_only))
    assert line.startswith(f"advent: the database {path} is read-only")
    assert "write permission" in line


@pytest.mark.sqlite_only("SQLite's single write lock")
def test_a_write_lock_held_too_long_names_the_likely_cause(runtime: Runtime, settings: Settings) -> None:
    other = sqlite3.connect(make_url(settings.database_url).database or "", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process in the middle of a long write
    try:
        result = _advent(settings, "send", "--date", "2026-12-03", ADVENT_DB_LOCK_SECONDS="0.5")
    finally:
        other.rollback()
        other.close()
    line = _one_sentence(result)
    assert "stayed locked by another process for 0.5 s" in line
    assert "ADVENT_DB_LOCK_SECONDS" in line
