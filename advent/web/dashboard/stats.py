"""Stats: charts, CSV exports and the JSON API."""

from __future__ import annotations

from flask import Blueprint, render_template

blueprint = Blueprint("stats", __name__)


@blueprint.get("/stats")
def index():  # type: ignore[no-untyped-def]
    return render_template("dashboard/stats.html")
