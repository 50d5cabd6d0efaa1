"""Going live never reuses a rehearsal's data: a database belongs to one kind of provider."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from advent.cli import main
from advent.config import load_settings
from advent.content.schedules import load_schedules
from advent.providers.simulator import Simulator
from advent.providers.twilio.provider import TwilioProvider
from advent.runtime import build_runtime
from advent.store.database import describe_location, make_engine
from advent.store.migrate import upgrade
from advent.store.stamps import WrongDatabase
from tests.helpers import add_people
from tests.twilio_double import twilio_settings

ROOT = Path(__file__).resolve().parent.parent


def simulator_settings(project: Path, **extra: str):
    return load_settings(
        _env_file=None,
        ADVENT_INSTANCE_DIR=str(project / "instance"),
        ADVENT_MESSAGES_DIR=str(project / "messages"),
        ADVENT_SCHEDULES_DIR=str(project / "schedules"),
        **extra,
    )


@pytest.mark.sqlite_only("the default database files of the simulator and of a real provider")
def test_by_default_the_simulator_and_twilio_keep_separate_databases(project, runtime, clock):
    add_people(runtime.session(), runtime.schedule(), 2, datetime(2026, 11, 30, tzinfo=UTC))
    live_settings = twilio_settings(project)
    assert live_settings.database_url != runtime.settings.database_url
    upgrade(make_engine(live_settings.database_url))
    live = build_runtime(live_settings, provider=TwilioProvider.from_settings(live_settings))
    from advent.people.subscriptions import active_count

    with live.session() as session:
        assert active_count(session, live.schedule().campaign) == 0  # no test numbers came along


def test_a_rehearsal_database_refuses_a_real_provider_saying_how_to_go_live(project, runtime):
    settings = twilio_settings(project, DATABASE_URL=runtime.settings.database_url)
    with pytest.raises(WrongDatabase) as caught:
        build_runtime(settings, provider=TwilioProvider.from_settings(settings))
    message = str(caught.value)
    assert f"{describe_location(settings.database_url)} belongs to a rehearsal on the simulator" in message
    assert "point DATABASE_URL at a fresh database" in message and "Going live" in message
    assert "to start over deliberately, delete this database" in message


def test_a_live_database_refuses_the_simulator(project, tw, clock):
    settings = simulator_settings(project, DATABASE_URL=tw.settings.database_url)
    with pytest.raises(WrongDatabase) as caught:
        build_runtime(
            settings, provider=Simulator(settings.simulator_path, clock=clock, rng=random.Random(1))
        )
    message = str(caught.value)
    assert (
        f"{describe_location(settings.database_url)} belongs to a live list sent through a real provider"
        in message
    )
    assert "unset DATABASE_URL" in message


def test_the_command_refuses_with_one_sentence_and_exit_2(project, runtime):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ADVENT_PROVIDER": "twilio",
        "DATABASE_URL": runtime.settings.database_url,
        "ADVENT_SCHEDULES_DIR": str(project / "schedules"),
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "token",
        "TWILIO_FROM": "+15005550006",
    }
    result = subprocess.run(
        [sys.executable, "-m", "advent.cli", "stats"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "belongs to a rehearsal on the simulator" in line


def test_a_database_from_before_the_stamp_with_people_on_it_must_be_claimed(project, monkeypatch):
    settings = simulator_settings(project)
    engine = make_engine(settings.database_url, settings.instance_dir)
    upgrade(engine)
    from sqlmodel import Session

    [schedule] = load_schedules(settings.schedules_dir)
    add_people(Session(engine), schedule, 1, datetime(2026, 11, 30, tzinfo=UTC))
    live_settings = twilio_settings(project, DATABASE_URL=settings.database_url)
    with pytest.raises(WrongDatabase) as caught:
        build_runtime(live_settings, provider=TwilioProvider.from_settings(live_settings))
    assert "holds 1 subscriber(s) and 0 delivery(ies)" in str(caught.value)
    assert "`advent db belongs-to live`" in str(caught.value)

    monkeypatch.chdir(project)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    runner = CliRunner()
    claimed = runner.invoke(main, ["db", "belongs-to", "live"])
    assert claimed.exit_code == 0 and "now belongs to a live list" in claimed.output
    build_runtime(live_settings, provider=TwilioProvider.from_settings(live_settings))
    again = runner.invoke(main, ["db", "belongs-to", "rehearsal"])
    assert again.exit_code == 1 and "already belongs to a live list" in again.output
