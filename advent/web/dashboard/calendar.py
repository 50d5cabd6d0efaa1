"""Home: the advent calendar, one door per day of each campaign, under a banner that says at a
glance whether today's post reached everyone and, if not, why."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, redirect, render_template, url_for

from advent.organiser.calendar import campaign_calendar, open_alerts, unread_replies
from advent.organiser.replies import needing_care
from advent.organiser.today import clock_stopped, last_heartbeat, whatsapp_left_out
from advent.web import db_session, runtime

blueprint = Blueprint("calendar", __name__)


@blueprint.get("/")
def index():  # type: ignore[no-untyped-def]
    rt = runtime()
    session = db_session()
    now = rt.clock()
    calendars = [campaign_calendar(session, s, rt.settings.messages_dir, now) for s in rt.schedules]
    left_out = [
        found
        for s in rt.schedules
        if (found := whatsapp_left_out(session, s, rt.settings.messages_dir, rt.provider, now)) is not None
    ]
    alerts = open_alerts(session)
    heartbeat = last_heartbeat(session)
    unread = unread_replies(session)
    care = needing_care(session)
    session.commit()  # end the read
    return render_template(
        "dashboard/calendar.html",
        calendars=calendars,
        alerts=alerts,
        left_out=left_out,
        unread=unread,
        care=care,
        heartbeat=heartbeat,
        clock_stopped=clock_stopped(heartbeat, now),
        now=now,
        local=_local,
    )


def _local(moment: datetime | None, tz: object, pattern: str = "%H:%M") -> str:
    """A moment as the organiser's wall clock shows it, in the campaign's timezone."""
    return moment.astimezone(tz).strftime(pattern) if moment else ""  # type: ignore[arg-type]


@blueprint.get("/dashboard")
def dashboard():  # type: ignore[no-untyped-def]
    return redirect(url_for("calendar.index"))
