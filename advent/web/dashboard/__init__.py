"""The organiser's dashboard: one blueprint per page, all behind sign-in (see web/signin.py).

Views are thin: they read through query functions in advent/organiser/ and render Jinja
templates in advent/web/templates/dashboard/. Nothing here needs a build step or a CDN.
"""

from __future__ import annotations

from flask import Flask

from advent.organiser.ticks import ticks_for
from advent.web import runtime


def register_pages(app: Flask) -> None:
    from advent.web.dashboard import alerts, calendar, days, people, phone, replies, report, stats

    for page in (calendar, days, replies, people, stats, report, alerts, phone):
        app.register_blueprint(page.blueprint)

    app.jinja_env.globals["ticks_for"] = ticks_for

    @app.context_processor
    def _layout() -> dict[str, object]:
        provider = runtime().provider
        # The layout shows on every page whether this is a rehearsal or the real network.
        return {
            "rehearsal": provider.rehearsal,
            "provider_name": provider.name,
            "has_phone": provider.phone is not None,
        }
