"""The clock's wiring: triggers across summer time, the lease, the heartbeat, the sweep job,
misfires. The due day, the cron job's send and catching up are in test_catch_up.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.base import BaseScheduler
from sqlmodel import select

from advent.clock.lease import acquire_lease, release_lease
from advent.clock.scheduler import (
    SENDING_NOW,
    SWEEP_JOB,
    TICK_JOB,
    build_scheduler,
    missed_listener,
    sweep_now,
    tick,
    trigger_for,
)
from advent.content.schedules import Schedule
from advent.people.subscriptions import join
from advent.providers.simulator import Simulator
from advent.runtime import Runtime
from advent.sending.catch_up import send_due_day
from advent.sending.days import day_run
from advent.sending.late_joiners import catch_up_late_joiner
from advent.store.tables import Delivery, SchedulerLease
from tests.helpers import DEC_3_SEND, alerts, crash_mid_send, run_of

# The clock's jobs for a schedule sending everyone at one moment (a cron job a day); at each
# friend's own morning: tests/test_clock_mornings.py.
pytestmark = pytest.mark.usefixtures("one_moment_for_everyone")

LONDON = ZoneInfo("Europe/London")
LATE_JOINER = "+447911555000"
DEC_3 = date(2026, 12, 3)


def make_schedule(send_time: time = time(8, 0), timezone: str = "Europe/London") -> Schedule:
    return Schedule(
        name="spring",
        campaign="spring",
        title="Spring",
        content="advent-2026",
        first_day=date(2026, 3, 1),
        last_day=date(2026, 11, 30),
        send_time=send_time,
        timezone=timezone,
        channels=["sms"],
        join_keyword="SPRING",
    )


def hold_clock(runtime: Runtime, holder: str, now: datetime) -> None:
    with runtime.session() as session:
        assert acquire_lease(session, holder, now)


def late_joiner_waiting(runtime: Runtime, schedule: Schedule, now: datetime) -> None:
    """Someone who joins after today's post went out, queued for it as the webhook does."""
    with runtime.session() as session:
        joined = join(
            session,
            schedule,
            phone=LATE_JOINER,
            channel="sms",
            method="keyword",
            now=now,
            text=schedule.join_keyword,
        )
        assert catch_up_late_joiner(session, schedule, joined.subscriber, now)
        session.commit()


# --- when the job fires -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "fires_utc"),
    [
        # Winter time (GMT = UTC) before the clocks go forward on 29 March 2026.
        (datetime(2026, 3, 27, 12, 0, tzinfo=UTC), datetime(2026, 3, 28, 8, 0, tzinfo=UTC)),
        # The change day itself: 08:00 BST is 07:00 UTC.
        (datetime(2026, 3, 28, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
        (datetime(2026, 3, 29, 12, 0, tzinfo=UTC), datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),
        # Summer time until the clocks go back on 25 October 2026.
        (datetime(2026, 10, 23, 12, 0, tzinfo=UTC), datetime(2026, 10, 24, 7, 0, tzinfo=UTC)),
        (datetime(2026, 10, 24, 12, 0, tzinfo=UTC), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
        (datetime(2026, 10, 25, 12, 0, tzinfo=UTC), datetime(2026, 10, 26, 8, 0, tzinfo=UTC)),
    ],
)
def test_post_goes_at_eight_london_time_either_side_of_the_clock_change(
    after: datetime, fires_utc: datetime
) -> None:
    fires = trigger_for(make_schedule()).get_next_fire_time(None, after)
    assert fires == fires_utc
    assert fires.astimezone(LONDON).time() == time(8, 0)


def test_trigger_uses_the_schedules_own_timezone() -> None:
    # New York moves to summer time on 8 March 2026: 08:00 EDT is 12:00 UTC.
    trigger = trigger_for(make_schedule(timezone="America/New_York"))
    fires = trigger.get_next_fire_time(None, datetime(2026, 3, 7, 18, 0, tzinfo=UTC))
    assert fires == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


# --- exactly one scheduler --------------------------------------------------------------------


def test_a_second_scheduler_cannot_take_a_live_lease_but_can_take_an_expired_one(
    runtime: Runtime,
) -> None:
    start = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    with runtime.session() as session:
        assert acquire_lease(session, "first", start)
        assert not acquire_lease(session, "second", start + timedelta(seconds=30))
        assert acquire_lease(session, "first", start + timedelta(seconds=60))  # renewed
        assert not acquire_lease(session, "second", start + timedelta(seconds=120))
        assert acquire_lease(session, "second", start + timedelta(seconds=151))  # expired
        assert not acquire_lease(session, "first", start + timedelta(seconds=160))
        lease = session.get(SchedulerLease, "clock", populate_existing=True)
        assert lease.holder == "second"


def test_a_released_lease_can_be_taken_at_once(runtime: Runtime) -> None:
    start = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    with runtime.session() as session:
        assert acquire_lease(session, "first", start)
        release_lease(session, "second", start)  # not theirs to release: nothing changes
        assert not acquire_lease(session, "second", start + timedelta(seconds=1))
        release_lease(session, "first", start + timedelta(seconds=2))
        assert acquire_lease(session, "second", start + timedelta(seconds=3))


def test_tick_beats_the_heart_and_collects_due_receipts(
    runtime: Runtime, schedule: Schedule, friends: list[str]
) -> None:
    send_due_day(
        runtime.session, runtime.provider, runtime.settings, schedule, DEC_3_SEND + timedelta(hours=1)
    )  # the simulator's clock time
    later = DEC_3_SEND + timedelta(hours=1, minutes=1)
    assert tick(runtime, "clock-1", later)
    with runtime.session() as session:
        lease = session.get(SchedulerLease, "clock")
        statuses = {d.status for d in session.exec(select(Delivery)).all()}
    assert lease.beat_at == later and lease.holder == "clock-1"
    assert statuses == {"delivered"}


def test_tick_does_nothing_while_another_scheduler_holds_the_clock(runtime: Runtime) -> None:
    now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    with runtime.session() as session:
        acquire_lease(session, "other", now)
    assert not tick(runtime, "me", now + timedelta(seconds=30))
    assert run_of(runtime, "advent-2026", date(2026, 12, 1)) is None


def test_tick_records_earlier_days_that_went_by_without_a_send(runtime: Runtime) -> None:
    assert tick(runtime, "me", DEC_3_SEND + timedelta(minutes=1))
    assert run_of(runtime, "advent-2026", date(2026, 12, 2)).status == "missed"
    assert run_of(runtime, "advent-2026", date(2026, 12, 3)) is None  # today is the cron job's


# --- the sweep: late joiners and retries -----------------------------------------------------


def test_sweep_leaves_a_day_the_cron_job_is_sending_alone(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    crash_mid_send(runtime, schedule, DEC_3)  # as the cron job leaves it: planned, sending
    now = DEC_3_SEND + timedelta(minutes=1)
    hold_clock(runtime, "me", now)
    with SENDING_NOW.sending([schedule.campaign]):
        assert sweep_now(runtime, "me", now)
    assert simulator.posts_received() == {}
    with runtime.session() as session:
        assert set(session.exec(select(Delivery.status)).all()) == {"pending"}


def test_sweep_finishes_a_day_whose_sender_stopped_once(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    crash_mid_send(runtime, schedule, DEC_3)  # a dispatcher planned the day, then died
    now = DEC_3_SEND + timedelta(minutes=5)
    hold_clock(runtime, "me", now)
    assert sweep_now(runtime, "me", now)
    assert sweep_now(runtime, "me", now + timedelta(seconds=30))
    assert simulator.posts_received() == {friend: 1 for friend in friends}
    with runtime.session() as session:
        assert day_run(session, schedule, DEC_3).status == "sent"


def test_sweep_sends_a_late_joiner_todays_post_once_the_day_is_sent(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    send_due_day(runtime.session, runtime.provider, runtime.settings, schedule, DEC_3_SEND)
    now = DEC_3_SEND + timedelta(hours=1)
    late_joiner_waiting(runtime, schedule, now)
    hold_clock(runtime, "me", now)
    assert sweep_now(runtime, "me", now)
    assert sweep_now(runtime, "me", now + timedelta(seconds=30))
    assert simulator.posts_received() == {**{phone: 1 for phone in friends}, LATE_JOINER: 1}


def test_sweep_sends_nothing_without_the_clock_lease(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    send_due_day(runtime.session, runtime.provider, runtime.settings, schedule, DEC_3_SEND)
    now = DEC_3_SEND + timedelta(hours=1)
    late_joiner_waiting(runtime, schedule, now)
    hold_clock(runtime, "other", now)
    assert not sweep_now(runtime, "me", now)
    assert LATE_JOINER not in simulator.posts_received()


def test_the_heartbeat_never_sends(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    send_due_day(runtime.session, runtime.provider, runtime.settings, schedule, DEC_3_SEND)
    now = DEC_3_SEND + timedelta(hours=1)
    late_joiner_waiting(runtime, schedule, now)
    assert tick(runtime, "me", now)
    assert LATE_JOINER not in simulator.posts_received()  # left to the sweep job


# --- misfires and the wiring ------------------------------------------------------------------


def missed_event(job_id: str, run_time: datetime) -> JobExecutionEvent:
    return JobExecutionEvent(EVENT_JOB_MISSED, job_id, "default", run_time)


def test_a_missed_send_job_is_recorded_for_the_organiser(runtime: Runtime) -> None:
    missed_listener(runtime)(missed_event("advent-2026", DEC_3_SEND))
    run = run_of(runtime, "advent-2026", date(2026, 12, 3))
    assert run.status == "missed"
    assert "advent send --date 2026-12-03" in run.note
    assert [a.kind for a in alerts(runtime)] == ["missed_day"]


def test_a_missed_heartbeat_or_a_day_already_sent_is_not_a_missed_day(
    runtime: Runtime, schedule: Schedule, friends: list[str]
) -> None:
    send_due_day(runtime.session, runtime.provider, runtime.settings, schedule, DEC_3_SEND)
    listener = missed_listener(runtime)
    listener(missed_event(TICK_JOB, DEC_3_SEND))
    listener(missed_event("advent-2026", DEC_3_SEND))
    assert run_of(runtime, "advent-2026", date(2026, 12, 3)).status == "sent"
    assert alerts(runtime) == []


def start_paused(scheduler: BaseScheduler, paused: list[BaseScheduler]) -> BaseScheduler:
    scheduler.start(paused=True)
    paused.append(scheduler)
    return scheduler


def test_scheduler_has_one_coalescing_job_per_schedule_and_a_tick(
    runtime: Runtime, paused: list[BaseScheduler]
) -> None:
    scheduler = start_paused(build_scheduler(runtime, background=True), paused)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"advent-2026", TICK_JOB, SWEEP_JOB, "reconcile"}
    send = jobs["advent-2026"]
    assert (send.coalesce, send.max_instances, send.misfire_grace_time) == (True, 1, 180 * 60)
    # The runtime's clock says 09:00 on 3 December: the next post is 08:00 on the 4th.
    assert send.next_run_time == datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


def test_the_heartbeat_and_the_sweep_are_separate_jobs(runtime: Runtime, paused: list[BaseScheduler]) -> None:
    scheduler = start_paused(build_scheduler(runtime, background=True, holder="me"), paused)
    beat, sweep = scheduler.get_job(TICK_JOB), scheduler.get_job(SWEEP_JOB)
    assert beat.func is not sweep.func
    assert beat.trigger.interval == sweep.trigger.interval == timedelta(seconds=30)
    # One sweep at a time, and a sweep still sending when the next is due is not queued twice.
    assert (sweep.max_instances, sweep.coalesce) == (1, True)
    assert "me" in sweep.args and "me" in beat.args


def test_a_grace_of_zero_minutes_still_builds_a_scheduler(
    runtime: Runtime, paused: list[BaseScheduler]
) -> None:
    strict = replace(runtime, settings=runtime.settings.model_copy(update={"misfire_grace_minutes": 0}))
    scheduler = start_paused(build_scheduler(strict, background=True), paused)
    assert scheduler.get_job("advent-2026").misfire_grace_time == 1


def test_a_post_handed_back_on_an_earlier_day_is_reported_not_sent_late(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    send_due_day(runtime.session, runtime.provider, runtime.settings, schedule, DEC_3_SEND)
    with runtime.session() as session:  # a reconcile found one of day 3's sends went nowhere
        delivery = session.exec(select(Delivery)).first()
        delivery.status, delivery.provider_sid = "pending", None
        session.add(delivery)
        session.commit()
    received = simulator.posts_received()
    next_day = DEC_3_SEND + timedelta(days=1, hours=2)
    hold_clock(runtime, "me", next_day)
    tick(runtime, "me", next_day)
    tick(runtime, "me", next_day + timedelta(seconds=30))
    assert simulator.posts_received() == received
    messages = [a.message for a in alerts(runtime) if a.kind == "unsent_deliveries"]
    assert messages == [
        "advent-2026 2026-12-03: 1 friend did not get this day's post; send it "
        "now with `advent send --date 2026-12-03` if you still want to"
    ]
