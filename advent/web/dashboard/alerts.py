"""Alerts: what needs the organiser's attention, and resolving it."""

from __future__ import annotations

from flask import Blueprint, render_template

blueprint = Blueprint("alerts", __name__)


@blueprint.get("/alerts")
def index():  # type: ignore[no-untyped-def]
    return render_template("dashboard/alerts.html")
