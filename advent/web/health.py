"""GET /healthz: is the database reachable, is the scheduler alive, how is today going."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from advent.store.tables import DayRun, SchedulerLease
from advent.web import db_session, runtime

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    now = runtime().clock()
    session = db_session()
    try:
        session.execute(text("SELECT 1"))
        lease = session.exec(select(SchedulerLease)).first()
        today = []
        for schedule in runtime().schedules:
            day = schedule.local_date(now)
            run = session.exec(
                select(DayRun).where(DayRun.campaign == schedule.campaign, DayRun.day == day)
            ).first()
            state = run.status if run else ("not due" if not schedule.runs_on(day) else "due")
            today.append({"campaign": schedule.campaign, "day": day.isoformat(), "state": state})
        session.commit()
    except SQLAlchemyError as error:
        return jsonify(status="error", database=f"unreachable: {type(error).__name__}"), 503
    heartbeat = lease.beat_at if lease else None
    return jsonify(
        status="ok",
        database="ok",
        provider=runtime().provider.name,
        scheduler={
            "last_heartbeat": heartbeat.isoformat() if heartbeat else None,
            "seconds_ago": round((now - heartbeat).total_seconds()) if heartbeat else None,
        },
        today=today,
    )
