"""The phone: text the simulated service as a friend would."""

from __future__ import annotations

from flask import Blueprint, render_template

blueprint = Blueprint("phone", __name__)


@blueprint.get("/phone")
def index():  # type: ignore[no-untyped-def]
    return render_template("dashboard/phone.html")
