"""Signing in to the dashboard as a browser does: fetch the form, post it with its CSRF token."""

from __future__ import annotations

import re

from advent.organiser import accounts
from advent.runtime import Runtime

ORGANISER = "sam"
PASSWORD = "kind words every day"


def make_organiser(runtime: Runtime, name: str = ORGANISER, password: str = PASSWORD) -> None:
    with runtime.session() as session:
        accounts.create(session, name, password, runtime.clock())
        session.commit()


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(client, name: str = ORGANISER, password: str = PASSWORD, *, next_path: str = ""):  # type: ignore[no-untyped-def]
    page = client.get("/login" + (f"?next={next_path}" if next_path else ""))
    form = {"csrf_token": csrf_token(page.get_data(as_text=True)), "name": name, "password": password}
    return client.post("/login" + (f"?next={next_path}" if next_path else ""), data=form)


def post_form(client, page_path: str, action: str, data: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """Post a form found on `page_path` to `action`, with the page's CSRF token."""
    token = csrf_token(client.get(page_path).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **(data or {})})
