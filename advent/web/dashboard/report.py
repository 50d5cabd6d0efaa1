"""A campaign's report: the organiser's learnings, as a page and as a CSV for a spreadsheet."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template

from advent.content.schedules import Schedule
from advent.organiser import exports
from advent.organiser.campaign_report import campaign_report
from advent.web import db_session, runtime

blueprint = Blueprint("report", __name__)


def _schedule(campaign: str) -> Schedule:
    found = next((s for s in runtime().schedules if s.campaign == campaign), None)
    if found is None:
        abort(404, description=f"There is no campaign called {campaign!r}.")
    return found


@blueprint.get("/report/<campaign>.csv")
def download(campaign: str):  # type: ignore[no-untyped-def]
    schedule = _schedule(campaign)
    found = campaign_report(db_session(), schedule, runtime().settings.messages_dir)
    return Response(
        exports.campaign_report_csv(found),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="advent-report-{schedule.campaign}.csv"',
            "Cache-Control": "no-store",
        },
    )


@blueprint.get("/report/<campaign>")
def page(campaign: str):  # type: ignore[no-untyped-def]
    schedule = _schedule(campaign)
    found = campaign_report(db_session(), schedule, runtime().settings.messages_dir)
    return render_template("dashboard/report.html", report=found, schedule=schedule)
