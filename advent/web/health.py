"""GET /healthz: is the database reachable, is the scheduler alive, how is today going."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from advent.organiser.today import last_heartbeat, today
from advent.web import db_session, runtime

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    now = runtime().clock()
    session = db_session()
    try:
        session.execute(text("SELECT 1"))
        heartbeat = last_heartbeat(session)
        # The same facts the calendar's banner reads (advent/organiser/today.py).
        days = [
            {"campaign": t.campaign, "day": t.day.isoformat(), "state": t.state}
            for t in today(session, runtime().schedules, now)
        ]
        session.commit()
    except SQLAlchemyError as error:
        return jsonify(status="error", database=f"unreachable: {type(error).__name__}"), 503
    return jsonify(
        status="ok",
        database="ok",
        provider=runtime().provider.name,
        scheduler={
            "last_heartbeat": heartbeat.isoformat() if heartbeat else None,
            "seconds_ago": round((now - heartbeat).total_seconds()) if heartbeat else None,
        },
        today=days,
    )
