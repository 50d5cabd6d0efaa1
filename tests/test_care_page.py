"""Replies that need a human, on the dashboard: pinned at the top of Replies and counted on the
calendar's banner until the organiser marks them handled, which resolves their alert."""

from __future__ import annotations

import re
from html import unescape

from sqlmodel import select

from advent.store.tables import OrganiserAlert
from tests.dashboard_helpers import csrf_token, post_form
from tests.webhook_helpers import text_from

ANNA, BEN = "+447911123456", "+447700900123"  # the `friends` fixture


def page(organiser, path: str = "/replies") -> str:  # type: ignore[no-untyped-def]
    answer = organiser.get(path)
    assert answer.status_code == 200, answer.status_code
    return unescape(answer.get_data(as_text=True))


def pinned(html: str) -> str:
    """The pinned section's text, or '' when nothing is pinned."""
    found = re.search(r'<section class="pinned".*?</section>', html, re.S)
    return found.group(0) if found else ""


def test_a_distressed_reply_is_pinned_above_newer_ones_and_announced(organiser, friends, clock):
    text_from(organiser, ANNA, "I can't go on like this")
    clock.advance(60)
    text_from(organiser, BEN, "Lovely post, thank you")
    html = page(organiser)
    section = pinned(html)
    assert "I can't go on like this" in section and "+44•••••••456" in section
    assert "Lovely post" not in section
    assert html.index("I can't go on like this") < html.index("Lovely post")  # newer, yet below
    assert '<p role="alert">1 reply may signal distress.' in section
    assert html.count("I can't go on like this") == 1  # pinned, not listed twice


def test_pinned_whatever_the_filter_shows(organiser, friends):
    text_from(organiser, ANNA, "kms")
    assert "kms" in pinned(page(organiser, "/replies?day=2026-12-24"))


def test_a_stop_in_distress_is_pinned_too_and_says_they_stopped(organiser, friends):
    text_from(organiser, ANNA, "STOP I want to die")
    section = pinned(page(organiser))
    assert "STOP I want to die" in section and "they also said STOP" in section


def test_mark_handled_unpins_it_marks_it_read_and_resolves_its_alert(organiser, runtime, friends):
    text_from(organiser, ANNA, "everything feels hopeless")
    reply_id = re.search(r'id="pinned-(\d+)"', page(organiser)).group(1)  # type: ignore[union-attr]
    done = post_form(organiser, "/replies", "/replies/handled", {"id": reply_id, "back": "/replies"})
    assert done.status_code == 302 and done.headers["Location"] == "/replies"
    html = page(organiser)
    assert "Marked handled; its alert is resolved. 0 still pinned." in html
    assert pinned(html) == "" and "everything feels hopeless" in html  # back in the list, read
    assert "0 unread" in html
    with runtime.session() as session:
        [found] = session.exec(select(OrganiserAlert).where(OrganiserAlert.kind == "distress")).all()
    assert found.resolved_at is not None


def test_mark_handled_without_the_forms_token_is_refused(organiser, friends):
    text_from(organiser, ANNA, "I want to hurt myself")
    reply_id = re.search(r'id="pinned-(\d+)"', page(organiser)).group(1)  # type: ignore[union-attr]
    assert organiser.post("/replies/handled", data={"id": reply_id}).status_code == 400
    assert "I want to hurt myself" in pinned(page(organiser))


def test_marking_an_ordinary_reply_handled_changes_nothing(organiser, friends):
    text_from(organiser, ANNA, "Lovely")
    html = page(organiser)
    token = csrf_token(html)
    reply_id = re.search(r'name="id" value="(\d+)"', html).group(1)  # type: ignore[union-attr]
    organiser.post("/replies/handled", data={"csrf_token": token, "id": reply_id})
    assert "that reply is not waiting for you" in page(organiser)


def test_the_calendar_banner_counts_replies_that_may_need_the_organiser(organiser, friends):
    assert "may need you" not in page(organiser, "/")
    text_from(organiser, ANNA, "no point anymore")
    text_from(organiser, BEN, "I'm not coping")
    banner = page(organiser, "/")
    assert re.search(
        r'role="alert" data-care="2"><strong><a href="/replies">2 replies may need you</a>', banner
    )


def test_the_alerts_page_says_what_to_do(organiser, friends):
    text_from(organiser, ANNA, "I'm suicidal")
    html = page(organiser, "/alerts")
    assert "A friend may need you" in html and "you are not a crisis service" in html
