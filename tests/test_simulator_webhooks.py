"""On the simulator (the default provider) the webhooks believe only this machine, or a request
signed as Twilio signs, with the instance's secret key in place of an Auth Token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select
from twilio.request_validator import RequestValidator

from advent import create_app
from advent.config import load_settings
from advent.providers.simulator import Simulator
from advent.runtime import build_runtime
from advent.store.tables import ConsentEvent, DeliveryEvent, InboundMessage, Subscriber
from tests.database_template import install_migrated_database
from tests.webhook_helpers import reply_text

ROOT = Path(__file__).resolve().parent.parent
FRIEND = "+447700900123"
JOIN = {"From": FRIEND, "To": "+15005550006", "Body": "HAPPY", "MessageSid": "SMsim1"}
RECEIPT = {"MessageSid": "SMsim1", "MessageStatus": "delivered"}
ELSEWHERE = {"REMOTE_ADDR": "203.0.113.7"}  # a documentation address: not this machine
BASE = "http://127.0.0.1:5000"  # PUBLIC_BASE_URL's default, the URL a local signer signs


def _settings(project, **extra: str):
    return load_settings(
        _env_file=None,
        ADVENT_INSTANCE_DIR=str(project / "instance"),
        ADVENT_MESSAGES_DIR=str(project / "messages"),
        ADVENT_SCHEDULES_DIR=str(project / "schedules"),
        **extra,
    )


@pytest.fixture
def served(project, clock):
    """The app as `advent run` builds it: the simulator made from the settings."""
    settings = _settings(project)
    install_migrated_database(settings.database_url)
    rt = build_runtime(settings, provider=Simulator.from_settings(settings), check_schema=False)
    rt.clock = clock
    return create_app(runtime=rt).test_client(), rt


def signed_post(client, path: str, form: dict[str, str], *, token: str):
    """Signed as Twilio signs, from another machine."""
    signature = RequestValidator(token).compute_signature(BASE + path, form)
    return client.post(
        path, data=form, headers={"X-Twilio-Signature": signature}, environ_overrides=ELSEWHERE
    )


def _written(rt) -> list[object]:
    with rt.session() as session:
        return [
            row
            for model in (InboundMessage, Subscriber, ConsentEvent, DeliveryEvent)
            for row in session.exec(select(model)).all()
        ]


def _instance_secret(project) -> str:
    return (project / "instance" / "secret_key").read_text().strip()


@pytest.mark.parametrize(("path", "form"), [("/twilio/inbound", JOIN), ("/twilio/status", RECEIPT)])
def test_an_unsigned_post_from_another_machine_is_refused_and_nothing_is_written(served, path, form):
    client, rt = served
    response = client.post(path, data=form, environ_overrides=ELSEWHERE)
    assert response.status_code == 403
    assert _written(rt) == []


def test_a_wrongly_signed_post_from_another_machine_is_refused(served):
    client, rt = served
    response = signed_post(client, "/twilio/inbound", JOIN, token="not-the-secret")
    assert response.status_code == 403
    assert _written(rt) == []


def test_a_post_signed_with_the_instance_secret_joins_from_anywhere(served, project):
    client, rt = served
    client.get("/healthz")  # the web app makes the instance's secret on first start
    response = signed_post(client, "/twilio/inbound", JOIN, token=_instance_secret(project))
    assert response.status_code == 200
    assert "you're in" in reply_text(response)


def test_a_post_signed_with_advent_secret_key_is_accepted(project, clock):
    settings = _settings(project, ADVENT_SECRET_KEY="rehearsal-secret")
    install_migrated_database(settings.database_url)
    rt = build_runtime(settings, provider=Simulator.from_settings(settings), check_schema=False)
    rt.clock = clock
    client = create_app(runtime=rt).test_client()
    response = signed_post(client, "/twilio/inbound", JOIN, token="rehearsal-secret")
    assert response.status_code == 200 and "you're in" in reply_text(response)


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_an_unsigned_post_from_this_machine_still_works(served, address):
    client, _rt = served
    response = client.post("/twilio/inbound", data=JOIN, environ_overrides={"REMOTE_ADDR": address})
    assert response.status_code == 200 and "you're in" in reply_text(response)


def test_a_request_forwarded_by_an_unannounced_local_proxy_must_be_signed(served):
    """nginx on the same machine makes every request look local; its forwarding header gives it away."""
    client, rt = served
    response = client.post("/twilio/inbound", data=JOIN, headers={"X-Forwarded-For": "203.0.113.7"})
    assert response.status_code == 403
    assert _written(rt) == []


def test_the_first_request_from_another_machine_warns_once(served, caplog):
    client, _rt = served
    client.get("/healthz")  # from this machine: nothing to say
    assert "served beyond this machine" not in caplog.text
    for path in ("/", "/login", "/healthz"):  # "/" is turned away to sign in; it still counts
        client.get(path, environ_overrides=ELSEWHERE)
    warnings = [r for r in caplog.records if "served beyond this machine" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"
    assert "203.0.113.7" in warnings[0].getMessage()


def test_advent_run_beyond_loopback_on_the_simulator_warns_at_start(project):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ADVENT_INSTANCE_DIR": str(project / "instance"),
        "ADVENT_MESSAGES_DIR": str(project / "messages"),
        "ADVENT_SCHEDULES_DIR": str(project / "schedules"),
    }
    advent = [sys.executable, "-m", "advent.cli"]
    subprocess.run([*advent, "db", "upgrade"], cwd=project, env=env, check=True, capture_output=True)
    with socket.socket() as probe:  # a free port, chosen by the system
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [*advent, "run", "--host", "0.0.0.0", "--port", str(port)],
        cwd=project,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stderr is not None
        seen = []
        for line in server.stderr:  # the warning comes before the server starts listening
            seen.append(line)
            if "served beyond this machine" in line or "Running on" in line or len(seen) > 50:
                break
    finally:
        server.terminate()
        server.wait(timeout=30)
    warning = [line for line in seen if "served beyond this machine" in line]
    assert warning and "WARNING" in warning[0] and "--host 0.0.0.0" in warning[0]
    assert "ADVENT_PROVIDER=twilio" in warning[0]
