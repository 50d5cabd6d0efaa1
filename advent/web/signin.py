"""Sign-in for the dashboard: Flask-Login sessions, CSRF on every form, and one guard that
keeps every page but sign-in, health, static files and the signed webhooks behind it."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response as BaseResponse
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from advent.organiser import accounts
from advent.store.tables import Organiser
from advent.web import db_session, runtime

blueprint = Blueprint("signin", __name__)
csrf = CSRFProtect()
login_manager = LoginManager()

# Open without signing in: the sign-in page itself, health checks, static files, and the
# webhooks, which prove who sent them by the provider's signature instead.
PUBLIC_ENDPOINTS = {"signin.login", "static", "health.healthz"}
PUBLIC_BLUEPRINTS = {"webhooks"}


class SignedIn(UserMixin):
    """The organiser of this session, as Flask-Login needs it (no database row kept around)."""

    def __init__(self, organiser: Organiser) -> None:
        self.id = str(organiser.id)
        self.name = organiser.name


class SignInForm(FlaskForm):
    name = StringField("Account name", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


@login_manager.user_loader
def _load(user_id: str) -> SignedIn | None:
    if not user_id.isdecimal():
        return None
    organiser = db_session().get(Organiser, int(user_id))
    return SignedIn(organiser) if organiser else None


def _is_public() -> bool:
    endpoint = request.endpoint or ""
    return endpoint in PUBLIC_ENDPOINTS or request.blueprint in PUBLIC_BLUEPRINTS


def _api_token_given() -> bool:
    """A script's read-only token (ADVENT_API_TOKEN, empty: off): GET under /api/ only,
    compared in constant time so the answer's timing gives nothing away."""
    token = runtime().settings.api_token
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return (
        bool(token)
        and request.method in ("GET", "HEAD")
        and request.path.startswith("/api/")
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given.strip().encode(), token.encode())
    )


def _guard() -> BaseResponse | tuple[dict[str, str], int] | None:
    # A path or method that matches no route gets its plain 404/405, signed in or not.
    if request.routing_exception is not None or _is_public() or current_user.is_authenticated:
        return None
    if _api_token_given():
        return None
    if request.path.startswith("/api/"):
        return {"error": "sign in first, or send the read-only token (ADVENT_API_TOKEN)"}, 401
    return redirect(url_for("signin.login", next=request.full_path.rstrip("?")))


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a sign-in link must not bounce the organiser elsewhere."""
    if not target:
        return url_for("calendar.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("calendar.index")
    return target


@blueprint.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        address = request.remote_addr or "unknown"
        result = accounts.sign_in(
            db_session(), form.name.data or "", form.password.data or "", address, runtime().clock()
        )
        if result.organiser is not None:
            login_user(SignedIn(result.organiser))
            return redirect(_safe_next(request.args.get("next")))
        if result.wait_seconds:
            flash(f"Too many failed sign-ins: try again in {result.wait_seconds} seconds.", "error")
            status = 429
        else:
            flash("That account name and password do not match.", "error")
            status = 401
    elif request.method == "POST":
        status = 400
    first_run = accounts.count(db_session()) == 0
    return render_template("signin.html", form=form, first_run=first_run), status


@blueprint.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    logout_user()
    flash("Signed out.", "info")
    return redirect(url_for("signin.login"))


def init_signin(app: Flask) -> None:
    secure = _served_over_https(app)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
        WTF_CSRF_TIME_LIMIT=None,  # valid for the whole signed-in session
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    app.before_request(_guard)
    app.register_blueprint(blueprint)


def _served_over_https(app: Flask) -> bool:
    """Cookies go only over https when the service is served over https."""
    return app.extensions["advent"].settings.public_base_url.lower().startswith("https://")
