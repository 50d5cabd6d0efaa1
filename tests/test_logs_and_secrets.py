"""No phone number and no secret in what advent logs or prints about its settings."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from advent.config import ConfigError, load_settings
from advent.content.posts import load_post
from advent.people.subscriptions import join
from advent.providers.base import OutgoingMessage
from advent.sending.days import send_day
from tests.twilio_double import twilio_setup

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "S3cretPassw0rd"
FRIEND = "+447700900123"
DAY = date(2026, 12, 3)


def test_a_bad_database_url_is_named_without_its_password():
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, DATABASE_URL=f"mysql://admin:{PASSWORD}@db.example/advent")
    message = str(caught.value)
    assert "DATABASE_URL" in message and "sqlite:/// or postgresql://" in message
    assert "db.example" in message  # still enough to recognise which value is meant
    assert PASSWORD not in message


def test_the_command_prints_the_settings_error_without_the_password(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"mysql://admin:{PASSWORD}@db/advent"}
    result = subprocess.run(
        [sys.executable, "-m", "advent.cli", "stats"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2 and "DATABASE_URL" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout


def test_a_bad_url_setting_with_credentials_hides_them():
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, PUBLIC_BASE_URL=f"ftp://organiser:{PASSWORD}@advent.example.org")
    assert "PUBLIC_BASE_URL" in str(caught.value) and PASSWORD not in str(caught.value)


def test_a_send_and_a_lookup_through_twilio_log_no_full_number(project, clock, double, caplog):
    caplog.set_level(logging.DEBUG)
    tw = twilio_setup(project, clock, TWILIO_API_BASE_URL=double.base_url)
    session, schedule = tw.sender.session, tw.runtime.schedule()
    join(session, schedule, phone=FRIEND, channel="sms", method="keyword", now=clock())
    session.commit()

    result = send_day(tw.sender, schedule, DAY, load_post(tw.settings.messages_dir, schedule, DAY))
    assert result.handled == 1 and [form["To"] for form in double.created] == [FRIEND]
    # Reconciling asks Twilio for the messages to a number: the request carries it in its URL.
    found = tw.provider.lookup(
        OutgoingMessage(reference="1", to=FRIEND, channel="sms", body=""), clock() - timedelta(days=1)
    )
    assert found is not None

    digits = FRIEND.removeprefix("+")
    # The stand-in's own web server (werkzeug) logs as Twilio's side would, number and all: proof
    # that the capture sees this process's logging. Everything else is advent and its libraries.
    theirs = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any(digits in line for line in theirs), "the capture missed the lookup; it would prove nothing"
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "werkzeug")
    assert FRIEND not in logged and digits not in logged and "%2B" + digits not in logged
