"""The web app: health, the home page, and the webhook routes' manners."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from advent.content.posts import load_post
from advent.sending.days import send_day
from advent.store.database import make_engine
from tests.helpers import add_people


def test_healthz_reports_database_scheduler_and_todays_send_state(client, sender, schedule, runtime):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["scheduler"]["last_heartbeat"] is None  # no clock process yet
    assert body["today"] == [{"campaign": "advent-2026", "day": "2026-12-03", "state": "due"}]
    add_people(sender.session, schedule, 1, datetime(2026, 11, 30, tzinfo=UTC))
    day = date(2026, 12, 3)
    send_day(sender, schedule, day, load_post(runtime.settings.messages_dir, schedule, day))
    assert client.get("/healthz").get_json()["today"][0]["state"] == "sent"


def test_home_page_says_what_is_running(organiser):
    page = organiser.get("/").get_data(as_text=True)
    assert "Rehearsal: the built-in simulator" in page


@pytest.mark.sqlite_only("SQLite's pragmas")
def test_sqlite_runs_with_wal_and_foreign_keys(settings):
    database = make_engine(settings.database_url)
    with database.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_webhooks_only_take_post(client):
    # Open to the provider (no sign-in), but only for what it sends: a signed POST.
    assert client.get("/twilio/inbound").status_code == 405
    assert client.get("/twilio/status").status_code == 405
