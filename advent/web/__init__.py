"""HTTP in and out: webhooks, health, and the pages."""

from __future__ import annotations

import secrets

from flask import Flask, g
from werkzeug.middleware.proxy_fix import ProxyFix

from advent.runtime import Runtime


def _secret_key(runtime: Runtime) -> str:
    """ADVENT_SECRET_KEY, or for local use a random one kept in the instance folder."""
    if runtime.settings.secret_key:
        return runtime.settings.secret_key
    path = runtime.settings.instance_dir / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def init_app(app: Flask, runtime: Runtime) -> None:
    from advent.web import health, webhooks
    from advent.web.dashboard import register_pages
    from advent.web.signin import csrf, init_signin

    app.config["SECRET_KEY"] = _secret_key(runtime)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024  # webhooks are small; refuse floods
    app.extensions["advent"] = runtime
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


def runtime() -> Runtime:
    from flask import current_app

    return current_app.extensions["advent"]


def db_session():  # type: ignore[no-untyped-def]
    """One database session per request, closed when the request ends."""
    if "db_session" not in g:
        g.db_session = runtime().session()
    return g.db_session
