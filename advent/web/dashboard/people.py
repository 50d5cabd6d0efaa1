"""People: the list, consent history, invites and removals."""

from __future__ import annotations

from flask import Blueprint, render_template

blueprint = Blueprint("people", __name__)


@blueprint.get("/people")
def index():  # type: ignore[no-untyped-def]
    return render_template("dashboard/people.html")
