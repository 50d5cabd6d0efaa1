"""`advent send` counts people, not attempts, and says who is waiting for a retry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from click.testing import CliRunner
from sqlmodel import select

from advent.cli import main
from advent.sending.plan import plan_day
from advent.sending.progress import next_day_to_send, waiting_for_retry
from advent.store.tables import Delivery
from tests.helpers import add_people

JOINED = datetime(2026, 11, 30, tzinfo=UTC)


def test_retries_are_not_counted_as_more_people(runtime, schedule, simulator):
    add_people(runtime.session(), schedule, 6, JOINED)
    simulator.error_rate = 0.5  # half the sends are refused as busy, then tried again
    runtime.settings = runtime.settings.model_copy(
        update={"retry_base_seconds": 0.0, "send_max_attempts": 20}
    )
    result = CliRunner().invoke(main, ["send", "--date", "2026-12-05"], obj=runtime, catch_exceptions=False)
    with runtime.session() as session:
        rows = session.exec(select(Delivery)).all()
    assert sum(row.attempts for row in rows) > 6  # some needed more than one attempt
    assert "6 newly planned, 6 people handed over now, 0 waiting for a retry" in result.output


def test_people_waiting_for_a_retry_are_counted(runtime, schedule, clock):
    add_people(runtime.session(), schedule, 3, JOINED)
    day = date(2026, 12, 5)
    with runtime.session() as session:
        plan_day(session, schedule, day, clock())
        for row in session.exec(select(Delivery)).all()[:2]:
            row.attempts, row.next_attempt_at = 1, clock() + timedelta(minutes=5)
            session.add(row)
        session.commit()
        assert waiting_for_retry(session, schedule.campaign, day) == 2


def test_the_next_day_to_send_skips_days_already_sent(runtime, schedule):
    runner = CliRunner()
    # The fixture's clock says 3 December: days 1 and 2 are past, so the 3rd is next.
    assert runner.invoke(main, ["next-day"], obj=runtime).output == "2026-12-03\n"
    runner.invoke(main, ["send", "--date", "2026-12-03"], obj=runtime, catch_exceptions=False)
    assert runner.invoke(main, ["next-day"], obj=runtime).output == "2026-12-04\n"
    with runtime.session() as session:
        assert next_day_to_send(session, schedule, date(2026, 6, 1)) == date(2026, 12, 1)
        assert next_day_to_send(session, schedule, date(2026, 12, 25)) is None


def test_no_day_left_is_said_plainly(runtime, clock):
    clock.now = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
    result = CliRunner().invoke(main, ["next-day"], obj=runtime)
    assert result.exit_code == 1
    assert "advent-2026 has no day left to send" in result.output
