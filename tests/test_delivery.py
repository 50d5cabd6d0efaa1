"""The sender: plan once, claim once, send once; retries and permanent failures recorded."""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from advent.content.posts import load_post
from advent.providers.simulator import Simulator
from advent.receipts import collect_receipts
from advent.sending.days import send_day
from advent.sending.dispatch import Sender, dispatch_day
from advent.sending.plan import plan_day
from advent.store.tables import DayRun, Delivery, DeliveryEvent, Subscriber
from tests.helpers import add_people, approved_whatsapp_template

DAY = date(2026, 12, 3)
JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_planning_twice_creates_no_second_row(sender, schedule):
    add_people(sender.session, schedule, 5, JOINED)
    first = plan_day(sender.session, schedule, DAY, sender.clock())
    second = plan_day(sender.session, schedule, DAY, sender.clock())
    rows = sender.session.exec(select(Delivery).where(Delivery.day == DAY)).all()
    assert (first, second, len(rows)) == (5, 0, 5)


def test_send_day_sends_each_person_exactly_once_even_when_repeated(sender, schedule, simulator, runtime):
    people = add_people(sender.session, schedule, 4, JOINED)
    post = load_post(runtime.settings.messages_dir, schedule, DAY)
    first = send_day(sender, schedule, DAY, post)
    again = send_day(sender, schedule, DAY, post)
    assert first.handled == 4 and again.handled == 0
    assert simulator.posts_received() == {p.phone: 1 for p in people}
    received = simulator.received_by(people[0].phone)
    assert received[0]["body"] == post.text
    run = sender.session.exec(select(DayRun)).one()
    assert run.status == "sent"


def test_late_joiner_under_tomorrow_policy_is_not_planned_for_today(sender, runtime, schedule):
    tomorrow_policy = schedule.model_copy(update={"late_joiners": "tomorrow"})
    add_people(sender.session, tomorrow_policy, 1, JOINED)
    add_people(sender.session, tomorrow_policy, 1, datetime(2026, 12, 3, 9, 30, tzinfo=UTC), start=200000)
    assert plan_day(sender.session, tomorrow_policy, DAY, sender.clock()) == 1
    assert plan_day(sender.session, tomorrow_policy, DAY + timedelta(days=1), sender.clock()) == 2


def test_receipts_move_deliveries_forward_to_delivered_and_read(sender, simulator, runtime, clock):
    approved_whatsapp_template(runtime, clock)  # the WhatsApp friend last wrote days ago
    schedule = runtime.schedule()
    add_people(sender.session, schedule, 1, JOINED, channel="sms")
    add_people(sender.session, schedule, 1, JOINED, channel="whatsapp", start=300000)
    send_day(sender, schedule, DAY, load_post(runtime.settings.messages_dir, schedule, DAY))
    clock.advance(60)
    collect_receipts(sender.session, simulator, clock())
    statuses = {d.channel: d.status for d in sender.session.exec(select(Delivery)).all()}
    assert statuses == {"sms": "delivered", "whatsapp": "read"}


def test_two_dispatchers_on_one_day_send_each_message_once(runtime, schedule, settings, clock):
    sim = Simulator(settings.simulator_path, delay_seconds=1, clock=clock)
    setup = Sender(runtime.session(), sim, settings, clock=clock)
    people = add_people(setup.session, schedule, 30, JOINED)
    plan_day(setup.session, schedule, DAY, clock())
    post = load_post(settings.messages_dir, schedule, DAY)
    handled: list[int] = []

    def dispatcher() -> None:
        sender = Sender(runtime.session(), sim, settings, clock=clock, sleep=lambda s: None)
        handled.append(dispatch_day(sender, schedule, DAY, post))

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(handled) == 30
    assert sim.posts_received() == {p.phone: 1 for p in people}


def test_transient_errors_are_retried_with_backoff_then_recorded(runtime, schedule, settings, clock):
    always_busy = Simulator(settings.simulator_path, error_rate=1.0, clock=clock)
    sleeps: list[float] = []
    sender = Sender(
        runtime.session(),
        always_busy,
        settings,
        clock=clock,
        sleep=lambda s: (sleeps.append(s), clock.advance(s)),
        rng=random.Random(3),
    )
    add_people(sender.session, schedule, 1, JOINED)
    result = send_day(sender, schedule, DAY, load_post(settings.messages_dir, schedule, DAY))
    delivery = sender.session.exec(select(Delivery)).one()
    assert result.counts == {"failed": 1}
    assert delivery.attempts == settings.send_max_attempts
    assert "gave up after 5 attempts" in delivery.error_reason
    assert delivery.error_code == "SIM-BUSY"
    # Waited before each retry (the pace's own waits, at 1,000 a second, are a millisecond at most).
    assert len([s for s in sleeps if s > 0.01]) == settings.send_max_attempts - 1
    events = sender.session.exec(select(DeliveryEvent)).all()
    assert [e.status for e in events][-1] == "failed"


def test_a_flaky_network_still_reaches_everyone_once(runtime, schedule, settings, clock):
    flaky = Simulator(settings.simulator_path, error_rate=0.4, clock=clock, rng=random.Random(11))
    sender = Sender(
        runtime.session(),
        flaky,
        settings,
        clock=clock,
        sleep=lambda s: clock.advance(s),
        rng=random.Random(5),
    )
    people = add_people(sender.session, schedule, 10, JOINED)
    settings_many = settings.model_copy(update={"send_max_attempts": 20})
    sender.settings = settings_many
    send_day(sender, schedule, DAY, load_post(settings.messages_dir, schedule, DAY))
    assert flaky.posts_received() == {p.phone: 1 for p in people}


def test_a_retry_never_reaches_someone_who_said_stop_meanwhile(runtime, schedule, settings, clock):
    from advent.people.subscriptions import stop_subscriber
    from advent.providers.base import ErrorAction, ProviderError

    class BusyOnce(Simulator):
        calls = 0

        def send(self, message):  # noqa: ANN001, ANN201
            BusyOnce.calls += 1
            if BusyOnce.calls == 1:
                # The person's STOP lands while this first attempt is with the network.
                with runtime.session() as session:
                    person = session.exec(select(Subscriber)).one()
                    stop_subscriber(session, person, method="keyword", now=clock())
                    session.commit()
                raise ProviderError("busy", code="SIM-BUSY", action=ErrorAction.RETRY)
            return super().send(message)

    network = BusyOnce(settings.simulator_path, clock=clock)
    sender = Sender(
        runtime.session(),
        network,
        settings,
        clock=clock,
        sleep=lambda s: clock.advance(s),
        rng=random.Random(2),
    )
    add_people(sender.session, schedule, 1, JOINED)
    result = send_day(sender, schedule, DAY, load_post(settings.messages_dir, schedule, DAY))
    assert result.counts == {"cancelled": 1}
    assert network.posts_received() == {}
