"""The due day, the cron job's send, and what happens to days the clock did not send on time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import text, update
from sqlmodel import select

from advent.content.schedules import Schedule
from advent.providers.base import ProviderError
from advent.providers.simulator import Simulator
from advent.runtime import Runtime
from advent.sending.catch_up import catch_up, due_day, record_misfire, send_due_day
from advent.store.tables import Delivery, OrganiserAlert
from tests.helpers import DEC_3_SEND, FRIENDS, add_friends, alerts, crash_mid_send, run_of

# The catch-up of one day sent as a whole; at friends' mornings: tests/test_each_friends_morning.py.
pytestmark = pytest.mark.usefixtures("one_moment_for_everyone")

DEC_2, DEC_3 = date(2026, 12, 2), date(2026, 12, 3)


def statuses(runtime: Runtime, day: date) -> list[str]:
    with runtime.session() as session:
        return sorted(session.exec(select(Delivery.status).where(Delivery.day == day)).all())


# --- the due day and the cron job's send ------------------------------------------------------


def test_a_late_night_send_run_after_midnight_is_still_that_days_post() -> None:
    late = Schedule(
        name="spring",
        campaign="spring",
        title="Spring",
        content="advent-2026",
        first_day=date(2026, 3, 1),
        last_day=date(2026, 11, 30),
        send_time=time(23, 30),
        timezone="Europe/London",
        channels=["sms"],
        join_keyword="SPRING",
    )
    assert due_day(late, datetime(2026, 6, 1, 23, 10, tzinfo=UTC)) == date(2026, 6, 1)  # 00:10 BST
    assert due_day(late, datetime(2026, 6, 1, 21, 0, tzinfo=UTC)) == date(2026, 5, 31)


def test_cron_job_sends_the_day_once_even_if_run_twice(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    now = DEC_3_SEND + timedelta(seconds=5)
    first = send_due_day(runtime.session, runtime.provider, runtime.settings, schedule, now)
    second = send_due_day(runtime.session, runtime.provider, runtime.settings, schedule, now)
    assert first is not None and first.handled == 2
    assert second is not None and second.handled == 0
    assert simulator.posts_received() == {phone: 1 for phone in friends}
    assert run_of(runtime, schedule.campaign, DEC_3).status == "sent"


def test_cron_job_outside_the_campaign_sends_nothing(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    assert (
        send_due_day(
            runtime.session,
            runtime.provider,
            runtime.settings,
            schedule,
            datetime(2027, 1, 5, 8, 0, tzinfo=UTC),
        )
        is None
    )
    assert simulator.posts_received() == {}


def test_cron_job_records_a_crash_as_a_failed_day_instead_of_raising(
    runtime: Runtime, schedule: Schedule, friends: list[str]
) -> None:
    with runtime.db.begin() as connection:  # a broken database: planning cannot write
        cascade = " CASCADE" if connection.dialect.name == "postgresql" else ""
        connection.execute(text(f"DROP TABLE delivery{cascade}"))
    assert send_due_day(runtime.session, runtime.provider, runtime.settings, schedule, DEC_3_SEND) is None
    run = run_of(runtime, schedule.campaign, DEC_3)
    assert run.status == "failed"
    assert "advent send --date 2026-12-03" in run.note
    assert [a.kind for a in alerts(runtime)] == ["day_failed"]


class _TimingOut(Simulator):
    """A network whose every send times out after the request left, and whose log is down."""

    def send(self, message):  # noqa: ANN001, ANN201
        raise ProviderError("the request timed out", maybe_sent=True)

    def lookup(self, message, since):  # noqa: ANN001, ANN201
        return None


def test_a_day_finishing_with_unknown_deliveries_tells_the_organiser_once(
    runtime: Runtime, schedule: Schedule
) -> None:
    # Only the provider differs: the day is sent through one whose every send times out.
    timing_out = _TimingOut(runtime.settings.simulator_path, clock=runtime.clock)
    add_friends(runtime, schedule)
    result = send_due_day(runtime.session, timing_out, runtime.settings, schedule, DEC_3_SEND)
    assert result is not None and result.counts == {"unknown": 2} and result.finished
    [told] = alerts(runtime)
    assert told.kind == "unknown_delivery" and told.campaign == schedule.campaign
    assert "2026-12-03" in told.message and "2 friend(s)" in told.message
    assert "run `advent reconcile`" in told.message
    with runtime.session() as session:  # the organiser has seen it; running the day again is quiet
        session.execute(update(OrganiserAlert).values(seen_at=DEC_3_SEND + timedelta(hours=1)))
        session.commit()
    send_due_day(runtime.session, timing_out, runtime.settings, schedule, DEC_3_SEND + timedelta(hours=1))
    assert len(alerts(runtime)) == 1


# --- catching up at start ---------------------------------------------------------------------


def test_catch_up_within_grace_sends_todays_post_once(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    an_hour_late = DEC_3_SEND + timedelta(hours=1)
    lines = catch_up(runtime.session, runtime.provider, runtime.settings, runtime.schedules, an_hour_late)
    catch_up(
        runtime.session,
        runtime.provider,
        runtime.settings,
        runtime.schedules,
        an_hour_late + timedelta(minutes=1),
    )
    assert simulator.posts_received() == {phone: 1 for phone in friends}
    assert run_of(runtime, schedule.campaign, DEC_3).status == "sent"
    assert any("2026-12-03" in line and "60 minutes late" in line for line in lines)


def test_catch_up_after_the_grace_window_records_a_missed_day_and_sends_nothing(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    four_hours_late = DEC_3_SEND + timedelta(hours=4)  # the grace window is 180 minutes
    lines = catch_up(runtime.session, runtime.provider, runtime.settings, runtime.schedules, four_hours_late)
    run = run_of(runtime, schedule.campaign, DEC_3)
    assert run.status == "missed"
    assert "grace window (180 minutes)" in run.note
    assert "advent send --date 2026-12-03" in run.note
    assert any(a.kind == "missed_day" and "2026-12-03" in a.message for a in alerts(runtime))
    assert any("missed" in line for line in lines)
    assert simulator.posts_received() == {}


def test_catch_up_records_earlier_days_without_a_record_as_missed(
    runtime: Runtime, schedule: Schedule, friends: list[str]
) -> None:
    send_due_day(
        runtime.session,
        runtime.provider,
        runtime.settings,
        schedule,
        datetime(2026, 12, 2, 8, 0, 5, tzinfo=UTC),
    )
    lines = catch_up(
        runtime.session,
        runtime.provider,
        runtime.settings,
        runtime.schedules,
        DEC_3_SEND + timedelta(hours=1),
    )
    assert run_of(runtime, schedule.campaign, date(2026, 12, 1)).status == "missed"
    assert run_of(runtime, schedule.campaign, DEC_2).status == "sent"
    assert any("marked missed: 2026-12-01" in line for line in lines)


def test_catch_up_before_todays_send_time_leaves_today_to_the_clock(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    catch_up(
        runtime.session,
        runtime.provider,
        runtime.settings,
        runtime.schedules,
        DEC_3_SEND - timedelta(hours=1),
    )
    assert run_of(runtime, schedule.campaign, DEC_3) is None
    assert run_of(runtime, schedule.campaign, DEC_2).status == "missed"
    assert simulator.posts_received() == {}


# --- days a crash left "sending" --------------------------------------------------------------


def test_an_earlier_day_a_crash_left_half_sent_is_recorded_missed_with_who_did_not_get_it(
    runtime: Runtime, schedule: Schedule, friends: list[str]
) -> None:
    crash_mid_send(runtime, schedule, DEC_2, stored=1)
    lines = catch_up(
        runtime.session,
        runtime.provider,
        runtime.settings,
        runtime.schedules,
        DEC_3_SEND + timedelta(hours=1),
    )
    run = run_of(runtime, schedule.campaign, DEC_2)
    assert run.status == "missed"
    assert run.note == (
        "1 of 2 friends did not get day 2 on 2026-12-02: the scheduler stopped "
        "while sending it; send them now with `advent send --date 2026-12-02`"
    )
    assert [(a.kind, a.message) for a in alerts(runtime, DEC_2)] == [
        ("missed_day", f"{schedule.campaign} 2026-12-02: {run.note}")
    ]
    assert any("2026-12-02" in line and "1 of 2 friends" in line for line in lines)
    assert statuses(runtime, DEC_2) == ["pending", "queued"]  # left for the organiser to send


def test_an_earlier_day_whose_sends_all_went_out_before_the_crash_is_recorded_sent(
    runtime: Runtime, schedule: Schedule, friends: list[str]
) -> None:
    crash_mid_send(runtime, schedule, DEC_2, stored=2)
    catch_up(
        runtime.session,
        runtime.provider,
        runtime.settings,
        runtime.schedules,
        DEC_3_SEND + timedelta(hours=1),
    )
    assert run_of(runtime, schedule.campaign, DEC_2).status == "sent"
    assert alerts(runtime, DEC_2) == []


def test_todays_day_a_crash_left_sending_is_finished_once_within_the_grace_window(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    # One friend's post reached the network but the crash came before its id was saved.
    crash_mid_send(runtime, schedule, DEC_3, unstored=1)
    lines = catch_up(
        runtime.session,
        runtime.provider,
        runtime.settings,
        runtime.schedules,
        DEC_3_SEND + timedelta(hours=1),
    )
    catch_up(
        runtime.session,
        runtime.provider,
        runtime.settings,
        runtime.schedules,
        DEC_3_SEND + timedelta(hours=1, minutes=1),
    )
    assert simulator.posts_received() == {phone: 1 for phone in friends}
    assert run_of(runtime, schedule.campaign, DEC_3).status == "sent"
    assert any("2026-12-03" in line and "minutes late: sent" in line for line in lines)
    assert alerts(runtime, DEC_3) == []


def test_todays_day_a_crash_left_sending_past_the_grace_window_is_recorded_missed(
    runtime: Runtime, schedule: Schedule, simulator: Simulator, friends: list[str]
) -> None:
    crash_mid_send(runtime, schedule, DEC_3, unstored=1)
    lines = catch_up(
        runtime.session,
        runtime.provider,
        runtime.settings,
        runtime.schedules,
        DEC_3_SEND + timedelta(hours=4),
    )
    run = run_of(runtime, schedule.campaign, DEC_3)
    assert run.status == "missed"
    assert run.note.startswith(
        "2 of 2 friends did not get day 3 before the grace window (180 minutes) passed"
    )
    assert "1 of them mid-send" in run.note and "`advent send --date 2026-12-03`" in run.note
    assert [a.kind for a in alerts(runtime, DEC_3)] == ["missed_day"]
    assert any("interrupted while sending" in line for line in lines)
    assert simulator.posts_received() == {FRIENDS[0]: 1}  # nothing more sent by the catch-up


def test_a_misfire_does_not_mark_a_day_that_is_being_sent_as_missed(
    runtime: Runtime, schedule: Schedule, friends: list[str]
) -> None:
    crash_mid_send(runtime, schedule, DEC_3)  # from the outside, a live send looks the same
    record_misfire(
        runtime.session,
        schedule,
        DEC_3,
        DEC_3_SEND + timedelta(hours=4),
        grace_minutes=runtime.settings.misfire_grace_minutes,
    )
    assert run_of(runtime, schedule.campaign, DEC_3).status == "sending"
    assert alerts(runtime) == []
