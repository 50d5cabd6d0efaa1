"""Fixtures: a real SQLite file per test, the shipped content, the simulator, and the Flask app."""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from advent import create_app
from advent.config import Settings, load_settings
from advent.providers.simulator import Simulator
from advent.runtime import Runtime, build_runtime
from advent.sending.dispatch import Sender
from tests import postgres_mode
from tests.database_template import build_template, install_migrated_database

ROOT = Path(__file__).resolve().parent.parent


class Clock:
    """A clock the test moves by hand; nothing here reads the real date."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="session", autouse=True)
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The schema migrated once per session; each test gets a copy (see database_template)."""
    return build_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def postgres_database(worker_id: str) -> str | None:
    """This worker's PostgreSQL database when the suite runs on PostgreSQL (tests/postgres_mode)."""
    return postgres_mode.worker_database(worker_id) if postgres_mode.enabled() else None


@pytest.fixture(autouse=True)
def database_for_the_test(
    request: pytest.FixtureRequest, postgres_database: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL: an emptied database at head for every test, named by DATABASE_URL."""
    if postgres_database is None:
        return
    marker = request.node.get_closest_marker("sqlite_only")
    if marker:
        pytest.skip(f"SQLite only: {marker.args[0] if marker.args else 'about the SQLite file itself'}")
    postgres_mode.reset(postgres_database)
    monkeypatch.setenv("DATABASE_URL", postgres_database)
    # advent warns about ADVENT_ names it does not know; an `advent` subprocess must not see this.
    monkeypatch.delenv("ADVENT_TEST_POSTGRES_URL", raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the shipped messages and schedules, free to break."""
    shutil.copytree(ROOT / "messages", tmp_path / "messages")
    shutil.copytree(ROOT / "schedules", tmp_path / "schedules")
    (tmp_path / "instance").mkdir()
    return tmp_path


@pytest.fixture
def settings(project: Path) -> Settings:
    return load_settings(
        _env_file=None,
        ADVENT_INSTANCE_DIR=str(project / "instance"),
        ADVENT_MESSAGES_DIR=str(project / "messages"),
        ADVENT_SCHEDULES_DIR=str(project / "schedules"),
        ADVENT_SEND_RATE="1000",
        ADVENT_ORGANISER_NAME="Sam",
        ADVENT_ORGANISER_CONTACT="sam@example.org",
        ADVENT_SUPPORT_LINE="Samaritans, 116 123",
    )


@pytest.fixture
def clock() -> Clock:
    # 09:00 London on 3 December 2026: after the day's 08:00 send time.
    return Clock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))


@pytest.fixture
def simulator(settings: Settings, clock: Clock) -> Simulator:
    return Simulator(settings.simulator_path, delay_seconds=2, clock=clock, rng=random.Random(7))


@pytest.fixture
def runtime(settings: Settings, simulator: Simulator) -> Runtime:
    install_migrated_database(settings.database_url)
    # The copy is the session's template, checked at head once (test_migrations checks the
    # migrations themselves); reading the migration scripts again per test cost ~20 ms each.
    made = build_runtime(settings, provider=simulator, check_schema=False)
    made.clock = simulator.clock
    return made


@pytest.fixture
def sender(runtime: Runtime, clock: Clock) -> Sender:
    sleeps: list[float] = []
    made = Sender(
        runtime.session(),
        runtime.provider,
        runtime.settings,
        clock=clock,
        sleep=lambda s: (sleeps.append(s), clock.advance(s)),
        rng=random.Random(1),
    )
    made.sleeps = sleeps  # type: ignore[attr-defined]
    return made


@pytest.fixture
def schedule(runtime: Runtime):
    return runtime.schedule()


@pytest.fixture
def app(runtime: Runtime):
    made = create_app(runtime=runtime)
    made.config["TESTING"] = True
    return made


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def twilio_api():
    """Twilio's REST API, stood in for at the HTTP layer."""
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def tw(project: Path, clock: Clock):
    """A runtime and sender sending through the twilio provider (see tests/twilio_double.py)."""
    from tests.twilio_double import twilio_setup

    return twilio_setup(project, clock)


@pytest.fixture
def friends(runtime: Runtime, schedule) -> list[str]:
    """Two people who joined before the campaign started."""
    from tests.helpers import add_friends

    return add_friends(runtime, schedule)


@pytest.fixture
def organiser(app, runtime):
    """A signed-in organiser's browser (Flask test client with cookies and CSRF tokens)."""
    from tests.dashboard_helpers import make_organiser, sign_in

    make_organiser(runtime)
    browser = app.test_client()
    assert sign_in(browser).status_code == 302
    return browser


@pytest.fixture
def double():
    """A Twilio-compatible double over real HTTP on a local port (tests/twilio_double.py)."""
    from tests.twilio_double import TwilioDouble

    started = TwilioDouble()
    yield started
    started.stop()


@pytest.fixture
def web():
    """The app served on a local port, for callbacks that come over real HTTP (set `.app`)."""
    from tests.twilio_double import LocalServer

    server = LocalServer()
    yield server
    server.stop()


@pytest.fixture
def tw_over_http(project: Path, clock: Clock, double, web):  # type: ignore[no-untyped-def]
    """The twilio provider against the double, with the app served by `web`, so the double's
    signed callbacks reach it."""
    from tests.twilio_double import twilio_setup

    made = twilio_setup(project, clock, PUBLIC_BASE_URL=web.base_url, TWILIO_API_BASE_URL=double.base_url)
    web.app = create_app(runtime=made.runtime)
    return made


@pytest.fixture
def one_moment_for_everyone(request: pytest.FixtureRequest, project: Path) -> None:
    """The schedule as `send_at = "schedule"`: everyone at 08:00 London, the day sent as one.

    The shipped schedule sends at each friend's own morning (tests/test_each_friends_morning.py
    and test_time_keyword.py drive that). Tests about one day's send as a whole (the catch-up
    of a day, the cron job, what a day's record says) pin the schedule's own moment instead;
    and so do tests running `advent` processes, which read the real clock: at a friend's
    morning, a send started in their night waits for it.

    The file is rewritten, for the `advent` processes a test starts and the runtimes it builds;
    a simulator runtime the test already uses is switched too (and none is made for a test on
    another provider)."""
    for path in (project / "schedules").glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace('send_at = "friend"', 'send_at = "schedule"'), encoding="utf-8")
    if "runtime" in request.fixturenames:
        from tests.helpers import send_at

        send_at(request.getfixturevalue("runtime"), "schedule")


@pytest.fixture
def paused():  # type: ignore[no-untyped-def]
    """Schedulers a test started paused (so job defaults apply and nothing runs), shut down after."""
    started: list = []
    yield started
    for scheduler in started:
        scheduler.shutdown(wait=False)


@pytest.fixture
def with_phone(runtime: Runtime) -> Runtime:
    """The runtime with ADVENT_ORGANISER_PHONE set (tests.helpers.ORGANISER_PHONE)."""
    from tests.helpers import ORGANISER_PHONE

    runtime.settings = runtime.settings.model_copy(update={"organiser_phone": ORGANISER_PHONE})
    return runtime
