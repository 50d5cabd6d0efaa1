"""HTTP in and out: webhooks, health, and the pages."""

from __future__ import annotations

import threading

from flask import Flask, g
from werkzeug.middleware.proxy_fix import ProxyFix

from advent.config import local_secret_key
from advent.runtime import Runtime


def init_app(app: Flask, runtime: Runtime) -> None:
    from advent.web import exposure, headers, health, webhooks
    from advent.web.dashboard import register_pages
    from advent.web.signin import csrf, init_signin

    app.config["SECRET_KEY"] = local_secret_key(runtime.settings)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024  # webhooks are small; refuse floods
    app.extensions["advent"] = runtime
    # First among the request hooks, so a request the sign-in guard turns away still counts.
    exposure.init_exposure_warning(app, runtime)
    hops = runtime.settings.trusted_proxies
    if hops:
        # Behind a TLS proxy Flask would see http://internal:port and every signature would fail.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way to wrap
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )

    @app.teardown_appcontext
    def _close_session(_error: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    app.register_blueprint(health.blueprint)
    app.register_blueprint(webhooks.blueprint)
    # The webhooks prove who sent them by the provider's signature, not by a CSRF token.
    csrf.exempt(webhooks.blueprint)
    init_signin(app)
    register_pages(app)
    headers.init_headers(app, runtime.settings)
    _replay_journal_in_background(runtime)


def _replay_journal_in_background(runtime: Runtime) -> None:
    """Texts kept while the database was busy are stored as a web worker starts; in a thread, so
    a database still locked never delays the worker's first answer."""
    from advent.web.webhooks import replay_quietly

    if runtime.journal().waiting():
        threading.Thread(target=replay_quietly, args=(runtime,), name="journal-replay", daemon=True).start()


def runtime() -> Runtime:
    from flask import current_app

    return current_app.extensions["advent"]


def db_session():  # type: ignore[no-untyped-def]
    """One database session per request, closed when the request ends."""
    if "db_session" not in g:
        g.db_session = runtime().session()
    return g.db_session
