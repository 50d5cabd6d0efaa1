"""The clock: triggers across summer time, the cron job, catching up, the lease, misfires."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import text
from sqlmodel import select

from advent.lease import acquire_lease, release_lease
from advent.models import DayRun, Delivery, OrganiserAlert, SchedulerLease
from advent.providers.simulator import Simulator
from advent.runtime import Runtime
from advent.scheduler import (
    TICK_JOB,
    build_scheduler,
    catch_up,
    due_day,
    missed_listener,
    send_due_day,
    tick,
    trigger_for,
)
from advent.schedules import Schedule
from advent.subscriptions import join

LONDON = ZoneInfo("Europe/London")
FRIENDS = ["+447911123456", "+447700900123"]
# The shipped schedule sends at 08:00 London; in December that is 08:00 UTC.
DEC_3_SEND = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def make_schedule(send_time: time = time(8, 0), timezone: str = "Europe/London") -> Schedule:
    return Schedule(
        name="spring", campaign="spring", title="Spring", content="advent-2026",
        first_day=date(2026, 3, 1), last_day=date(2026, 11, 30), send_time=send_time,
        timezone=timezone, channels=["sms"], join_keyword="SPRING",
    )


@pytest.fixture
def friends(runtime: Runtime, schedule: Schedule) -> list[str]:
    """Two people who joined before the campaign started."""
    with runtime.session() as session:
        for phone in FRIENDS:
            join(session, schedule, phone=phone, channel="sms", method="keyword",
                 now=datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
        session.commit()
    return FRIENDS


def run_of(runtime: Runtime, campaign: str, day: date) -> DayRun | None:
    with runtime.session() as session:
        return session.exec(
            select(DayRun).where(DayRun.campaign == campaign, DayRun.day == day)
        ).first()


def alerts(runtime: Runtime) -> list[OrganiserAlert]:
    with runtime.session() as session:
        return list(session.exec(select(OrganiserAlert)).all())


# --- when the job fires -----------------------------------------------------------------------

@pytest.mark.parametrize(("after", "fires_utc"), [
    # Winter time (GMT = UTC) before the clocks go forward on 29 March 2026.
    (datetime(2026, 3, 27, 12, 0, tzinfo=UTC), datetime(2026, 3, 28, 8, 0, tzinfo=UTC)),
    # The change day itself: 08:00 BST is 07:00 UTC.
    (datetime(2026, 3, 28, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
    (datetime(2026, 3, 29, 12, 0, tzinfo=UTC), datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),
    # Summer time until the clocks go back on 25 October 2026.
    (datetime(2026, 10, 23, 12, 0, tzinfo=UTC), datetime(2026, 10, 24, 7, 0, tzinfo=UTC)),
    (datetime(2026, 10, 24, 12, 0, tzinfo=UTC), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
    (datetime(2026, 10, 25, 12, 0, tzinfo=UTC), datetime(2026, 10, 26, 8, 0, tzinfo=UTC)),
])
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


def test_a_late_night_send_run_after_midnight_is_still_that_days_post() -> None:
    late = make_schedule(send_time=time(23, 30))
    assert due_day(late, datetime(2026, 6, 1, 23, 10, tzinfo=UTC)) == date(2026, 6, 1)  # 00:10 BST
    assert due_day(late, datetime(2026, 6, 1, 21, 0, tzinfo=UTC)) == date(2026, 5, 31)


# --- the cron job -----------------------------------------------------------------------------

def test_cron_job_sends_the_day_once_even_if_run_twice(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    now = DEC_3_SEND + timedelta(seconds=5)
    first = send_due_day(runtime, schedule, now)
    second = send_due_day(runtime, schedule, now)
    assert first is not None and first.handled == 2
    assert second is not None and second.handled == 0
    assert simulator.posts_received() == {phone: 1 for phone in friends}
    assert run_of(runtime, schedule.campaign, date(2026, 12, 3)).status == "sent"


def test_cron_job_outside_the_campaign_sends_nothing(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    assert send_due_day(runtime, schedule, datetime(2027, 1, 5, 8, 0, tzinfo=UTC)) is None
    assert simulator.posts_received() == {}


def test_cron_job_records_a_crash_as_a_failed_day_instead_of_raising(
    runtime: Runtime, schedule: Schedule, friends: list[str]
) -> None:
    with runtime.db.begin() as connection:  # a broken database: planning cannot write
        connection.execute(text("DROP TABLE delivery"))
    assert send_due_day(runtime, schedule, DEC_3_SEND) is None
    run = run_of(runtime, schedule.campaign, date(2026, 12, 3))
    assert run.status == "failed"
    assert "advent send --date 2026-12-03" in run.note
    assert [a.kind for a in alerts(runtime)] == ["day_failed"]


# --- catching up at start ---------------------------------------------------------------------

def test_catch_up_within_grace_sends_todays_post_once(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    an_hour_late = DEC_3_SEND + timedelta(hours=1)
    lines = catch_up(runtime, an_hour_late)
    catch_up(runtime, an_hour_late + timedelta(minutes=1))
    assert simulator.posts_received() == {phone: 1 for phone in friends}
    assert run_of(runtime, schedule.campaign, date(2026, 12, 3)).status == "sent"
    assert any("2026-12-03" in line and "60 minutes late" in line for line in lines)


def test_catch_up_after_the_grace_window_records_a_missed_day_and_sends_nothing(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    four_hours_late = DEC_3_SEND + timedelta(hours=4)  # the grace window is 180 minutes
    lines = catch_up(runtime, four_hours_late)
    run = run_of(runtime, schedule.campaign, date(2026, 12, 3))
    assert run.status == "missed"
    assert "grace window (180 minutes)" in run.note
    assert "advent send --date 2026-12-03" in run.note
    assert any(a.kind == "missed_day" and "2026-12-03" in a.message for a in alerts(runtime))
    assert any("missed" in line for line in lines)
    assert simulator.posts_received() == {}


def test_catch_up_records_earlier_days_without_a_record_as_missed(
    runtime: Runtime, schedule: Schedule, friends: list[str]
) -> None:
    send_due_day(runtime, schedule, datetime(2026, 12, 2, 8, 0, 5, tzinfo=UTC))
    lines = catch_up(runtime, DEC_3_SEND + timedelta(hours=1))
    assert run_of(runtime, schedule.campaign, date(2026, 12, 1)).status == "missed"
    assert run_of(runtime, schedule.campaign, date(2026, 12, 2)).status == "sent"
    assert any("marked missed: 2026-12-01" in line for line in lines)


def test_catch_up_before_todays_send_time_leaves_today_to_the_clock(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    catch_up(runtime, DEC_3_SEND - timedelta(hours=1))
    assert run_of(runtime, schedule.campaign, date(2026, 12, 3)) is None
    assert run_of(runtime, schedule.campaign, date(2026, 12, 2)).status == "missed"
    assert simulator.posts_received() == {}


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
    send_due_day(runtime, schedule, DEC_3_SEND + timedelta(hours=1))  # the simulator's clock time
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
    send_due_day(runtime, schedule, DEC_3_SEND)
    listener = missed_listener(runtime)
    listener(missed_event(TICK_JOB, DEC_3_SEND))
    listener(missed_event("advent-2026", DEC_3_SEND))
    assert run_of(runtime, "advent-2026", date(2026, 12, 3)).status == "sent"
    assert alerts(runtime) == []


@pytest.fixture
def paused() -> Iterator[list[BaseScheduler]]:
    """Schedulers started paused (so job defaults apply and nothing runs), shut down after."""
    started: list[BaseScheduler] = []
    yield started
    for scheduler in started:
        scheduler.shutdown(wait=False)


def start_paused(scheduler: BaseScheduler, paused: list[BaseScheduler]) -> BaseScheduler:
    scheduler.start(paused=True)
    paused.append(scheduler)
    return scheduler


def test_scheduler_has_one_coalescing_job_per_schedule_and_a_tick(
    runtime: Runtime, paused: list[BaseScheduler]
) -> None:
    scheduler = start_paused(build_scheduler(runtime, background=True), paused)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"advent-2026", TICK_JOB, "reconcile"}
    send = jobs["advent-2026"]
    assert (send.coalesce, send.max_instances, send.misfire_grace_time) == (True, 1, 180 * 60)
    # The runtime's clock says 09:00 on 3 December: the next post is 08:00 on the 4th.
    assert send.next_run_time == datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


def test_a_grace_of_zero_minutes_still_builds_a_scheduler(
    runtime: Runtime, paused: list[BaseScheduler]
) -> None:
    strict = replace(runtime, settings=runtime.settings.model_copy(
        update={"misfire_grace_minutes": 0}))
    scheduler = start_paused(build_scheduler(strict, background=True), paused)
    assert scheduler.get_job("advent-2026").misfire_grace_time == 1
