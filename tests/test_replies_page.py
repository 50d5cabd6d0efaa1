"""The Replies page: what friends wrote back, newest first, with the day it answers; marking
read; filtering by day; media-only texts. Friends text through the webhook, as on a phone."""

from __future__ import annotations

import re
from datetime import date

from advent.content.posts import load_post
from advent.sending.days import send_day
from tests.dashboard_helpers import post_form
from tests.webhook_helpers import text_from

ANNA, BEN = "+447911123456", "+447700900123"  # the `friends` fixture


def send(runtime, sender, schedule, day: date) -> None:
    send_day(sender, schedule, day, load_post(runtime.settings.messages_dir, schedule, day))


def page(client, path: str = "/replies") -> str:
    answer = client.get(path)
    assert answer.status_code == 200, answer.status_code
    return answer.get_data(as_text=True)


def unread(html: str) -> int:
    found = re.search(r"(\d+) unread</span>", html)
    assert found, "the page shows no unread count"
    return int(found.group(1))


def test_a_reply_appears_newest_first_with_the_day_it_answers_and_a_masked_number(
    organiser, runtime, sender, schedule, friends, clock
):
    send(runtime, sender, schedule, date(2026, 12, 2))
    text_from(organiser, ANNA, "The walk idea made my day")
    send(runtime, sender, schedule, date(2026, 12, 3))
    clock.advance(60)
    text_from(organiser, BEN, "Called my gran, thank you")
    text_from(organiser, BEN, "HELP")  # a keyword: answered by the service, not a reply to read

    html = page(organiser)
    assert html.index("Called my gran") < html.index("The walk idea")  # newest first
    assert "Day 3 · 3 Dec" in html and "Day 2 · 2 Dec" in html
    assert "+44•••••••456" in html and ANNA not in html and BEN not in html
    assert "HELP" not in html.split("<h1>")[1]
    assert "2 replies" in html and unread(html) == 2


def test_the_day_label_links_to_that_days_page(organiser, runtime, sender, schedule, friends):
    send(runtime, sender, schedule, date(2026, 12, 3))
    text_from(organiser, ANNA, "Lovely")
    assert 'href="/days/advent-2026/2026-12-03"' in page(organiser)


def test_marking_one_read_and_then_all_shown_changes_the_unread_count(
    organiser, runtime, sender, schedule, friends
):
    send(runtime, sender, schedule, date(2026, 12, 3))
    for words in ("One", "Two", "Three"):
        text_from(organiser, ANNA, words)
    html = page(organiser)
    first = re.search(r'name="id" value="(\d+)">\s*<button type="submit" class="link">', html)
    assert first and unread(html) == 3
    answer = post_form(organiser, "/replies", "/replies/read", {"id": first.group(1), "back": "/replies"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/replies"
    html = page(organiser)
    assert "Marked 1 reply as read." in html and unread(html) == 2
    ids = re.findall(r'name="id" value="(\d+)"', html.split('class="mark-all"')[1].split("</form>")[0])
    assert len(ids) == 2
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    organiser.post("/replies/read", data={"csrf_token": token, "id": ids})
    html = page(organiser)
    assert unread(html) == 0 and "Mark all" not in html
    assert "3 replies" in page(organiser, "/replies") and "No replies match" in page(
        organiser, "/replies?unread=1"
    )


def test_marking_read_without_the_forms_token_is_refused(organiser, runtime, sender, schedule, friends):
    send(runtime, sender, schedule, date(2026, 12, 3))
    text_from(organiser, ANNA, "Hello")
    assert organiser.post("/replies/read", data={"id": "1"}).status_code == 400
    assert unread(page(organiser)) == 1


def test_filtering_by_day_shows_only_the_replies_to_that_post(organiser, runtime, sender, schedule, friends):
    send(runtime, sender, schedule, date(2026, 12, 2))
    text_from(organiser, ANNA, "About the second")
    send(runtime, sender, schedule, date(2026, 12, 3))
    text_from(organiser, BEN, "About the third")
    html = page(organiser, "/replies?day=2026-12-02")
    assert "About the second" in html and "About the third" not in html and "1 reply," in html
    assert "About the third" in page(organiser, "/replies?day=2026-12-03&unread=1")
    assert "No replies match" in page(organiser, "/replies?day=2026-12-20")


def test_a_bad_date_or_campaign_in_the_address_is_a_clear_answer_not_a_crash(organiser):
    bad = organiser.get("/replies?day=3rd-of-December")
    assert bad.status_code == 400 and "is not a date; use YYYY-MM-DD" in bad.get_data(as_text=True)
    assert organiser.get("/replies?campaign=no-such-campaign").status_code == 404
    assert organiser.get("/replies?page=abc").status_code == 404
    assert organiser.get("/replies?page=9").status_code == 404


def test_a_photo_with_no_words_shows_as_an_attachment(organiser, runtime, sender, schedule, friends):
    send(runtime, sender, schedule, date(2026, 12, 3))
    text_from(organiser, ANNA, "", NumMedia="1")
    text_from(organiser, BEN, "Look!", NumMedia="3")
    html = page(organiser)
    assert "[photo or other attachment]" in html
    assert "Look! [3 attachments]" in html


def test_a_long_list_is_paged_and_every_reply_is_on_one_page(
    organiser, runtime, sender, schedule, friends, clock
):
    send(runtime, sender, schedule, date(2026, 12, 3))
    for n in range(55):
        clock.advance(1)
        text_from(organiser, ANNA, f"Reply number {n:02d}")
    first, second = page(organiser), page(organiser, "/replies?page=2")
    assert "page 1 of 2" in first and "Reply number 54" in first and "Reply number 05" in first
    assert "Reply number 04" in second and "Reply number 00" in second and "Reply number 05" not in second
    assert 'href="/replies?page=2"' in first
