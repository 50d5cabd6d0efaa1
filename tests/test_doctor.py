"""`advent doctor` finds the silent set-ups, in plain words, from Twilio-shaped answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import responses
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from advent.cli.checks import doctor
from advent.config import Settings, load_settings
from advent.content.schedules import load_schedules
from advent.organiser.doctor import run_doctor
from advent.providers.simulator import Simulator
from advent.providers.simulator.templates import Approval
from advent.providers.twilio.provider import TwilioProvider
from advent.store.database import make_engine
from advent.store.migrate import MIGRATIONS, upgrade
from tests.conftest import Clock
from tests.helpers import DAILY_TEMPLATE
from tests.twilio_double import ACCOUNT_SID, API, SMS_FROM, error_json, twilio_settings, twilio_setup

TEMPLATE = "HX" + "b" * 32
INBOUND = "https://advent.example.org/twilio/inbound"
SENDERS_URL = "https://messaging.twilio.com/v2/Channels/Senders"

# The newest migration: the doctor names it when the schema is current or behind.
HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


def with_schedule_template(project: Path) -> None:
    path = project / "schedules" / "advent-2026.toml"
    path.write_text(path.read_text() + f'whatsapp_template_sid = "{TEMPLATE}"\n')


def account_ok(mock: responses.RequestsMock) -> None:
    mock.add(
        responses.GET,
        f"{API}.json",
        json={"sid": ACCOUNT_SID, "friendly_name": "Sam's advent", "status": "active"},
    )


def number(mock: responses.RequestsMock, sms_url: str = INBOUND, **fields: Any) -> None:
    found = {
        "sid": "PN1",
        "phone_number": SMS_FROM,
        "sms_url": sms_url,
        "sms_method": "POST",
        "sms_application_sid": None,
        "capabilities": {"sms": True, "mms": True, "voice": True},
    } | fields
    mock.add(
        responses.GET,
        f"{API}/IncomingPhoneNumbers.json",
        json={
            "incoming_phone_numbers": [found],
            "next_page_uri": None,
            "page": 0,
            "page_size": 20,
            "uri": "/x",
        },
    )


def lines(settings: Settings) -> list[str]:
    schedules = load_schedules(settings.schedules_dir)
    return [f.line() for f in run_doctor(settings, schedules, TwilioProvider.from_settings(settings))]


def test_a_wrong_inbound_webhook_says_where_texts_go_and_what_to_set(
    project: Path, twilio_api: responses.RequestsMock
) -> None:
    account_ok(twilio_api)
    number(twilio_api, sms_url="https://old.example/sms")
    found = lines(twilio_settings(project))
    assert "ok   credentials work (account 'Sam's advent')" in found
    assert "ok   sender +15005550006 belongs to the account and can send SMS" in found
    assert (
        "FAIL inbound webhook: +15005550006 sends texts to https://old.example/sms; set it to "
        "https://advent.example.org/twilio/inbound (HTTP POST) in the Twilio console "
        "(Phone Numbers > Manage > Active numbers > (the number) > Messaging)"
    ) in found
    query = twilio_api.calls[1].request.url
    assert "PhoneNumber=%2B15005550006" in query


def test_bad_credentials_are_reported_and_the_rest_skipped(
    project: Path, twilio_api: responses.RequestsMock
) -> None:
    twilio_api.add(responses.GET, f"{API}.json", json=error_json(20003, 401, "Authenticate"), status=401)
    found = lines(twilio_settings(project))
    assert (
        "FAIL credentials: Twilio refused them (HTTP 401); copy TWILIO_ACCOUNT_SID and "
        "TWILIO_AUTH_TOKEN again from the Twilio console (Account Info on the dashboard)"
    ) in found
    assert "warn sender and webhook checks skipped until the credentials work" in found
    assert len(twilio_api.calls) == 1


def test_a_whatsapp_schedule_without_templates_fails_in_plain_words(
    project: Path, twilio_api: responses.RequestsMock
) -> None:
    account_ok(twilio_api)
    number(twilio_api)
    post = project / "messages" / "advent-2026" / "02.md"
    post.write_text(post.read_text().replace("day: 2\n", f"day: 2\ntemplate_sid: {TEMPLATE}\n"))
    found = lines(twilio_settings(project))
    template_line = next(line for line in found if "WhatsApp template" in line)
    assert template_line.startswith(
        "FAIL WhatsApp template: advent-2026 day(s) 1, 3-24 have no approved template, so "
        "friends who have not written in the last 24 hours will not get them; run `advent "
        "templates create --campaign advent-2026` and then `advent templates submit`, or add "
        "template_sid to those posts or whatsapp_template_sid to "
    )
    assert template_line.endswith("advent-2026.toml")


def test_a_good_set_up_passes_with_only_the_sandbox_reminder(
    project: Path, clock: Clock, twilio_api: responses.RequestsMock
) -> None:
    with_schedule_template(project)
    account_ok(twilio_api)
    number(twilio_api)
    tw = twilio_setup(project, clock)
    result = CliRunner().invoke(doctor, [], obj=tw.runtime)
    assert result.exit_code == 0, result.output
    assert "ok   inbound webhook: +15005550006 sends texts to " + INBOUND in result.output
    assert "ok   WhatsApp templates: every day of advent-2026 has one" in result.output
    assert "warn WhatsApp sandbox: Twilio cannot be asked about its settings" in result.output
    assert result.output.rstrip().endswith("All good.")


def test_doctor_exits_1_when_anything_fails(
    project: Path, clock: Clock, twilio_api: responses.RequestsMock
) -> None:
    account_ok(twilio_api)
    number(twilio_api, sms_url="")
    result = CliRunner().invoke(doctor, [], obj=twilio_setup(project, clock).runtime)
    assert result.exit_code == 1
    assert "sends texts to nowhere (no webhook is set)" in result.output


def test_a_local_public_base_url_cannot_receive_webhooks(
    project: Path, twilio_api: responses.RequestsMock
) -> None:
    account_ok(twilio_api)
    number(twilio_api)
    found = lines(twilio_settings(project, PUBLIC_BASE_URL="http://127.0.0.1:5000"))
    assert any(
        line.startswith(
            "FAIL public address: PUBLIC_BASE_URL is http://127.0.0.1:5000, "
            "which only this machine or network can reach"
        )
        for line in found
    )


def test_a_number_not_on_the_account_is_named(project: Path, twilio_api: responses.RequestsMock) -> None:
    account_ok(twilio_api)
    twilio_api.add(
        responses.GET,
        f"{API}/IncomingPhoneNumbers.json",
        json={"incoming_phone_numbers": [], "next_page_uri": None, "uri": "/x"},
    )
    found = lines(twilio_settings(project))
    assert (
        "FAIL sender: +15005550006 (TWILIO_FROM) is not a phone number of this Twilio "
        "account; buy or port it (Phone Numbers > Manage) or correct TWILIO_FROM"
    ) in found


def test_a_messaging_service_sending_texts_elsewhere_is_reported(
    project: Path, twilio_api: responses.RequestsMock
) -> None:
    sid = "MG" + "3" * 32
    account_ok(twilio_api)
    twilio_api.add(
        responses.GET,
        f"https://messaging.twilio.com/v1/Services/{sid}",
        json={
            "sid": sid,
            "friendly_name": "Advent",
            "inbound_request_url": "https://old.example/in",
            "use_inbound_webhook_on_number": False,
        },
    )
    number(twilio_api, sms_url="https://ignored.example/")
    found = lines(twilio_settings(project, TWILIO_MESSAGING_SERVICE_SID=sid))
    assert "ok   sender: Messaging Service 'Advent' exists" in found
    assert any(
        line.startswith(
            "FAIL inbound webhook: Messaging Service 'Advent' sends texts to "
            "https://old.example/in; choose 'Send a webhook' and set the "
            f"Request URL to {INBOUND}"
        )
        for line in found
    )
    assert not any("ignored.example" in line for line in found)  # the service's URL wins


def test_an_api_key_with_a_wrong_auth_token_is_caught(
    project: Path, twilio_api: responses.RequestsMock
) -> None:
    twilio_api.add(
        responses.GET,
        f"{API}.json",
        match=[responses.matchers.header_matcher({"Authorization": "Basic " + _basic("SKkey", "secret")})],
        json={"sid": ACCOUNT_SID, "friendly_name": "Sam", "status": "active"},
    )
    twilio_api.add(responses.GET, f"{API}.json", json=error_json(20003, 401), status=401)
    number(twilio_api)
    found = lines(twilio_settings(project, TWILIO_API_KEY="SKkey", TWILIO_API_SECRET="secret"))
    assert "ok   credentials work (account 'Sam')" in found
    assert any(
        line.startswith("FAIL auth token: Twilio answered HTTP 401")
        and "webhook signatures are checked with TWILIO_AUTH_TOKEN" in line
        for line in found
    )


def _basic(user: str, password: str) -> str:
    import base64

    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_a_whatsapp_sender_pointing_elsewhere_is_reported(
    project: Path, twilio_api: responses.RequestsMock
) -> None:
    account_ok(twilio_api)
    number(twilio_api)
    twilio_api.add(
        responses.GET,
        SENDERS_URL,
        json={
            "senders": [
                {
                    "sid": "XE1",
                    "sender_id": "whatsapp:+447700900999",
                    "status": "ONLINE",
                    "webhook": {"callback_url": "https://old.example/wa"},
                }
            ],
            "meta": {"key": "senders", "next_page_url": None},
        },
    )
    found = lines(twilio_settings(project, TWILIO_WHATSAPP_FROM="whatsapp:+447700900999"))
    assert (
        "FAIL inbound webhook: whatsapp:+447700900999 sends WhatsApp messages to "
        f"https://old.example/wa; set its webhook URL to {INBOUND} in Messaging > Senders > "
        "WhatsApp senders"
    ) in found


def test_with_the_simulator_only_content_and_schedules_are_checked(
    project: Path, twilio_api: responses.RequestsMock
) -> None:
    settings = load_settings(
        _env_file=None,
        ADVENT_MESSAGES_DIR=str(project / "messages"),
        ADVENT_SCHEDULES_DIR=str(project / "schedules"),
        ADVENT_INSTANCE_DIR=str(project / "instance"),
    )
    upgrade(make_engine(settings.database_url))
    findings = run_doctor(settings, load_schedules(settings.schedules_dir), Simulator.from_settings(settings))
    assert findings[1].line().startswith("ok   provider: the built-in simulator")
    assert "ok   content: every day of advent-2026 has a post (24 days)" in [f.line() for f in findings]
    # The simulator keeps WhatsApp's 24-hour window as Twilio does: no template is a failure too.
    assert [f.line() for f in findings if f.level == "FAIL"] == [
        "FAIL WhatsApp template: advent-2026 day(s) 1-24 have no approved template, so friends who "
        "have not written in the last 24 hours will not get them; run `advent templates create "
        "--campaign advent-2026` and then `advent templates submit`, or add template_sid to those "
        f"posts or whatsapp_template_sid to {project / 'schedules' / 'advent-2026.toml'}"
    ]
    assert len(twilio_api.calls) == 0


def test_a_broken_post_fails_the_content_check(project: Path) -> None:
    (project / "messages" / "advent-2026" / "05.md").unlink()
    settings = load_settings(
        _env_file=None,
        ADVENT_MESSAGES_DIR=str(project / "messages"),
        ADVENT_SCHEDULES_DIR=str(project / "schedules"),
        ADVENT_INSTANCE_DIR=str(project / "instance"),
    )
    findings = run_doctor(settings, load_schedules(settings.schedules_dir))
    assert any(f.line().startswith("FAIL content: advent-2026 day 05: no post: expected ") for f in findings)


def test_missing_twilio_settings_are_listed_as_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    unset = {
        name: ""
        for name in (
            "TWILIO_ACCOUNT_SID",
            "TWILIO_AUTH_TOKEN",
            "TWILIO_FROM",
            "TWILIO_WHATSAPP_FROM",
            "TWILIO_MESSAGING_SERVICE_SID",
            "TWILIO_API_KEY",
            "TWILIO_API_SECRET",
        )
    }
    result = CliRunner().invoke(doctor, [], env={"ADVENT_PROVIDER": "twilio", **unset})
    assert result.exit_code == 1
    assert (
        "FAIL settings: TWILIO_ACCOUNT_SID: required, starts with AC (Twilio console, Account Info)"
    ) in result.output
    assert "FAIL settings: TWILIO_FROM: a sender is required" in result.output
    assert "--help" not in result.output and "Usage" not in result.output
    help_text = " ".join(CliRunner().invoke(doctor, ["--help"]).output.split())
    assert "Exit status 1 if any check fails" in help_text


def _with_an_approved_template(project: Path) -> None:
    """The schedule names a WhatsApp template the simulated network has approved."""
    network = Simulator(project / "instance" / "phone-network.db", approval=Approval(seconds=0))
    sid = network.templates.create(DAILY_TEMPLATE).sid
    network.templates.submit(sid, "advent_2026_daily", "UTILITY")
    assert network.templates.status(sid).approval == "approved"
    schedule = project / "schedules" / "advent-2026.toml"
    schedule.write_text(schedule.read_text() + f'whatsapp_template_sid = "{sid}"\n')


def _doctor_on(project: Path, database_url: str, monkeypatch: pytest.MonkeyPatch):
    """`advent doctor` as an organiser runs it: settings from the environment, the simulator."""
    monkeypatch.chdir(project)  # no .env here
    env = {
        "ADVENT_PROVIDER": "simulator",
        "DATABASE_URL": database_url,
        "ADVENT_INSTANCE_DIR": str(project / "instance"),
        "ADVENT_MESSAGES_DIR": str(project / "messages"),
        "ADVENT_SCHEDULES_DIR": str(project / "schedules"),
    }
    return CliRunner().invoke(doctor, [], env=env)


def test_doctor_says_all_good_when_the_database_is_reachable_and_current(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{project / 'instance' / 'advent.db'}"
    upgrade(make_engine(url))
    _with_an_approved_template(project)
    result = _doctor_on(project, url, monkeypatch)
    assert result.exit_code == 0, result.output
    assert "ok   database: " in result.output and f"schema is current ({HEAD})" in result.output
    assert result.output.rstrip().endswith("All good.")


def test_a_database_whose_schema_is_behind_fails_and_says_what_to_run(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{project / 'instance' / 'advent.db'}"
    upgrade(make_engine(url), "0002")
    result = _doctor_on(project, url, monkeypatch)
    assert result.exit_code == 1
    expected = f"is at revision 0002, and this code needs revision {HEAD}; run `advent db upgrade`"
    assert expected in result.output
    assert "All good" not in result.output and "Traceback" not in result.output


def test_an_unreachable_postgresql_fails_in_one_line(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Port 1 on this machine: nothing listens there, so the connection is refused at once.
    result = _doctor_on(project, "postgresql://advent:secret@127.0.0.1:1/advent", monkeypatch)
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if "database" in line)
    assert line.startswith("FAIL database: cannot reach postgresql+psycopg://advent:***@127.0.0.1:1")
    assert "check DATABASE_URL and that the database server is running" in line
    assert "secret" not in result.output and "All good" not in result.output
