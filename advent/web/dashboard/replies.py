"""Replies: every text friends sent that was not a keyword."""

from __future__ import annotations

from flask import Blueprint, render_template

blueprint = Blueprint("replies", __name__)


@blueprint.get("/replies")
def index():  # type: ignore[no-untyped-def]
    return render_template("dashboard/replies.html")
