"""The daily digest (issue 12, point 5): yesterday's numbers, and what waits for the organiser,
in one text to their own phone at ADVENT_DIGEST_TIME on their clock; once a day; opt-in."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from advent.config import ConfigError, load_settings
from advent.content.posts import load_post
from advent.organiser.alerts import alert
from advent.people.conversations import handle_inbound
from advent.people.subscriptions import join
from advent.providers.base import Inbound
from advent.receipts import collect_receipts
from advent.sending.days import send_day
from advent.store.tables import Delivery
from tests.helpers import DEC_3_SEND, ORGANISER_PHONE, add_people, sweep_at

DEC_3 = date(2026, 12, 3)
JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DEC_4_0830 = datetime(2026, 12, 4, 8, 30, tzinfo=UTC)


@pytest.fixture
def digest_at(runtime):  # type: ignore[no-untyped-def]
    def set_time(when: str):  # type: ignore[no-untyped-def]
        runtime.settings = runtime.settings.model_copy(
            update={"organiser_phone": ORGANISER_PHONE, "digest_time": when}
        )
        return runtime

    return set_time


def digests(simulator) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.body for m in simulator.phone.messages_to(ORGANISER_PHONE) if "yesterday" in m.body]


def a_day_on_the_network(runtime, sender, simulator, clock) -> None:  # type: ignore[no-untyped-def]
    """Day 3 sent at 08:00 to 10 friends, some phones off; receipts collected; two replies, a
    join and a STOP during the day."""
    schedule = runtime.schedule()
    people = add_people(sender.session, schedule, 10, JOINED)
    simulator.failure_rate, simulator.rng = 0.4, random.Random(5)
    clock.now = DEC_3_SEND
    send_day(sender, schedule, DEC_3, load_post(runtime.settings.messages_dir, schedule, DEC_3))
    with runtime.session() as session:
        collect_receipts(session, runtime.provider, DEC_3_SEND + timedelta(minutes=5))
        for n, (who, words) in enumerate([(0, "thank you!"), (1, "lovely"), (2, "STOP")]):
            handle_inbound(
                session,
                Inbound(sender=people[who].phone, body=words, message_sid=f"SMreply{n}"),
                DEC_3_SEND + timedelta(hours=2, minutes=n),
                schedules=runtime.schedules,
                provider=runtime.provider,
                settings=runtime.settings,
            )
        join(
            session,
            schedule,
            phone="+447911555555",
            channel="sms",
            method="keyword",
            now=DEC_3_SEND + timedelta(hours=3),
        )
        session.commit()


def test_the_digest_numbers_are_yesterdays_deliveries(
    one_moment_for_everyone, digest_at, sender, simulator, clock
):
    runtime = digest_at("08:30")
    a_day_on_the_network(runtime, sender, simulator, clock)
    with runtime.session() as session:
        posts = [
            d.status
            for d in session.exec(
                select(Delivery).where(Delivery.kind == "post", Delivery.day == DEC_3)
            ).all()
        ]
        alert(session, runtime.schedule().campaign, "list_full", "the list is full", DEC_3_SEND)
        session.commit()
    delivered, lost = posts.count("delivered"), posts.count("undelivered")
    assert delivered + lost == 10 and lost > 0

    sweep_at(runtime, DEC_4_0830 + timedelta(seconds=10))

    assert digests(simulator) == [
        f"Advent of Kindness, yesterday (day 3): {delivered} of 10 delivered, 0 read, {lost} failed; "
        "2 replies; 1 joined, 1 stopped. For you: 1 open alert, 2 unread replies."
    ]


def test_one_digest_a_day_and_never_before_its_time(
    one_moment_for_everyone, digest_at, sender, simulator, clock
):
    runtime = digest_at("08:30")
    a_day_on_the_network(runtime, sender, simulator, clock)
    sweep_at(runtime, DEC_4_0830 - timedelta(seconds=30))
    assert digests(simulator) == []
    for later in (0, 30, 3600):
        sweep_at(runtime, DEC_4_0830 + timedelta(seconds=later))
    assert len(digests(simulator)) == 1
    sweep_at(runtime, DEC_4_0830 + timedelta(days=1))  # the next morning: about the 4th
    assert len(digests(simulator)) == 2 and "(day 4)" in digests(simulator)[1]


def test_a_digest_time_in_the_organisers_night_waits_for_their_morning(
    one_moment_for_everyone, digest_at, sender, simulator, clock
):
    runtime = digest_at("06:00")  # the schedule's quiet hours run to 08:00
    a_day_on_the_network(runtime, sender, simulator, clock)
    sweep_at(runtime, datetime(2026, 12, 4, 6, 0, 30, tzinfo=UTC))
    assert digests(simulator) == []
    sweep_at(runtime, datetime(2026, 12, 4, 8, 0, 30, tzinfo=UTC))
    assert len(digests(simulator)) == 1


def test_no_digest_when_unset(one_moment_for_everyone, digest_at, sender, simulator, clock):
    runtime = digest_at("")
    a_day_on_the_network(runtime, sender, simulator, clock)
    sweep_at(runtime, DEC_4_0830 + timedelta(hours=2))
    assert digests(simulator) == []


def test_a_digest_time_is_read_as_hh_mm_and_a_bad_one_named(project):
    assert load_settings(_env_file=None, ADVENT_DIGEST_TIME="7:30").digest_time == "07:30"
    assert load_settings(_env_file=None).digest_time == ""
    with pytest.raises(ConfigError) as refused:
        load_settings(_env_file=None, ADVENT_DIGEST_TIME="half past seven")
    assert "ADVENT_DIGEST_TIME" in str(refused.value) and "HH:MM" in str(refused.value)
