"""The harness for driving the real pages in Debian's Chromium through Playwright.

`site` serves the real app from a thread on 127.0.0.1 (a free port) over a fresh SQLite file and
the simulator; `page` is a fresh browser tab; `signed_in(page, site)` signs in the way a person
does; `snap(page, name)` saves the page phone-sized and desktop-sized under docs/screenshots/
for the README. A new page's flow is one test function using these.

Playwright's own browser download cannot work here, so it drives the `chromium` on PATH. Without
it the tests skip, saying why; under CI (the CI variable set) they fail instead, so a CI run can
never pass by skipping them.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from advent import create_app
from advent.config import Settings
from advent.providers.simulator import Simulator
from advent.runtime import Runtime, build_runtime
from advent.sending.dispatch import Sender
from tests.dashboard_helpers import ORGANISER, PASSWORD, make_organiser
from tests.database_template import install_migrated_database

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SIZES = {"mobile": (390, 844), "desktop": (1280, 900)}
# Receipts come this long apart: short, so ticks move while the test watches.
RECEIPT_DELAY_SECONDS = 0.3
# Waits for what the organiser would see; generous, because the machine may be busy. Tests wait
# for states, never assert how long something took.
WAIT_MS = 20_000
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class RunningClock:
    """Real seconds passing, counted from a fixed moment (09:00 UTC on 3 December 2026, a day
    of the shipped calendar after its send time), so the tests never depend on today's date
    while the simulator's receipts still fall due as the browser watches."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.began = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.began)


@dataclass
class Site:
    url: str
    runtime: Runtime
    clock: RunningClock
    server_errors: list[str] = field(default_factory=list)
    # What Chromium refused under the Content-Security-Policy, from its console: a page that
    # needed an inline script or style (or anything from elsewhere) would be broken for real.
    csp_violations: list[str] = field(default_factory=list)

    def sender(self) -> Sender:
        """A sender on the same database and simulated network as the served app."""
        rt = self.runtime
        return Sender(rt.session(), rt.provider, rt.settings, clock=self.clock)


def chromium_path() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    reason = "Debian's chromium is not on PATH (apt-get install chromium); the browser tests need it"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, and under CI they must run, not skip", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    path = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:
    from werkzeug.serving import make_server

    install_migrated_database(settings.database_url)
    clock = RunningClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    simulator = Simulator(settings.simulator_path, delay_seconds=RECEIPT_DELAY_SECONDS, clock=clock)
    runtime = build_runtime(settings, provider=simulator, check_schema=False)
    runtime.clock = clock
    make_organiser(runtime)
    app = create_app(runtime=runtime)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    made = Site(f"http://127.0.0.1:{server.server_port}", runtime, clock)

    @app.after_request
    def _remember_errors(response):  # type: ignore[no-untyped-def]
        # A page that errors while the browser carries on would otherwise go unnoticed.
        if response.status_code >= 500:
            from flask import request

            made.server_errors.append(f"{request.method} {request.path} -> {response.status_code}")
        return response

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield made
    server.shutdown()
    thread.join()
    runtime.db.dispose()
    assert made.server_errors == [], "the server answered with errors"
    assert made.csp_violations == [], "Chromium refused part of a page under the Content-Security-Policy"


@pytest.fixture
def page(browser, site: Site):  # type: ignore[no-untyped-def]
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=site.url, viewport={"width": 390, "height": 844}, color_scheme="light"
    )
    made = context.new_page()
    made.on(
        "console",
        lambda message: (
            site.csp_violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield made
    context.close()


def signed_in(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the real form, as the organiser would."""
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Account name").fill(ORGANISER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name=f"Sign out {ORGANISER}")).to_be_visible()


def snap(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Save the page as it looks now, phone-sized and desktop-sized, over the last run's images."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_load_state("networkidle")
        page.screenshot(path=SCREENSHOTS / f"{name}-{size}.png", animations="disabled", caret="hide")
    page.set_viewport_size(before)
