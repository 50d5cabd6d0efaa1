"""Pure modules stay pure: importing one loads no web framework and no database, so the
content checks and the keyword rules run (and are tested) without either."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from advent.cli import main
from advent.config import Settings
from advent.runtime import Runtime
from advent.store.migrate import current_and_head, head_from_files
from tests.helpers import add_friends

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("flask", "sqlalchemy", "sqlmodel", "alembic", "twilio", "apscheduler")
PURE = [
    "advent.people.keywords",
    "advent.people.phones",
    "advent.content.posts",
    "advent.content.schedules",
    "advent.content.segments",
    "advent.content.replies",
    "advent.content.promises",
    "advent.content.check",
    "advent.content.replies_check",
    "advent.config",
]


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_imports_no_framework_and_no_database(module: str) -> None:
    probe = f"import sys, {module}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == [], f"importing {module} loads {', '.join(loaded)}"


# The `advent` command: each command imports only what it needs, so it starts quickly.
WEB_CLOCK_AND_TWILIO = ("flask", "werkzeug", "twilio", "apscheduler")
PROBE = """
import sys
from advent.cli import main
code = main({args!r}, standalone_mode=False)
print("LOADED", " ".join(sorted({{m.split(".")[0] for m in sys.modules}})), file=sys.stderr)
sys.exit(code or 0)
"""


def _run_advent(args: list[str], settings: Settings) -> tuple[str, set[str]]:
    env = {
        **os.environ,
        "ADVENT_INSTANCE_DIR": str(settings.instance_dir),
        "ADVENT_MESSAGES_DIR": str(settings.messages_dir),
        "ADVENT_SCHEDULES_DIR": str(settings.schedules_dir),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)],
        cwd=settings.instance_dir,  # away from any .env of the developer's
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    loaded = done.stderr.rsplit("LOADED ", 1)[1].split()
    return done.stdout, set(loaded)


def test_advent_help_loads_no_web_framework_no_twilio_no_scheduler_and_no_database(
    settings: Settings,
) -> None:
    shown, loaded = _run_advent(["--help"], settings)
    assert "stats        Deliveries per day" in shown
    assert loaded.isdisjoint(WEB_CLOCK_AND_TWILIO + ("sqlalchemy", "sqlmodel", "alembic"))


def test_advent_stats_loads_no_web_framework_no_twilio_no_scheduler_and_no_alembic(
    runtime: Runtime, settings: Settings
) -> None:
    add_friends(runtime, runtime.schedule())
    shown, loaded = _run_advent(["stats"], settings)
    assert "invite" in shown or "No deliveries yet." in shown
    assert "sqlmodel" in loaded  # it did read the database
    assert loaded.isdisjoint(WEB_CLOCK_AND_TWILIO + ("alembic",))


def test_the_command_list_in_help_reads_as_each_commands_own_help() -> None:
    # `advent --help` lists the commands from summaries kept beside their names, so that it
    # imports none of them; this is the list click would make from the commands themselves.
    everything = click.Group(commands=dict(main.commands), help=main.help)
    for width in (60, 80, 120):
        runner = CliRunner(env={"COLUMNS": str(width)})
        expected = runner.invoke(everything, ["--help"], prog_name="advent").output
        shown = runner.invoke(main, ["--help"], prog_name="advent").output
        assert shown.split("Commands:")[1] == expected.split("Commands:")[1]


def test_the_start_up_schema_check_finds_the_same_newest_revision_as_alembic(runtime: Runtime) -> None:
    assert head_from_files() == current_and_head(runtime.db)[1]
