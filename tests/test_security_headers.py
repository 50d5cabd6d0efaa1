"""Every response tells the browser what it may load, frame, sniff and pass on."""

from __future__ import annotations

import pytest

from advent import create_app
from advent.runtime import build_runtime
from tests.dashboard_helpers import make_organiser, sign_in
from tests.database_template import install_migrated_database
from tests.twilio_double import twilio_settings

PAGES = ["/", "/days/advent-2026/2026-12-03", "/replies", "/people", "/alerts", "/phone"]


def _policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split(maxsplit=1)[1] for part in header.split("; ")}


@pytest.fixture
def signed_in(client, runtime):
    make_organiser(runtime)
    sign_in(client)
    return client


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/login"),
        ("GET", "/healthz"),
        ("GET", "/static/advent.css"),
        ("GET", "/no-such-page"),
        ("POST", "/twilio/status"),
        ("GET", "/"),  # signed out: the redirect to sign in carries them too
    ],
)
def test_every_response_carries_the_security_headers(client, method, path):
    response = client.open(path, method=method)
    policy = _policy(response)
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    assert policy["form-action"] == "'self'" and policy["object-src"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", PAGES)
def test_the_dashboard_pages_allow_no_inline_style_or_script(signed_in, path):
    response = signed_in.get(path, follow_redirects=True)
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["style-src"] == "'self'" and "unsafe" not in response.headers["Content-Security-Policy"]
    assert "<script>" not in response.text and " style=" not in response.text


def test_only_the_stats_page_lets_its_charts_style_themselves(signed_in):
    policy = _policy(signed_in.get("/stats"))
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["script-src"] == "'self'"  # an injected style could restyle, never run code


def test_no_hsts_over_plain_http(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_hsts_when_the_public_address_is_https(project, clock):
    settings = twilio_settings(project)  # PUBLIC_BASE_URL=https://advent.example.org
    install_migrated_database(settings.database_url)
    app = create_app(runtime=build_runtime(settings, check_schema=False))
    header = app.test_client().get("/login").headers["Strict-Transport-Security"]
    assert header.startswith("max-age=31536000")
