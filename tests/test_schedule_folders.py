"""A schedule reads its posts from a folder inside the messages folder, never from elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from advent.content.schedules import ScheduleError, load_schedules

ROOT = Path(__file__).resolve().parent.parent


def _schedule_reading(project: Path, content: str) -> None:
    path = project / "schedules" / "advent-2026.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('content = "advent-2026"', f"content = {content!r}"), encoding="utf-8")


@pytest.mark.parametrize("content", ["../../etc", "/etc", "advent-2026/../../secrets", "C:/Windows"])
def test_a_content_folder_outside_the_messages_folder_is_refused_at_load(project, content):
    _schedule_reading(project, content)
    with pytest.raises(ScheduleError) as caught:
        load_schedules(project / "schedules")
    message = str(caught.value)
    assert "advent-2026.toml" in message and "content" in message
    assert "outside the messages folder" in message


def test_a_folder_inside_the_messages_folder_still_loads(project):
    _schedule_reading(project, "advent-2026/./")
    assert [s.campaign for s in load_schedules(project / "schedules")] == ["advent-2026"]


def test_content_check_names_the_bad_folder_without_a_traceback(project):
    _schedule_reading(project, "../../etc")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ADVENT_INSTANCE_DIR": str(project / "instance")}
    result = subprocess.run(
        [sys.executable, "-m", "advent.cli", "content", "check"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1  # content check's answer for content that cannot be used
    assert "outside the messages folder" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
