"""A day of a campaign: each friend's ticks, errors and replies; retry the failed ones; and the
day's progress as JSON for the calendar's live door."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from sqlmodel import Session, select

from advent.content.schedules import Schedule
from advent.organiser.calendar import DayCounts, counts_by_day, post_preview
from advent.organiser.day import (
    LINES_PER_PAGE,
    day_lines,
    form_counts,
    post_count,
    retry_failed,
    retryable_count,
)
from advent.organiser.today import today_for
from advent.sending.holds import HoldRefused, hold_day, release_day
from advent.states.day_runs import DayRunStatus as R
from advent.store.tables import DayRun
from advent.web import db_session, runtime

blueprint = Blueprint("days", __name__)


class NotADay(Exception):
    """A URL naming no day of any campaign; the message says why, in the organiser's words."""


def _find(campaign: str, day: str) -> tuple[Schedule, date]:
    schedule = next((s for s in runtime().schedules if s.campaign == campaign), None)
    if schedule is None:
        known = ", ".join(s.campaign for s in runtime().schedules) or "none"
        raise NotADay(f"There is no campaign called “{campaign}” (campaigns: {known}).")
    try:
        # fromisoformat takes 20261203 too; the page's addresses are always 2026-12-03.
        if len(day) != 10:
            raise ValueError(day)
        found = date.fromisoformat(day)
    except ValueError:
        raise NotADay(f"“{day}” is not a date; days look like {schedule.first_day.isoformat()}.") from None
    if not schedule.runs_on(found):
        raise NotADay(
            f"{_long(found)} is not a day of {campaign}, which runs "
            f"{_long(schedule.first_day)} to {_long(schedule.last_day)}."
        )
    return schedule, found


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


@blueprint.errorhandler(NotADay)
def _not_found(error: NotADay):  # type: ignore[no-untyped-def]
    # One answer for every address under /days/ that names no day: JSON for the poller.
    if request.path.endswith(".json"):
        return jsonify(error=str(error)), 404
    return render_template("dashboard/days.html", problem=str(error)), 404


@blueprint.get("/days/<campaign>/<day>")
def day(campaign: str, day: str):  # type: ignore[no-untyped-def]
    schedule, found = _find(campaign, day)
    rt = runtime()
    session = db_session()
    number = schedule.day_number(found)
    total = post_count(session, schedule.campaign, found)
    pages = max(1, -(-total // LINES_PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    skip = (page - 1) * LINES_PER_PAGE
    lines = day_lines(
        session, schedule.campaign, found, rt.provider.explain, schedule.tz, skip=skip, limit=LINES_PER_PAGE
    )
    counts = counts_by_day(session, schedule.campaign, found).get(found)
    run = _run(session, schedule, found)
    preview = None
    if not lines:  # not sent yet: the door's preview of the post, as on the calendar
        preview = post_preview(session, schedule, rt.settings.messages_dir, found)
    retryable = retryable_count(session, schedule.campaign, found)
    session.commit()
    return render_template(
        "dashboard/days.html",
        schedule=schedule,
        day=found,
        number=number,
        run=run,
        lines=lines,
        counts=counts,
        preview=preview,
        retryable=retryable,
        forms=form_counts(session, schedule.campaign, found),
        page=page,
        pages=pages,
        shown=(skip + 1, skip + len(lines), total),
    )


def _run(session: Session, schedule: Schedule, day: date) -> DayRun | None:
    return session.exec(select(DayRun).where(DayRun.campaign == schedule.campaign, DayRun.day == day)).first()


@blueprint.post("/days/<campaign>/<day>/retry")
def retry(campaign: str, day: str):  # type: ignore[no-untyped-def]
    schedule, found = _find(campaign, day)
    rt = runtime()
    session = db_session()
    now = rt.clock()
    handed_back = retry_failed(session, schedule.campaign, found, now)
    today = today_for(session, schedule, now)
    session.commit()
    if not handed_back:
        flash("Nothing to retry: every failed post went to someone who stopped, or already has it.", "info")
    elif found == today.day and today.state in (R.SENT, R.SENDING):
        flash(f"{handed_back} handed back; the clock sends them within a minute.", "ok")
    else:
        # The clock's sweep sends only today's post; an earlier day is sent when asked.
        flash(
            f"{handed_back} handed back. The clock only sends today's post: send these now with "
            f"`advent send --date {found.isoformat()}`.",
            "ok",
        )
    return redirect(url_for("days.day", campaign=schedule.campaign, day=found.isoformat()))


@blueprint.post("/days/<campaign>/<day>/hold")
def hold(campaign: str, day: str):  # type: ignore[no-untyped-def]
    return _hold_or_release(campaign, day, release=False)


@blueprint.post("/days/<campaign>/<day>/release")
def release(campaign: str, day: str):  # type: ignore[no-untyped-def]
    return _hold_or_release(campaign, day, release=True)


def _hold_or_release(campaign: str, day: str, *, release: bool):  # type: ignore[no-untyped-def]
    schedule, found = _find(campaign, day)
    act = release_day if release else hold_day
    try:
        said = act(db_session(), schedule, found, runtime().clock(), "the day page's button")
        flash(said, "ok")
    except HoldRefused as refused:
        flash(f"{refused}.", "error")
    return redirect(url_for("days.day", campaign=schedule.campaign, day=found.isoformat()))


@blueprint.get("/days/<campaign>/<day>/progress.json")
def progress(campaign: str, day: str):  # type: ignore[no-untyped-def]
    schedule, found = _find(campaign, day)
    session = db_session()
    counts = counts_by_day(session, schedule.campaign, found).get(found, DayCounts())
    run = _run(session, schedule, found)
    session.commit()
    state = run.status if run else None
    body = counts.to_json()
    return jsonify(
        campaign=schedule.campaign,
        day=found.isoformat(),
        state=state,
        # Nothing more will change on its own: the day is settled and nothing waits to be sent.
        finished=state in (R.SENT, R.MISSED, R.FAILED) and not body.get("waiting"),
        **body,
    )
