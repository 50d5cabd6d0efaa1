"""Alerts: what needs the organiser's attention, what to do about it, and resolving it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from advent.organiser.advice import alert_board, resolve_alert
from advent.organiser.watch import watch
from advent.organiser.watchdog import Limits
from advent.receipts import collect_receipts
from advent.web import db_session, runtime

blueprint = Blueprint("alerts", __name__)


@blueprint.get("/alerts")
def index():  # type: ignore[no-untyped-def]
    rt, session = runtime(), db_session()
    now = rt.clock()
    # As `advent alerts` does: receipts in and the watch run first, so the list is current
    # even when the clock process is not running.
    collect_receipts(session, rt.provider, now)
    watch(session, rt.schedules, now, Limits.of(rt.settings))
    open_alerts, resolved = alert_board(session, now)
    session.commit()
    return render_template("dashboard/alerts.html", open_alerts=open_alerts, resolved=resolved)


# A plain <alert_id>, not <int:...>: a number that is not one is the same 404 as an unknown one
# (and the sign-in test's walk over the URL map can build the route).
@blueprint.post("/alerts/<alert_id>/resolve")
def resolve(alert_id: str):  # type: ignore[no-untyped-def]
    session = db_session()
    found = resolve_alert(session, int(alert_id), runtime().clock()) if alert_id.isdecimal() else None
    if found is None:
        abort(404, description="There is no such alert.")
    session.commit()
    flash(f"Resolved: {found.message}", "ok")
    return redirect(url_for("alerts.index"))
