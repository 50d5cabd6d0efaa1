"""`advent send`, `advent stats`, `advent phone` and `advent subscribers`, as an organiser uses them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from advent.cli import main
from tests.helpers import add_people


@pytest.fixture
def advent(runtime):
    """Run `advent ...` against the test's runtime (its database, simulator and clock)."""
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), obj=runtime, catch_exceptions=False)

    return run


def test_send_dry_run_shows_the_post_and_sends_nothing(advent, runtime, schedule, simulator):
    add_people(runtime.session(), schedule, 2, datetime(2026, 11, 30, tzinfo=UTC))
    result = advent("send", "--date", "2026-12-05", "--dry-run")
    assert result.exit_code == 0
    assert "2 on the list" in result.output and "GSM-7" in result.output
    assert "Dry run: nothing sent." in result.output
    assert simulator.posts_received() == {}


def test_send_twice_sends_once_and_stats_count_each_status(advent, runtime, schedule, simulator, clock):
    people = add_people(runtime.session(), schedule, 3, datetime(2026, 11, 30, tzinfo=UTC))
    first = advent("send", "--date", "2026-12-05")
    second = advent("send", "--date", "2026-12-05")
    assert "3 newly planned, 3 people handed over now" in first.output
    assert "0 newly planned, 0 people handed over now" in second.output
    assert simulator.posts_received() == {p.phone: 1 for p in people}
    clock.advance(60)
    rows = json.loads(advent("stats", "--json").output)
    assert rows == [
        {"campaign": "advent-2026", "day": "2026-12-05", "total": 3, "day_status": "sent", "delivered": 3}
    ]
    assert "3 deliveries (3 delivered)" in advent("stats", "--date", "2026-12-05").output


def test_send_outside_the_calendar_says_which_dates_work(advent):
    result = advent("send", "--date", "2026-12-25")
    assert result.exit_code == 2
    assert "2026-12-01 to 2026-12-24" in result.output


def test_send_with_a_malformed_date_names_the_format(advent):
    result = advent("send", "--date", "5th December")
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_phone_plays_a_text_and_prints_the_reply(advent):
    result = advent("phone", "+447911123456", "HAPPY")
    assert result.exit_code == 0 and "you're in" in result.output
    assert "invalid" not in advent("phone", "07911 123456", "HELP").output.lower()


def test_phone_refuses_an_invalid_number_with_the_reason(advent):
    result = advent("phone", "12345", "HAPPY")
    assert result.exit_code == 2 and "not a valid phone number" in result.output


def test_invite_is_double_opt_in_and_never_spams(advent, runtime, simulator):
    first = advent("subscribers", "invite", "+447911123456", "--name", "Anna")
    assert first.exit_code == 0, first.output
    invite_text = simulator.received_by("+447911123456")[0]["body"]
    assert "Sam invites you" in invite_text and "reply HAPPY" in invite_text
    listing = advent("subscribers", "list").output
    assert "invited" in listing and "+447911123456" not in listing  # masked
    again = advent("subscribers", "invite", "+447911123456")
    assert again.exit_code == 1 and "already invited" in again.output
    assert len(simulator.received_by("+447911123456")) == 1
    advent("phone", "+447911123456", "HAPPY")
    history = json.loads(advent("subscribers", "list", "--json").output)[0]
    assert history["status"] == "active"
    assert [(e["kind"], e["method"]) for e in history["history"]] == [
        ("invite", "organiser"),
        ("opt_in", "invite_reply"),
    ]


def test_nobody_who_said_stop_is_invited_again(advent):
    advent("phone", "+447911123456", "HAPPY")
    advent("phone", "+447911123456", "STOP")
    result = advent("subscribers", "invite", "+447911123456")
    assert result.exit_code == 1 and "said STOP" in result.output


def test_remove_takes_someone_off_and_keeps_the_record(advent):
    advent("phone", "+447911123456", "HAPPY")
    assert advent("subscribers", "remove", "+447911123456").exit_code == 0
    person = json.loads(advent("subscribers", "list", "--json").output)[0]
    assert person["status"] == "removed"
    assert [e["kind"] for e in person["history"]] == ["opt_in", "opt_out"]


def test_alerts_show_what_needs_attention_once(advent, runtime, schedule):
    runtime.schedules = [schedule.model_copy(update={"list_cap": 1})]
    advent("phone", "+447911123456", "HAPPY")
    advent("phone", "+447911123457", "HAPPY")
    first = advent("alerts")
    assert "list_full" in first.output and "waiting list" in first.output
    assert "Nothing needs your attention." in advent("alerts").output
    assert "list_full" in advent("alerts", "--all").output


def test_a_whatsapp_invite_needs_its_own_approved_template(advent, simulator):
    result = advent("subscribers", "invite", "+447911123456", "--whatsapp")
    assert result.exit_code == 1 and "whatsapp_invite_template_sid" in result.output
    assert simulator.received_by("+447911123456") == []


def test_stats_problems_lists_what_did_not_arrive_and_why(advent, runtime, schedule, settings, clock):
    from advent.providers.simulator import Simulator

    add_people(runtime.session(), schedule, 1, datetime(2026, 11, 30, tzinfo=UTC))
    runtime.provider = Simulator(settings.simulator_path, failure_rate=1.0, clock=clock)
    advent("send", "--date", "2026-12-05")
    clock.advance(60)
    listing = advent("stats", "--problems").output
    assert "undelivered (SIM-30003)" in listing and "switched off" in listing
    assert "+44•••••••000" in listing and "+447911100000" not in listing
