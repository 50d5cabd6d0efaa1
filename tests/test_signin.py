"""Every page but sign-in, health, static files and the signed webhooks needs a signed-in
organiser; sign-in is slowed after failures; every form carries a CSRF token."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlmodel import select

from advent.cli import main
from advent.store.tables import Organiser
from tests.dashboard_helpers import ORGANISER, PASSWORD, csrf_token, make_organiser, sign_in

# What stays open, and why: a way in, a liveness probe for the host, the stylesheet, and the
# provider's webhooks (which check the provider's signature instead).
OPEN = {"signin.login", "static", "health.healthz", "webhooks.inbound", "webhooks.status"}


def _example(rule) -> str:  # type: ignore[no-untyped-def]
    values = {name: "2026-12-03" if name == "day" else "advent-2026" for name in rule.arguments}
    if rule.endpoint == "static":
        values = {"filename": "advent.css"}
    path = rule.build(values)[1]
    return path


def test_every_route_but_the_open_ones_needs_sign_in(app):
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False  # a POST must be refused for want of sign-in, not token
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in OPEN:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_example(rule), method=method)
            assert response.status_code in (302, 401), f"{method} {rule.rule} answered {response.status_code}"
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login"), rule.rule
            checked += 1
    assert checked >= 8  # the walk really walked: calendar, day, replies, people, stats, ...


def test_the_open_routes_answer_without_sign_in(client):
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/static/advent.css").status_code == 200


def test_sign_in_opens_the_calendar_and_sign_out_closes_it(app, runtime):
    make_organiser(runtime)
    browser = app.test_client()
    assert browser.get("/").status_code == 302
    answer = sign_in(browser)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert browser.get("/").status_code == 200
    token = csrf_token(browser.get("/").get_data(as_text=True))
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    assert browser.get("/").headers["Location"].startswith("/login")


def test_a_wrong_password_is_refused_with_a_plain_sentence(app, runtime):
    make_organiser(runtime)
    answer = sign_in(app.test_client(), password="not the password")
    assert answer.status_code == 401
    assert "do not match" in answer.get_data(as_text=True)


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(app, runtime):
    make_organiser(runtime)
    assert sign_in(app.test_client(), next_path="/replies").headers["Location"] == "/replies"
    assert sign_in(app.test_client(), next_path="https://evil.example/").headers["Location"] == "/"
    assert sign_in(app.test_client(), next_path="//evil.example/").headers["Location"] == "/"


def test_a_form_without_its_csrf_token_is_refused(app, runtime):
    make_organiser(runtime)
    browser = app.test_client()
    refused = browser.post("/login", data={"name": ORGANISER, "password": PASSWORD})
    assert refused.status_code == 400
    assert browser.get("/").status_code == 302  # not signed in
    sign_in(browser)
    assert browser.post("/logout").status_code == 400  # signed in, but a forged form


def test_repeated_failures_make_the_next_attempt_wait_even_with_the_right_password(app, runtime, clock):
    make_organiser(runtime)
    browser = app.test_client()
    for _ in range(5):
        assert sign_in(browser, password="guess").status_code == 401
    answer = sign_in(browser)  # the right password, but too soon
    assert answer.status_code == 429
    assert "try again in 2 seconds" in answer.get_data(as_text=True)
    clock.advance(3)
    assert sign_in(browser).status_code == 302


def test_failures_from_one_address_slow_down_every_account_name_it_tries(app, runtime, clock):
    make_organiser(runtime)
    browser = app.test_client()
    for n in range(6):
        sign_in(browser, name=f"guess{n}", password="guess")
    assert sign_in(browser).status_code == 429
    clock.advance(timedelta(hours=2).total_seconds())  # failures are forgotten after an hour
    assert sign_in(browser).status_code == 302


def test_the_session_cookie_is_http_only_and_same_site_lax(app, runtime):
    make_organiser(runtime)
    answer = sign_in(app.test_client())
    [cookie] = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # served over plain http here (PUBLIC_BASE_URL), so not Secure


def test_admin_create_prints_a_one_time_password_that_signs_in(app, runtime):
    made = CliRunner().invoke(main, ["admin", "create", "robin"], obj=runtime)
    assert made.exit_code == 0, made.output
    password = made.output.split("write it down): ")[1].split()[0]
    assert sign_in(app.test_client(), name="robin", password=password).status_code == 302
    again = CliRunner().invoke(main, ["admin", "create", "robin"], obj=runtime)
    assert again.exit_code == 1 and "already an account called 'robin'" in again.output
    with runtime.session() as session:
        stored = session.exec(select(Organiser)).one()
    assert password not in stored.password_hash  # only a hash is kept


def test_admin_set_password_replaces_the_old_one(app, runtime):
    make_organiser(runtime)
    changed = CliRunner().invoke(
        main, ["admin", "set-password", ORGANISER, "--ask"], obj=runtime, input="a brand new password\n"
    )
    assert changed.exit_code == 0, changed.output
    assert sign_in(app.test_client()).status_code == 401
    assert sign_in(app.test_client(), password="a brand new password").status_code == 302
    short = CliRunner().invoke(
        main, ["admin", "set-password", ORGANISER, "--ask"], obj=runtime, input="short\n"
    )
    assert short.exit_code == 1 and "at least 10 characters" in short.output


def test_first_start_makes_one_account_and_later_starts_leave_it(runtime):
    first = CliRunner().invoke(main, ["admin", "create", "organiser", "--if-none"], obj=runtime)
    assert "One-time password" in first.output
    second = CliRunner().invoke(main, ["admin", "create", "organiser", "--if-none"], obj=runtime)
    assert second.exit_code == 0 and "exists already" in second.output


def test_over_https_the_session_cookie_is_secure_too(runtime):
    from advent import create_app

    runtime.settings.public_base_url = "https://advent.example.org"
    app = create_app(runtime=runtime)
    make_organiser(runtime)
    answer = sign_in(app.test_client())
    [cookie] = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "Secure" in cookie and "HttpOnly" in cookie
