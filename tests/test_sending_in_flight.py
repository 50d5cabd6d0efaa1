"""Several messages on their way at once: rows claimed in batches, calls that overlap, and still
the carrier's rate, exactly once, and no post to a friend who said STOP."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from advent.content.posts import load_post
from advent.people.subscriptions import stop_subscriber
from advent.providers.simulator import Simulator
from advent.sending.days import send_day
from advent.sending.dispatch import Sender
from advent.sending.plan import plan_day
from advent.states import claims
from advent.store.tables import Delivery, DeliveryEvent, Subscriber
from tests.helpers import add_people
from tests.test_pace import _advent_env, _start, busiest_second

# `advent` processes here read the real clock: sent at each friend's own morning, a send
# started in their night would wait for it. Everyone at one moment keeps the test to the hour.
pytestmark = pytest.mark.usefixtures("one_moment_for_everyone")

DAY = date(2026, 12, 3)
JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_two_dispatchers_claiming_batches_at_once_never_claim_a_row_twice(runtime, schedule, clock):
    with runtime.session() as session:
        add_people(session, schedule, 90, JOINED)
        plan_day(session, schedule, DAY, clock())
        session.commit()
        planned = sorted(session.exec(select(Delivery.id)).all())
    start = threading.Barrier(2)
    claimed: list[list[int]] = [[], []]

    def dispatch(mine: list[int]) -> None:
        with runtime.session() as session:
            start.wait()
            while batch := claims.claim_batch(session, schedule.campaign, DAY, "post", clock(), limit=7):
                mine.extend(batch)

    threads = [threading.Thread(target=dispatch, args=(mine,)) for mine in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(claimed[0] + claimed[1]) == planned  # each row once, none left behind
    with runtime.session() as session:
        assert set(session.exec(select(Delivery.status)).all()) == {"claimed"}


def test_a_friend_who_says_stop_while_earlier_posts_are_on_their_way_is_not_sent(
    runtime, schedule, settings, clock
):
    class StopDuringFirstSend(Simulator):
        calls = 0
        sends_in_parallel = True  # as the Twilio provider does

        def send(self, message):  # noqa: ANN001, ANN201
            StopDuringFirstSend.calls += 1
            if StopDuringFirstSend.calls == 1:
                # The last friend texts STOP while the first posts are with the network.
                with runtime.session() as session:
                    last = session.exec(select(Subscriber).order_by(Subscriber.id.desc())).first()  # type: ignore[union-attr]
                    stop_subscriber(session, last, method="keyword", now=clock())
                    session.commit()
            return super().send(message)

    network = StopDuringFirstSend(settings.simulator_path, clock=clock)
    # Twenty a second: rows are claimed five at a time and up to twenty calls may be in flight.
    quick = settings.model_copy(update={"send_rate_per_second": 20.0})
    sender = Sender(runtime.session(), network, quick, clock=clock, sleep=lambda s: clock.advance(s))
    people = add_people(sender.session, schedule, 10, JOINED)
    result = send_day(sender, schedule, DAY, load_post(settings.messages_dir, schedule, DAY))

    assert network.posts_received() == {p.phone: 1 for p in people[:-1]}
    assert result.counts.get("cancelled") == 1


@pytest.mark.timing
def test_calls_overlap_while_no_second_holds_more_than_the_rate(tw_over_http, double):
    rate, friends = 10, 25
    double.answer_seconds = 0.4  # slower than Twilio: one at a time could not keep ten a second
    setup = tw_over_http
    schedule = setup.runtime.schedule()
    paced = setup.settings.model_copy(update={"send_rate_per_second": float(rate)})
    with setup.runtime.session() as session:
        people = add_people(session, schedule, friends, JOINED)
    # Real sleeps: the pace is about when requests reach the carrier.
    sender = Sender(
        setup.runtime.session(), setup.provider, paced, clock=setup.sender.clock, sleep=time.sleep
    )
    result = send_day(sender, schedule, DAY, load_post(setup.settings.messages_dir, schedule, DAY))

    assert result.handled == friends
    assert Counter(form["To"] for form in double.created) == {p.phone: 1 for p in people}
    # The double saw a second request before it answered the first.
    assert double.most_at_once > 1
    # As the carrier counts: no second holds more than the rate (the slots' headroom leaves
    # 30 ms for requests slower on their way than the next).
    assert busiest_second(double.arrived, allowance=0.0) <= rate


def test_a_send_killed_with_calls_in_flight_leaves_everyone_with_exactly_one(tw_over_http, double):
    """SIGKILL while several calls are with Twilio (each answered half a second after it
    arrives): the ones Twilio created but never answered are found by the next run, not sent
    again, and the rest are sent."""
    rate, friends = 20, 60
    double.answer_seconds = 0.5  # about ten calls on their way at any moment
    double.send_callbacks = False  # the answers, not the receipts, are what the kill interrupts
    settings, schedule = tw_over_http.settings, tw_over_http.runtime.schedule()
    with tw_over_http.runtime.session() as session:
        people = add_people(session, schedule, friends, JOINED)
    env, here = _advent_env(settings, rate), settings.instance_dir
    send = ["-m", "advent.cli", "send", "--date", DAY.isoformat()]

    victim = _start(send, env, here)
    deadline = time.monotonic() + 60
    while len(double.created) < 15 and time.monotonic() < deadline and victim.poll() is None:
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    created_before = len(double.created)
    assert 15 <= created_before < friends, "the kill must land in the middle of the day"

    # The next run treats the dead one's claims as stale at once, and asks Twilio about each.
    restart = _start(send, {**env, "ADVENT_CLAIM_TIMEOUT_SECONDS": "0"}, here)
    output, _ = restart.communicate(timeout=120)
    assert restart.returncode == 0, output

    assert Counter(form["To"] for form in double.created) == {p.phone: 1 for p in people}
    with tw_over_http.runtime.session() as session:
        rows = session.exec(select(Delivery)).all()
        found = session.exec(select(DeliveryEvent).where(DeliveryEvent.source == "reconcile")).all()
    assert {d.status for d in rows} == {"queued"} and all(d.provider_sid for d in rows)
    # Some were with Twilio when the sender died: created there, their answers never read.
    assert found, output
