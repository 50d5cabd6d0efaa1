"""advent: one kind message a day, by WhatsApp or SMS, to friends who asked for it.

Only `create_app` lives here, and it imports Flask and the runtime when called, so that
`import advent.people.keywords` (or any pure module) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from advent.config import Settings
    from advent.providers.base import Provider
    from advent.runtime import Runtime


def create_app(
    settings: Settings | None = None, *, provider: Provider | None = None, runtime: Runtime | None = None
) -> Flask:
    """The web app. `gunicorn 'advent:create_app()'` serves it; tests pass settings in."""
    from flask import Flask

    from advent.runtime import build_runtime
    from advent.startup import exit_on_bad_setup
    from advent.web import init_app

    if runtime is None:
        with exit_on_bad_setup():
            runtime = build_runtime(settings, provider=provider)
    app = Flask(
        __name__, instance_relative_config=False, template_folder="web/templates", static_folder="web/static"
    )
    init_app(app, runtime)
    return app
