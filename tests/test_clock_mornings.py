"""The clock for the shipped schedule, which sends at each friend's own morning: no daily
trigger, a job that wakes at the next friend's morning and plans its own next wake, and the
sweep that sends what changed meanwhile, only while this process holds the clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlmodel import select

from advent.clock.heartbeat import HeartbeatPings
from advent.clock.lease import acquire_lease
from advent.clock.mornings import morning_job, morning_job_id
from advent.clock.scheduler import SWEEP_JOB, TICK_JOB, build_scheduler, sweep_now, tick
from advent.people.subscriptions import join
from advent.people.zones import MorningRequest, set_morning
from advent.runtime import Runtime
from advent.store.tables import Delivery, Subscriber
from tests.conftest import Clock

TORONTO = "+14165550123"  # America/Toronto, guessed from the number
LONDON = "+447911123456"


def friends_in_london_and_toronto(runtime: Runtime) -> None:
    with runtime.session() as session:
        for phone in (LONDON, TORONTO):
            join(
                session,
                runtime.schedule(),
                phone=phone,
                channel="sms",
                method="keyword",
                now=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
            )
        session.commit()


def posts(runtime: Runtime) -> dict[str, list[str]]:
    with runtime.session() as session:
        rows = session.exec(
            select(Subscriber.phone, Delivery.day, Delivery.status).join(
                Delivery, Delivery.subscriber_id == Subscriber.id
            )
        ).all()
    found: dict[str, list[str]] = {}
    for phone, day, status in rows:
        found.setdefault(phone, []).append(f"{day} {status}")
    return found


def test_the_shipped_schedule_has_a_wake_job_and_no_daily_trigger(runtime: Runtime, paused) -> None:
    assert runtime.schedule().for_each_friend
    scheduler = build_scheduler(runtime, background=True)
    scheduler.start(paused=True)
    paused.append(scheduler)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {morning_job_id(runtime.schedule()), TICK_JOB, SWEEP_JOB, "reconcile"}
    # However late it wakes, it runs: the pass itself records what passed its grace, per friend.
    assert jobs[morning_job_id(runtime.schedule())].misfire_grace_time is None


def test_the_wake_job_sends_who_is_due_and_sleeps_until_the_next_friends_morning(
    runtime: Runtime, clock: Clock, simulator, paused
) -> None:
    friends_in_london_and_toronto(runtime)
    clock.now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)  # 08:00 in London, 03:00 in Toronto
    scheduler = build_scheduler(runtime, background=True)
    scheduler.start(paused=True)
    paused.append(scheduler)

    morning_job(runtime, runtime.schedule(), clock, HeartbeatPings(runtime.settings.heartbeat_url), scheduler)

    assert simulator.posts_received() == {LONDON: 1}
    # Next: Toronto's 08:00 on the 3rd (13:00 UTC), not London's tomorrow.
    job = scheduler.get_job(morning_job_id(runtime.schedule()))
    assert job.trigger.run_date == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)

    clock.now = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    morning_job(runtime, runtime.schedule(), clock, HeartbeatPings(runtime.settings.heartbeat_url), scheduler)
    assert simulator.posts_received() == {LONDON: 1, TORONTO: 1}
    assert scheduler.get_job(morning_job_id(runtime.schedule())).trigger.run_date == datetime(
        2026, 12, 4, 8, 0, tzinfo=UTC
    )


def test_a_friend_who_says_time_is_woken_for_at_their_new_hour(
    runtime: Runtime, clock: Clock, simulator, paused
):
    friends_in_london_and_toronto(runtime)
    with runtime.session() as session:
        toronto = session.exec(select(Subscriber).where(Subscriber.phone == TORONTO)).one()
        set_morning(runtime.schedule(), toronto, MorningRequest(zone=None, hour=time(6, 30)), clock())
        session.add(toronto)
        session.commit()
    clock.now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    scheduler = build_scheduler(runtime, background=True)
    scheduler.start(paused=True)
    paused.append(scheduler)
    morning_job(runtime, runtime.schedule(), clock, HeartbeatPings(runtime.settings.heartbeat_url), scheduler)
    # 06:30 in Toronto is 11:30 UTC in December.
    assert scheduler.get_job(morning_job_id(runtime.schedule())).trigger.run_date == datetime(
        2026, 12, 3, 11, 30, tzinfo=UTC
    )


def test_the_sweep_sends_a_friends_morning_only_while_holding_the_clock(
    runtime: Runtime, clock: Clock, simulator
) -> None:
    friends_in_london_and_toronto(runtime)
    now = datetime(2026, 12, 3, 13, 0, 20, tzinfo=UTC)  # just after Toronto's morning
    with runtime.session() as session:
        acquire_lease(session, "other", now)
    assert not sweep_now(runtime, "me", now)
    assert simulator.posts_received() == {}

    later = now + timedelta(minutes=5)
    with runtime.session() as session:
        acquire_lease(session, "me", later)  # the other clock's lease has run out
    assert sweep_now(runtime, "me", later)
    # Toronto's morning came 5 minutes ago: sent. London's came at 08:00, five hours before
    # any clock of ours ran, more than the grace window: recorded missed, not sent late; and so
    # are the 1st and 2nd, which no clock sent either. No day passes without a record.
    assert simulator.posts_received() == {TORONTO: 1}
    assert posts(runtime) == {
        LONDON: ["2026-12-01 missed", "2026-12-02 missed", "2026-12-03 missed"],
        TORONTO: ["2026-12-01 missed", "2026-12-02 missed", "2026-12-03 queued"],
    }


def test_the_heartbeat_never_sends_at_friends_mornings_either(
    runtime: Runtime, clock: Clock, simulator
) -> None:
    friends_in_london_and_toronto(runtime)
    assert tick(runtime, "me", datetime(2026, 12, 3, 13, 0, 20, tzinfo=UTC))
    assert simulator.posts_received() == {}
    assert posts(runtime) == {}


def test_a_clock_killed_mid_morning_leaves_every_friend_with_exactly_one_post(
    runtime: Runtime, clock: Clock, simulator
) -> None:
    """Rows planned at London's 08:00, two handed to the network and one of those killed before
    its answer was stored; the restarted clock asks the network before sending anything again."""
    from advent.content.posts import load_post
    from advent.sending.catch_up import catch_up
    from advent.sending.dispatch import outgoing
    from advent.sending.friend_days import plan_due, window
    from tests.helpers import add_people

    schedule = runtime.schedule()
    with runtime.session() as session:
        people = add_people(session, schedule, 6, datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    day, at = datetime(2026, 12, 3).date(), datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    post = load_post(runtime.settings.messages_dir, schedule, day)
    with runtime.session() as session:
        assert plan_due(session, schedule, window(schedule, at), at, timedelta(minutes=180)) == 6
        rows = session.exec(select(Delivery).where(Delivery.day == day).order_by(Delivery.id)).all()
        for n, delivery in enumerate(rows[:2]):
            friend = session.get(Subscriber, delivery.subscriber_id)
            sent = runtime.provider.send(outgoing(delivery, friend, post, schedule, at))
            delivery.status, delivery.claim_token, delivery.claimed_at, delivery.attempts = (
                "claimed",
                "dead",
                at,
                1,
            )
            if n == 0:
                delivery.status, delivery.provider_sid = "queued", sent.sid
            session.add(delivery)
        session.commit()

    restart = at + timedelta(minutes=10)  # past the claim timeout (120 s): the claim is stale
    clock.now = restart
    catch_up(runtime.session, runtime.provider, runtime.settings, [schedule], restart)

    assert simulator.posts_received() == {p.phone: 1 for p in people}
    with runtime.session() as session:
        statuses = {d.status for d in session.exec(select(Delivery).where(Delivery.day == day)).all()}
    assert statuses <= {"queued", "sent", "delivered"}
