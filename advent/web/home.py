"""The home page: a placeholder until the dashboard arrives."""

from __future__ import annotations

from flask import Blueprint, render_template

from advent.web import runtime

blueprint = Blueprint("home", __name__, template_folder="templates")


@blueprint.get("/")
def index():  # type: ignore[no-untyped-def]
    return render_template("home.html", schedules=runtime().schedules, provider=runtime().provider.name)
