"""A day of a campaign: each friend's ticks, errors and replies."""

from __future__ import annotations

from flask import Blueprint, render_template

blueprint = Blueprint("days", __name__)


@blueprint.get("/days/<campaign>/<day>")
def day(campaign: str, day: str):  # type: ignore[no-untyped-def]
    return render_template("dashboard/days.html")
