"""Several dispatchers share one day on PostgreSQL: each claims the next row nobody holds
(FOR UPDATE SKIP LOCKED), so none waits on another's rows and no row is claimed twice."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from advent.sending.plan import plan_day
from advent.states import claims
from advent.store.tables import Delivery
from tests import postgres_mode
from tests.helpers import add_people

pytestmark = pytest.mark.skipif(
    not postgres_mode.enabled(), reason="SKIP LOCKED is PostgreSQL's; SQLite lets one writer in at a time"
)

DAY = date(2026, 12, 3)
JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _planned(runtime, schedule, clock, people: int) -> list[int]:  # type: ignore[no-untyped-def]
    with runtime.session() as session:
        add_people(session, schedule, people, JOINED)
        plan_day(session, schedule, DAY, clock())
        session.commit()
        return list(session.exec(select(Delivery.id).order_by(Delivery.id)).all())


def test_dispatchers_claiming_at_once_never_claim_the_same_row(runtime, schedule, clock):
    planned = _planned(runtime, schedule, clock, 60)
    dispatchers = 5
    start = threading.Barrier(dispatchers)
    claimed: list[list[int]] = [[] for _ in range(dispatchers)]

    def dispatch(mine: list[int]) -> None:
        with runtime.session() as session:
            start.wait()
            while (row := claims.claim_next(session, schedule.campaign, DAY, "post", clock())) is not None:
                mine.append(row)

    threads = [threading.Thread(target=dispatch, args=(mine,)) for mine in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    every = [row for mine in claimed for row in mine]
    assert sorted(every) == planned  # each row once, none left behind
    assert sum(1 for mine in claimed if mine) > 1, "the dispatchers did not share the day"


def test_a_row_held_by_one_dispatcher_does_not_hold_up_another(runtime, schedule, clock):
    first, second, _third = _planned(runtime, schedule, clock, 3)
    # A dispatcher that would wait on a lock gives up after three seconds (an error), rather
    # than hanging the test.
    impatient = create_engine(runtime.settings.database_url, connect_args={"options": "-c lock_timeout=3000"})
    holding = create_engine(runtime.settings.database_url)
    holder = Session(holding)
    try:
        held = holder.execute(
            text("SELECT id FROM delivery ORDER BY id LIMIT 1 FOR UPDATE")
        ).scalar_one()  # and the transaction stays open, holding the row
        assert held == first
        with Session(impatient) as dispatcher:
            assert claims.claim_next(dispatcher, schedule.campaign, DAY, "post", clock()) == second
            holder.rollback()  # the first dispatcher lets go of its row without claiming it
            assert claims.claim_next(dispatcher, schedule.campaign, DAY, "post", clock()) == first
    finally:
        holder.close()
        holding.dispose()
        impatient.dispose()
