"""Alerts with a key: raised once, resolved when their cause clears, never repeated by the clock.

Driven as the organiser meets them: a day sent through the simulator (told to lose some posts, or
to answer late), the clock's 30-second tick, and `advent alerts`.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlmodel import select

from advent.cli import main
from advent.clock.scheduler import tick
from advent.content.posts import load_post
from advent.providers.simulator import Simulator
from advent.runtime import Runtime
from advent.sending.days import record_missed, send_day
from advent.sending.dispatch import Sender
from advent.store.tables import Delivery, OrganiserAlert
from tests.helpers import DEC_3_SEND, add_people

DEC_3 = date(2026, 12, 3)
JOINED = datetime(2026, 11, 30, tzinfo=UTC)
HOLDER = "the test's clock"
SWITCHED_OFF = "the simulated phone was switched off or out of signal"


class Dice(random.Random):
    """A network's dice that fall as the test says (then keep falling like the last throw):
    0.0 fails every chance, 0.9 passes any rate below it."""

    def __init__(self, throws: list[float]) -> None:
        super().__init__(0)
        self.throws = list(throws)

    def random(self) -> float:
        return self.throws.pop(0) if len(self.throws) > 1 else self.throws[0]


@pytest.fixture
def advent(runtime):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), obj=runtime, catch_exceptions=False)

    return run


def network(
    runtime: Runtime,
    clock,
    *,
    throws: list[float],
    failure_rate: float = 0.0,
    error_rate: float = 0.0,
    delay_seconds: float = 2,
) -> Simulator:
    """The runtime's simulator, replaced by one that fails as told."""
    runtime.provider = Simulator(
        runtime.settings.simulator_path,
        delay_seconds=delay_seconds,
        failure_rate=failure_rate,
        error_rate=error_rate,
        clock=clock,
        rng=Dice(throws),
    )
    return runtime.provider


def send_dec_3(runtime: Runtime, clock, people: int, per_second: float = 1000) -> None:
    """`people` on the list, and 3 December sent at its send time (at `per_second`), as the
    clock would."""
    add_people(runtime.session(), runtime.schedule(), people, JOINED)
    clock.now = DEC_3_SEND
    paced = runtime.settings.model_copy(update={"send_rate_per_second": per_second})
    sender = Sender(
        runtime.session(), runtime.provider, paced, clock=clock, sleep=clock.advance, rng=random.Random(1)
    )
    schedule = runtime.schedule()
    send_day(sender, schedule, DEC_3, load_post(runtime.settings.messages_dir, schedule, DEC_3))


def open_of(runtime: Runtime, kind: str) -> list[OrganiserAlert]:
    with runtime.session() as session:
        return list(
            session.exec(
                select(OrganiserAlert).where(
                    OrganiserAlert.kind == kind, OrganiserAlert.resolved_at.is_(None)
                )
            ).all()
        )


def ticks(runtime: Runtime, clock, count: int) -> None:
    for _ in range(count):
        assert tick(runtime, HOLDER, clock())
        clock.advance(30)


def test_undelivered_posts_raise_one_alert_with_counts_and_reasons(runtime, clock, advent):
    # 8 phones on, 3 switched off: the last three posts come back undelivered.
    network(runtime, clock, throws=[0.9] * 8 + [0.0], failure_rate=0.5)
    send_dec_3(runtime, clock, 11)
    clock.advance(60)
    listing = advent("alerts").output
    assert (
        f"advent-2026 2026-12-03: 3 of 11 not delivered (3 undelivered: {SWITCHED_OFF}). "
        "See `advent stats --problems --date 2026-12-03`"
    ) in listing
    assert "Nothing needs your attention" not in listing
    assert len(open_of(runtime, "not_delivered")) == 1


def test_the_clock_raises_it_once_and_never_again_after_it_was_read(runtime, clock, advent):
    network(runtime, clock, throws=[0.9, 0.0], failure_rate=0.5)
    send_dec_3(runtime, clock, 4)
    ticks(runtime, clock, 3)
    assert "3 of 4 not delivered" in advent("alerts").output
    ticks(runtime, clock, 5)
    again = advent("alerts").output
    assert "Nothing needs your attention." in again and "3 of 4" not in again
    assert "Still open, shown before:" in again
    with runtime.session() as session:
        told = session.exec(select(OrganiserAlert).where(OrganiserAlert.kind == "not_delivered")).all()
    assert len(told) == 1
    rows = json.loads(advent("alerts", "--all", "--json").output)
    assert [(r["day"], r["state"]) for r in rows if r["kind"] == "not_delivered"] == [("2026-12-03", "seen")]


def test_new_counts_update_the_open_alert_instead_of_raising_another(runtime, clock, advent):
    # Both phones are off; the posts go 100 seconds apart, so their receipts come apart too.
    network(runtime, clock, throws=[0.0], failure_rate=0.5)
    send_dec_3(runtime, clock, 2, per_second=0.01)
    assert "1 of 2 not delivered" in advent("alerts").output  # the second is not back yet
    ticks(runtime, clock, 2)
    assert "not delivered" not in advent("alerts").output
    [told] = open_of(runtime, "not_delivered")
    assert told.message.startswith(
        f"advent-2026 2026-12-03: 2 of 2 not delivered (2 undelivered: {SWITCHED_OFF})"
    )


def test_a_receipt_missing_for_hours_raises_one_alert_that_resolves_when_it_comes(runtime, clock, advent):
    # A network whose receipts take eight hours: nothing is heard until then.
    network(runtime, clock, throws=[0.9], delay_seconds=8 * 3600)
    send_dec_3(runtime, clock, 2)
    clock.now = DEC_3_SEND + timedelta(hours=5)
    ticks(runtime, clock, 2)
    assert open_of(runtime, "receipt_missing") == []
    clock.now = DEC_3_SEND + timedelta(hours=7)
    ticks(runtime, clock, 4)
    [late] = open_of(runtime, "receipt_missing")
    assert late.message.startswith(
        "advent-2026 2026-12-03: 2 posts handed over more than 6 hours "
        "ago still have no receipt (2 queued); run `advent reconcile`"
    )
    clock.now = DEC_3_SEND + timedelta(hours=17)  # the receipts come at last
    ticks(runtime, clock, 1)
    assert open_of(runtime, "receipt_missing") == []
    listing = advent("alerts", "--all").output
    assert "receipt_missing (resolved 2026-12-04T01:00:00+00:00)" in listing


def test_a_finished_day_with_fewer_handed_over_than_planned_raises_one_alert(runtime, clock, advent):
    # The network takes the first two posts, then is busy for every try at the third.
    network(runtime, clock, throws=[0.9, 0.9, 0.0], error_rate=0.5)
    send_dec_3(runtime, clock, 3)
    ticks(runtime, clock, 3)
    [short] = open_of(runtime, "short_day")
    attempts = runtime.settings.send_max_attempts
    assert short.message == (
        "advent-2026 2026-12-03: the day finished with 2 of 3 handed over to the provider "
        f"(1 failed: gave up after {attempts} attempts: the simulated network was busy; try again "
        "shortly). See `advent stats --problems --date 2026-12-03`"
    )
    assert "short_day" in advent("alerts").output
    ticks(runtime, clock, 3)
    assert "Nothing needs your attention." in advent("alerts").output
    assert len(open_of(runtime, "short_day")) == 1


def test_a_full_list_joined_by_two_more_people_is_one_alert_until_there_is_room(runtime, schedule, advent):
    runtime.schedules = [schedule.model_copy(update={"list_cap": 1})]
    advent("phone", "+447911123456", "HAPPY")
    advent("phone", "+447911123457", "HAPPY")
    assert "list_full" in advent("alerts").output
    advent("phone", "+447911123458", "HAPPY")
    assert "Nothing needs your attention." in advent("alerts").output
    assert len(open_of(runtime, "list_full")) == 1
    advent("phone", "+447911123456", "STOP")  # room again
    assert "list_full (resolved" in advent("alerts", "--all").output
    assert open_of(runtime, "list_full") == []


def test_a_missed_day_sent_by_hand_resolves_its_alert(runtime, clock, advent):
    add_people(runtime.session(), runtime.schedule(), 2, JOINED)
    with runtime.session() as session:
        record_missed(session, runtime.schedule(), DEC_3, clock(), "the scheduler was not running")
    assert "missed_day: advent-2026 2026-12-03: the scheduler was not running" in advent("alerts").output
    advent("send", "--date", "2026-12-03")
    assert "missed_day (resolved" in advent("alerts", "--all").output
    assert open_of(runtime, "missed_day") == []


@pytest.mark.usefixtures("one_moment_for_everyone")  # earlier days' unsent posts are reported so
def test_a_condition_the_tick_checks_is_not_told_again_after_it_was_read(runtime, clock, advent):
    send_dec_3(runtime, clock, 2)
    with runtime.session() as session:  # a reconcile found one of day 3's sends went nowhere
        delivery = session.exec(select(Delivery)).first()
        delivery.status, delivery.provider_sid = "pending", None
        session.add(delivery)
        session.commit()
    clock.now = DEC_3_SEND + timedelta(days=1, hours=2)
    ticks(runtime, clock, 2)
    assert "1 friend did not get this day's post" in advent("alerts").output
    ticks(runtime, clock, 4)
    assert "did not get" not in advent("alerts").output
    assert len(open_of(runtime, "unsent_deliveries")) == 1
    advent("send", "--date", "2026-12-03")
    ticks(runtime, clock, 1)
    assert open_of(runtime, "unsent_deliveries") == []


def test_the_database_keeps_one_open_alert_per_key(runtime: Runtime):
    """Two processes noticing a missed day at once cannot both raise it: the second insert is
    refused (organiser/alerts.py then returns the first); once resolved, it may be raised anew."""
    from sqlalchemy.exc import IntegrityError

    from advent.organiser.alerts import alert, resolve

    with runtime.session() as session:
        raised = alert(session, "advent-2026", "missed", "Day 3 was missed.", JOINED, day=DEC_3)
        session.commit()
        session.add(OrganiserAlert(kind="missed", key=raised.key, message="again", created_at=JOINED))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        assert resolve(session, "missed", "advent-2026", day=DEC_3, now=JOINED)
        session.commit()
        again = alert(session, "advent-2026", "missed", "Day 3 was missed.", JOINED, day=DEC_3)
        session.commit()
        assert again.id != raised.id
        assert len(session.exec(select(OrganiserAlert)).all()) == 2
