"""Several messages on their way at once: rows claimed in batches, calls that overlap, and still
the carrier's rate, exactly once, and no post to a friend who said STOP."""

from __future__ import annotations

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
from advent.store.tables import Delivery, Subscriber
from tests.helpers import add_people
from tests.test_pace import busiest_second

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
    # Twenty a second: rows are claimed two at a time and up to twenty calls may be in flight.
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
