"""Bad configuration stops start-up with one clear message and exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from advent.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def no_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the defaults; a suite run on PostgreSQL sets DATABASE_URL."""
    monkeypatch.delenv("DATABASE_URL", raising=False)


def test_defaults_run_on_the_simulator_and_sqlite_in_instance():
    settings = load_settings(_env_file=None)
    assert settings.provider == "simulator"
    assert settings.database_url == "sqlite:///instance/rehearsal.db"
    assert str(settings.messages_dir) == "messages" and str(settings.schedules_dir) == "schedules"


def test_each_bad_key_is_named_with_the_reason():
    with pytest.raises(ConfigError) as caught:
        load_settings(
            _env_file=None,
            ADVENT_PROVIDER="carrier-pigeon",
            ADVENT_SEND_RATE="fast",
            DATABASE_URL="mysql://x",
        )
    message = str(caught.value)
    assert "ADVENT_PROVIDER" in message and "'simulator' or 'twilio'" in message
    assert "ADVENT_SEND_RATE" in message and "DATABASE_URL" in message


def test_twilio_without_credentials_names_what_is_missing():
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, ADVENT_PROVIDER="twilio")
    message = str(caught.value)
    for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM"):
        assert key in message


def test_hosting_style_postgres_urls_are_accepted():
    settings = load_settings(_env_file=None, DATABASE_URL="postgres://u:p@db/advent")
    assert settings.database_url == "postgresql+psycopg://u:p@db/advent"


def test_the_command_exits_2_with_one_message_and_no_traceback(tmp_path):
    env = {**os.environ, "ADVENT_PROVIDER": "nope", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "advent.cli", "stats"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "ADVENT_PROVIDER" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_the_web_app_refuses_an_out_of_date_schema_with_a_clear_message(settings):
    from advent import create_app

    with pytest.raises(SystemExit) as caught:
        create_app(settings)  # the database was never upgraded
    assert caught.value.code == 2


def test_a_bad_schedule_names_the_file_field_and_problem(project, settings):
    from advent.content.schedules import ScheduleError, load_schedules

    path = project / "schedules" / "advent-2026.toml"
    path.write_text(
        path.read_text()
        .replace('"Europe/London"', '"Europe/Londn"')
        .replace('late_joiners = "today"', 'late_joiners = "someday"')
    )
    with pytest.raises(ScheduleError) as caught:
        load_schedules(project / "schedules")
    message = str(caught.value)
    assert "advent-2026.toml" in message
    assert "timezone: unknown IANA timezone 'Europe/Londn'" in message
    assert "late_joiners" in message


def test_a_join_keyword_that_already_means_stop_is_refused(project):
    from advent.content.schedules import ScheduleError, load_schedules

    path = project / "schedules" / "advent-2026.toml"
    path.write_text(path.read_text().replace('join_keyword = "HAPPY"', 'join_keyword = "stop"'))
    with pytest.raises(ScheduleError) as caught:
        load_schedules(project / "schedules")
    assert "join_keyword: 'stop' already means STOP, HELP, JOIN or TIME" in str(caught.value)


TWILIO = dict(TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN="token", TWILIO_FROM="+15005550006")


def test_the_simulator_and_a_real_provider_keep_separate_default_databases():
    rehearsal = load_settings(_env_file=None)
    live = load_settings(_env_file=None, ADVENT_PROVIDER="twilio", **TWILIO)
    assert rehearsal.database_url.endswith("instance/rehearsal.db")
    assert live.database_url.endswith("instance/advent.db")


def test_a_misspelt_setting_is_warned_about_naming_the_real_one(monkeypatch, capsys):
    monkeypatch.setenv("ADVENT_PROVDER", "twilio")
    settings = load_settings(_env_file=None)
    assert settings.provider == "simulator"  # still ignored, but no longer silently
    err = capsys.readouterr().err
    assert "ADVENT_PROVDER is not a setting advent knows" in err
    assert "did you mean ADVENT_PROVIDER?" in err
    assert len(err.strip().splitlines()) == 1


def test_a_misspelt_key_in_dot_env_is_warned_about(tmp_path, capsys):
    env_file = tmp_path / ".env"
    env_file.write_text("ADVENT_ORGANISER_NAM=Sam\nDATABSE_URL=sqlite:///x.db\nFLASK_DEBUG=1\n")
    load_settings(_env_file=env_file)
    err = capsys.readouterr().err
    assert "ADVENT_ORGANISER_NAM is not a setting" in err and "ADVENT_ORGANISER_NAME?" in err
    assert "did you mean DATABASE_URL?" in err
    assert "FLASK_DEBUG" not in err  # other programs' settings are none of our business


def test_an_unknown_advent_name_with_no_near_miss_points_at_the_readme(monkeypatch, capsys):
    monkeypatch.setenv("ADVENT_COLOUR_SCHEME", "blue")
    load_settings(_env_file=None)
    assert "ADVENT_COLOUR_SCHEME is not a setting" in capsys.readouterr().err


def test_real_settings_in_any_case_give_no_warning(monkeypatch, capsys):
    monkeypatch.setenv("advent_send_rate", "2")
    assert load_settings(_env_file=None, database_url="").send_rate_per_second == 2
    assert capsys.readouterr().err == ""


def test_region_uk_is_refused_suggesting_gb():
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, ADVENT_DEFAULT_REGION="UK")
    message = str(caught.value)
    assert "ADVENT_DEFAULT_REGION" in message and "GB for the United Kingdom" in message


def test_a_lower_case_region_is_accepted():
    assert load_settings(_env_file=None, ADVENT_DEFAULT_REGION="ie").default_region == "IE"


def test_a_bad_region_stops_the_command_with_exit_2(tmp_path):
    env = {**os.environ, "ADVENT_DEFAULT_REGION": "UK", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "advent.cli", "stats"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "ADVENT_DEFAULT_REGION" in result.stderr and "GB" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
