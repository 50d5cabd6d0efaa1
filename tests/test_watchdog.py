"""The watchdog inside (issue 12, point 3): a send that stalls, or posts that do not arrive, are
texted to the organiser's own phone once, with the counts and what to do; the clock's tick
finds them, the sweep sends the text."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from advent.clock.scheduler import sweep_now, tick
from advent.content.posts import load_post
from advent.receipts import collect_receipts
from advent.sending.catch_up import catch_up
from advent.sending.days import send_day
from advent.sending.dispatch import outgoing
from advent.sending.friend_days import plan_due, window
from advent.store.tables import Delivery, OrganiserAlert, Subscriber
from tests.helpers import DEC_3_SEND, ORGANISER_PHONE, add_people, crash_mid_send

DEC_3 = date(2026, 12, 3)
JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def clock_runs(runtime, clock, at: datetime) -> None:  # type: ignore[no-untyped-def]
    """One 30-second beat of a running clock at `at`: the tick, then the sweep."""
    clock.now = at
    assert tick(runtime, "clock", at)
    assert sweep_now(runtime, "clock", at)


def texts_to_organiser(simulator) -> list[str]:  # type: ignore[no-untyped-def]
    """The organiser's texts about day 3 (the 1st and 2nd, before the tests' clock ran, were
    texted as missed)."""
    return [m.body for m in simulator.phone.messages_to(ORGANISER_PHONE) if "day 3" in m.body]


def open_watchdog(runtime) -> list[str]:  # type: ignore[no-untyped-def]
    with runtime.session() as session:
        return [
            a.kind
            for a in session.exec(select(OrganiserAlert).where(OrganiserAlert.resolved_at.is_(None))).all()
            if a.kind in ("send_late", "few_delivered")
        ]


def test_a_send_stalled_by_a_stopped_clock_is_texted_once_with_the_counts(
    one_moment_for_everyone, with_phone, simulator, clock
):
    runtime = with_phone
    schedule = runtime.schedule()
    with runtime.session() as session:
        add_people(session, schedule, 10, JOINED)
    # Killed at 08:01 with 4 of 10 handed over; started again at 08:45.
    crash_mid_send(runtime, schedule, DEC_3, stored=4)

    clock_runs(runtime, clock, DEC_3_SEND + timedelta(minutes=45))
    clock_runs(runtime, clock, DEC_3_SEND + timedelta(minutes=45, seconds=30))

    (text,) = texts_to_organiser(simulator)
    assert text.startswith("Advent of Kindness, for you: ")
    assert "day 3: 6 of 10 friends not sent 30 minutes after 08:00" in text
    assert "`advent doctor`" in text and "`advent run`" in text
    assert simulator.posts_received() == {p: 1 for p in simulator.posts_received()}
    assert len(simulator.posts_received()) == 10  # the restarted clock finished the day


def test_a_clock_that_finished_the_day_on_restart_still_texts_that_it_had_stopped(
    one_moment_for_everyone, with_phone, simulator, clock
):
    """A restarted clock catches up before its first tick; the organiser still hears."""
    runtime = with_phone
    schedule = runtime.schedule()
    with runtime.session() as session:
        add_people(session, schedule, 10, JOINED)
    crash_mid_send(runtime, schedule, DEC_3, stored=4)
    restart = DEC_3_SEND + timedelta(minutes=50)
    clock.now = restart
    catch_up(runtime.session, runtime.provider, runtime.settings, runtime.schedules, restart)
    assert len(simulator.posts_received()) == 10

    clock_runs(runtime, clock, restart + timedelta(seconds=30))
    clock_runs(runtime, clock, restart + timedelta(seconds=60))

    (text,) = texts_to_organiser(simulator)
    assert "day 3: 6 of 10 friends sent more than 30 minutes after 08:00" in text


def test_a_day_sent_in_time_raises_nothing(one_moment_for_everyone, with_phone, sender, simulator, clock):
    runtime = with_phone
    schedule = runtime.schedule()
    add_people(sender.session, schedule, 10, JOINED)
    clock.now = DEC_3_SEND
    send_day(sender, schedule, DEC_3, load_post(runtime.settings.messages_dir, schedule, DEC_3))

    for minutes in (31, 61, 120):
        clock_runs(runtime, clock, DEC_3_SEND + timedelta(minutes=minutes))

    assert open_watchdog(runtime) == []
    assert texts_to_organiser(simulator) == []


def test_few_posts_delivered_an_hour_later_is_texted_with_the_counts(
    one_moment_for_everyone, with_phone, sender, simulator, clock
):
    runtime = with_phone
    schedule = runtime.schedule()
    add_people(sender.session, schedule, 10, JOINED)
    simulator.failure_rate, simulator.rng = 0.5, random.Random(3)
    clock.now = DEC_3_SEND
    send_day(sender, schedule, DEC_3, load_post(runtime.settings.messages_dir, schedule, DEC_3))
    with runtime.session() as session:
        collect_receipts(session, runtime.provider, DEC_3_SEND + timedelta(minutes=5))
        statuses = [d.status for d in session.exec(select(Delivery).where(Delivery.kind == "post")).all()]
    delivered, lost = statuses.count("delivered"), statuses.count("undelivered")
    assert delivered + lost == 10 and delivered < 8

    clock_runs(runtime, clock, DEC_3_SEND + timedelta(minutes=59))
    assert texts_to_organiser(simulator) == []  # not an hour yet
    clock_runs(runtime, clock, DEC_3_SEND + timedelta(minutes=61))
    clock_runs(runtime, clock, DEC_3_SEND + timedelta(minutes=61, seconds=30))

    (text,) = texts_to_organiser(simulator)
    assert (
        f"day 3: {delivered} of 10 delivered an hour after going out (under 80%): {lost} undelivered" in text
    )
    assert open_watchdog(runtime) == ["few_delivered"]


def test_a_clock_killed_at_friends_mornings_is_texted_when_it_runs_again(with_phone, simulator, clock):
    """Friends' own mornings: rows written at London's 08:00, two handed over, the clock killed;
    started again 40 minutes later, its tick raises the watchdog and its sweep texts it."""
    runtime = with_phone
    schedule = runtime.schedule()
    assert schedule.for_each_friend
    with runtime.session() as session:
        add_people(session, schedule, 6, JOINED)
    at = DEC_3_SEND
    post = load_post(runtime.settings.messages_dir, schedule, DEC_3)
    with runtime.session() as session:
        assert plan_due(session, schedule, window(schedule, at), at, timedelta(minutes=180)) == 6
        rows = session.exec(select(Delivery).where(Delivery.day == DEC_3).order_by(Delivery.id)).all()
        for delivery in rows[:2]:
            friend = session.get(Subscriber, delivery.subscriber_id)
            sent = runtime.provider.send(outgoing(delivery, friend, post, schedule, at))
            delivery.status, delivery.provider_sid, delivery.handed_over_at = "queued", sent.sid, at
            session.add(delivery)
        session.commit()

    clock_runs(runtime, clock, at + timedelta(minutes=40))
    clock_runs(runtime, clock, at + timedelta(minutes=40, seconds=30))

    (text,) = texts_to_organiser(simulator)
    assert "day 3: 4 of 6 friends not sent 30 minutes after 08:00" in text
    assert len(simulator.posts_received()) == 6  # and the sweep sent the rest, once each


def test_the_watchdog_is_resolved_once_the_day_has_gone_by(
    one_moment_for_everyone, with_phone, simulator, clock
):
    runtime = with_phone
    schedule = runtime.schedule()
    with runtime.session() as session:
        add_people(session, schedule, 4, JOINED)
    crash_mid_send(runtime, schedule, DEC_3, stored=1)
    clock_runs(runtime, clock, DEC_3_SEND + timedelta(minutes=45))
    assert open_watchdog(runtime) == ["send_late"]

    clock_runs(runtime, clock, DEC_3_SEND + timedelta(days=3))
    assert open_watchdog(runtime) == []
    assert len(texts_to_organiser(simulator)) == 1
