"""Replies: every text friends sent that was not a keyword, newest first, to read and mark read;
those that may signal distress pinned above them until marked handled."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from advent.organiser.replies import (
    ReplyFilter,
    count_replies,
    list_replies,
    mark_handled,
    mark_read,
    needing_care,
    pinned_replies,
    reply_days,
    unread_count,
)
from advent.web import db_session, runtime

blueprint = Blueprint("replies", __name__)

PER_PAGE = 50


def _filter() -> tuple[ReplyFilter, str | None]:
    """The filter from the query string, and what was wrong with it (shown, never a 500)."""
    args = request.args
    campaign = args.get("campaign") or None
    if campaign and campaign not in {s.campaign for s in runtime().schedules}:
        abort(404)
    day, problem = None, None
    if args.get("day"):
        try:
            day = date.fromisoformat(args["day"])
        except ValueError:
            problem = (
                f"“{args['day'][:40]}” is not a date; use YYYY-MM-DD, e.g. 2026-12-03. Showing every day."
            )
    wanted = ReplyFilter(campaign=campaign, day=day, unread=args.get("unread") == "1", unpinned=True)
    return wanted, problem


def _page() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdecimal() or int(raw) < 1:
        abort(404)
    return int(raw)


@blueprint.get("/replies")
def index():  # type: ignore[no-untyped-def]
    session = db_session()
    wanted, problem = _filter()
    page = _page()
    total = count_replies(session, wanted)
    pages = max(1, -(-total // PER_PAGE))
    if page > pages:
        abort(404)
    shown = list_replies(session, runtime().schedules, wanted, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render_template(
        "dashboard/replies.html",
        pinned=pinned_replies(session, runtime().schedules),
        replies=shown,
        wanted=wanted,
        problem=problem,
        total=total,
        unread=unread_count(session),
        page=page,
        pages=pages,
        days=reply_days(session, wanted.campaign),
        campaigns=[s.campaign for s in runtime().schedules],
    ), (400 if problem else 200)


@blueprint.post("/replies/read")
def read():  # type: ignore[no-untyped-def]
    ids = [int(v) for v in request.form.getlist("id") if v.isdecimal()]
    if not ids:
        flash("Nothing to mark: no reply was chosen.", "error")
    else:
        changed = mark_read(db_session(), ids, runtime().clock())
        flash(f"Marked {changed} {'reply' if changed == 1 else 'replies'} as read.", "ok")
    return redirect(_back())


@blueprint.post("/replies/handled")
def handled():  # type: ignore[no-untyped-def]
    raw = request.form.get("id", "")
    session = db_session()
    if not raw.isdecimal() or not mark_handled(session, int(raw), runtime().clock()):
        flash("Nothing to mark: that reply is not waiting for you (handled already?).", "error")
    else:
        left = needing_care(session)
        flash(f"Marked handled; its alert is resolved. {left} still pinned.", "ok")
    return redirect(_back())


def _back() -> str:
    """Back to the list as it was filtered (only our own path, never another site)."""
    target = request.form.get("back", "")
    if target.startswith("/replies") and not target.startswith("//"):
        return target
    return url_for("replies.index")
