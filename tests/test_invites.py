"""Invites are deliveries: sent through the same sender as posts, receipted, and counted."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from sqlmodel import select

from advent.cli import main
from advent.content.posts import load_post
from advent.providers.simulator import Simulator
from advent.sending.days import send_day
from advent.store.tables import Delivery
from tests.conftest import Clock
from tests.helpers import add_people
from tests.twilio_double import TwilioDouble, TwilioSetup

ANNA = "+447911123456"
DAY = date(2026, 12, 3)


def run(runtime, *args: str):
    return CliRunner().invoke(main, list(args), obj=runtime, catch_exceptions=False)


def deliveries(runtime) -> list[tuple[str, str]]:
    with runtime.session() as session:
        rows = session.exec(select(Delivery).order_by(Delivery.id)).all()
    return [(d.kind, d.status) for d in rows]


def test_an_invite_through_the_simulator_gets_its_receipts_and_shows_in_stats(
    runtime, simulator: Simulator, clock: Clock
):
    invited = run(runtime, "subscribers", "invite", ANNA, "--name", "Anna")
    assert invited.exit_code == 0, invited.output
    assert [m.kind for m in simulator.phone.messages_to(ANNA)] == ["invite"]
    assert deliveries(runtime) == [("invite", "queued")]
    clock.advance(60)  # the simulated network's receipts are due
    stats = run(runtime, "stats").output
    assert "advent-2026 invites: 1 (1 delivered)" in stats
    assert "deliveries" not in stats  # an invite is not a day's post
    assert deliveries(runtime) == [("invite", "delivered")]


def test_a_failed_invite_is_told_and_listed_among_the_problems(runtime, settings, clock: Clock):
    runtime.provider = Simulator(settings.simulator_path, failure_rate=1.0, clock=clock)
    assert run(runtime, "subscribers", "invite", ANNA).exit_code == 0
    clock.advance(60)
    assert "advent-2026 invites: 1 (1 undelivered)" in run(runtime, "stats").output
    problems = run(runtime, "stats", "--problems").output
    assert "advent-2026 2026-12-03 invite +44" in problems and "switched off" in problems


def test_sending_a_day_never_sends_an_invite_and_its_counts_leave_invites_out(
    runtime, sender, schedule, simulator: Simulator
):
    add_people(sender.session, schedule, 2, datetime(2026, 11, 30, tzinfo=UTC))
    run(runtime, "subscribers", "invite", ANNA)
    result = send_day(sender, schedule, DAY, load_post(runtime.settings.messages_dir, schedule, DAY))
    assert result.handled == 2 and sum(result.counts.values()) == 2
    assert simulator.posts_received() == {"+447911100000": 1, "+447911100001": 1}
    assert [m.kind for m in simulator.phone.messages_to(ANNA)] == ["invite"]  # once, no post


def test_an_invited_person_who_joins_still_gets_todays_post_as_a_late_joiner(
    runtime, schedule, simulator: Simulator, sender
):
    run(runtime, "subscribers", "invite", ANNA)
    send_day(sender, schedule, DAY, load_post(runtime.settings.messages_dir, schedule, DAY))
    joined = run(runtime, "phone", ANNA, "HAPPY")
    assert "you're in" in joined.output
    assert [m.kind for m in simulator.phone.messages_to(ANNA)] == ["invite", "reply", "post"]


@pytest.fixture
def tw(tw_over_http: TwilioSetup, clock: Clock) -> TwilioSetup:
    tw_over_http.runtime.clock = clock
    return tw_over_http


def _eventually(condition) -> bool:  # type: ignore[no-untyped-def]
    """The double posts its callbacks from a thread: give them a moment to land."""
    for _ in range(200):
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_an_invite_through_the_twilio_double_is_receipted_by_its_callbacks(
    tw: TwilioSetup, double: TwilioDouble
):
    invited = run(tw.runtime, "subscribers", "invite", ANNA)
    assert invited.exit_code == 0, invited.output
    assert [form["To"] for form in double.created] == [ANNA]
    assert "Sam invites you" in double.created[0]["Body"]
    assert double.created[0]["StatusCallback"].endswith("/twilio/status?delivery=1")
    assert _eventually(lambda: deliveries(tw.runtime) == [("invite", "delivered")]), deliveries(tw.runtime)
    assert "advent-2026 invites: 1 (1 delivered)" in run(tw.runtime, "stats").output
