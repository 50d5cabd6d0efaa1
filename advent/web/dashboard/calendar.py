"""Home: the advent calendar, one door per day of each campaign."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from advent.web import runtime

blueprint = Blueprint("calendar", __name__)


@blueprint.get("/")
def index():  # type: ignore[no-untyped-def]
    return render_template("dashboard/calendar.html", schedules=runtime().schedules)


@blueprint.get("/dashboard")
def dashboard():  # type: ignore[no-untyped-def]
    return redirect(url_for("calendar.index"))
