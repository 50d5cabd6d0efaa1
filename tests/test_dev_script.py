"""`python3 scripts/dev.py start`: its decisions and what it prints, without pip or a network."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_dev():
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "scripts" / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dev = _load_dev()


def test_pip_install_is_skipped_until_pyproject_or_the_extras_change(tmp_path):
    stamp = tmp_path / ".advent-install"
    plain = dev.install_fingerprint(b"[project]\nname = 'advent'\n", "")
    assert dev.needs_install(stamp, plain)  # never installed
    dev.remember_install(stamp, plain)
    assert not dev.needs_install(stamp, plain)  # nothing changed: no 24-second pip run
    with_tests = dev.install_fingerprint(b"[project]\nname = 'advent'\n", "[test]")
    assert dev.needs_install(stamp, with_tests)
    dev.remember_install(stamp, with_tests)
    assert not dev.needs_install(stamp, plain) and not dev.needs_install(stamp, with_tests)
    changed = dev.install_fingerprint(b"[project]\nname = 'advent'\nversion = '2'\n", "")
    assert dev.needs_install(stamp, changed)


def test_the_banner_suggests_the_next_day_and_says_a_hand_sent_day_counts():
    text = dev.banner(".venv/bin/advent", "2026-12-05", "instance/rehearsal.db", name_set=True)
    assert ".venv/bin/advent send --date 2026-12-05" in text
    assert "2026-12-01" not in text
    assert "a day sent by hand counts as sent: the scheduler will not send it again" in text
    assert "instance/rehearsal.db" in text
    assert "ADVENT_ORGANISER_NAME" not in text


def test_the_banner_says_how_to_set_the_organisers_name():
    text = dev.banner(".venv/bin/advent", None, None, name_set=False)
    assert "Your name is not set: texts say 'the organiser'." in text
    assert "Set ADVENT_ORGANISER_NAME in .env" in text
    assert "no day left to send" in text


def test_the_name_counts_as_set_from_the_environment_or_dot_env():
    assert not dev.organiser_name_set({}, None)
    assert not dev.organiser_name_set({}, "ADVENT_ORGANISER_NAME=\n# ADVENT_ORGANISER_NAME=Sam\n")
    assert dev.organiser_name_set({}, "ADVENT_PROVIDER=simulator\nADVENT_ORGANISER_NAME=Sam\n")
    assert dev.organiser_name_set({"ADVENT_ORGANISER_NAME": "Sam"}, None)


def test_the_database_named_by_db_upgrade_is_shown():
    assert (
        dev.database_location("Database instance/rehearsal.db upgraded from empty to 0003.\n")
        == "instance/rehearsal.db"
    )
    assert dev.database_location("Database instance/x.db already at revision 0003.") == "instance/x.db"


@pytest.fixture
def broken_copy(tmp_path: Path) -> Path:
    """The shipped content with one real error: day 7's front matter has an unknown field."""
    shutil.copytree(ROOT / "messages", tmp_path / "messages")
    shutil.copytree(ROOT / "schedules", tmp_path / "schedules")
    post = tmp_path / "messages" / "advent-2026" / "07.md"
    post.write_text("---\nday: 7\nmood: cheerful\n---\n\nHello.\n", encoding="utf-8")
    return tmp_path


def content_check(folder: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ADVENT_MESSAGES_DIR": str(folder / "messages"),
        "ADVENT_SCHEDULES_DIR": str(folder / "schedules"),
    }
    return subprocess.run(
        [sys.executable, "-m", "advent.cli", "content", "check"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_one_error_is_not_drowned_by_a_warning_repeated_for_every_day(broken_copy):
    result = content_check(broken_copy)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    template_lines = [line for line in lines if "no WhatsApp template" in line]
    assert template_lines == [
        "warning (23 days): no WhatsApp template: people outside the 24-hour window cannot receive "
        "this day (advent-2026 days 1-6, 8-24)"  # day 7 cannot be read, so it is not counted
    ]
    [error] = [line for line in lines if line.startswith("error")]
    assert error.startswith("error: advent-2026 day 07: mood: unknown front matter field")
    assert lines.index(error) < lines.index(template_lines[0])  # errors first
    assert "Traceback" not in result.stdout + result.stderr


def test_start_goes_on_after_a_content_error_with_a_clear_sentence(broken_copy):
    result = content_check(broken_copy)
    note = dev.content_note(result.returncode, result.stdout)
    assert note.strip() == (
        "content check found 1 error (above); starting anyway so you can try "
        "the rest: fix it before December."
    )
    assert dev.content_note(0, "24 posts checked, 0 errors, 24 warnings") is None


def test_the_suite_spreads_over_every_core_then_runs_the_timing_tests_alone():
    assert dev.pytest_runs(["-q"]) == [
        ["-n", "auto", "-m", "not timing", "-q"],
        ["-n", "0", "-m", "timing", "-q"],
    ]
    assert dev.pytest_runs(["-n", "0", "tests/test_keywords.py"]) == [["-n", "0", "tests/test_keywords.py"]]
    assert dev.pytest_runs(["-m", "timing"]) == [["-m", "timing"]]
    assert dev.pytest_runs(["--collect-only", "-q"]) == [["--collect-only", "-q"]]


def test_no_tests_in_one_run_of_two_is_not_a_failure_but_none_at_all_is():
    assert dev.outcome([0, 5]) == 0
    assert dev.outcome([5, 0]) == 0
    assert dev.outcome([1, 5]) == 1
    assert dev.outcome([0, 2]) == 2
    assert dev.outcome([5, 5]) == 5
