"""The dashboard in a real browser (Debian's Chromium, driven by Playwright), as an organiser
uses it; each visit to a main page saves its screenshots for the README (docs/screenshots/).

A new page's flow is one more test here: `signed_in(page, site)`, go to the page, check what the
organiser sees with `expect`, and `snap(page, "<page>")`.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from advent.content.posts import load_post
from advent.sending.days import send_day
from tests.browser.conftest import Site, signed_in, snap

FRIEND = "+447700900555"  # a drama number: made up, fine on the simulator
MASKED = "+44•••••••555"
DEC_3 = date(2026, 12, 3)  # the site's clock starts at 09:00 on this day


def send_today(site: Site) -> None:
    """Send today's post through advent's own sending code, as the scheduler would at 08:00."""
    runtime = site.runtime
    schedule = runtime.schedule()
    post = load_post(runtime.settings.messages_dir, schedule, DEC_3)
    sender = site.sender()
    with sender.session:
        send_day(sender, schedule, DEC_3, post)


def test_sign_in_opens_the_calendar(page: Page, site: Site) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to advent")).to_be_visible()
    snap(page, "signin")
    signed_in(page, site)
    expect(page).to_have_url(f"{site.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Calendar")
    expect(page.get_by_text("Rehearsal: the built-in simulator.")).to_be_visible()
    snap(page, "calendar")


def test_a_friend_joins_from_the_phone_watches_the_ticks_turn_blue_replies_and_stops(
    page: Page, site: Site
) -> None:
    signed_in(page, site)
    page.get_by_role("link", name="Phone").click()
    expect(page.get_by_role("heading", name="Be a friend's phone")).to_be_visible()
    page.get_by_label("Phone number").fill(FRIEND)
    page.get_by_label("WhatsApp").check()
    page.get_by_label("Text", exact=True).fill("HAPPY")
    page.get_by_role("button", name="Send", exact=True).click()

    expect(page.get_by_role("heading", name=f"Phone {MASKED}")).to_be_visible()
    thread = page.locator("#thread")
    expect(thread.locator(".bubble.mine").first).to_contain_text("HAPPY")
    expect(thread.locator(".bubble.theirs").first).to_contain_text("you're in")

    # She joined at 09:00, after her own 08:00, and late joiners get today's post at once: it
    # follows the confirmation, and the page's script moves its ticks from the clock to one
    # grey, two grey, then two blue, without a reload.
    post = thread.locator(".bubble.kind-post")
    expect(post).to_have_count(1)
    expect(post.locator(".ticks")).to_have_attribute("aria-label", "read")
    expect(post.locator(".ticks")).to_have_class("ticks read")
    expect(page.get_by_text("No post on this phone yet")).to_have_count(0)
    snap(page, "phone")

    page.get_by_label("Text", exact=True).fill("That made my morning")
    page.get_by_label("Text", exact=True).press("Enter")
    expect(thread.locator(".bubble.mine").last).to_contain_text("That made my morning")
    expect(thread.locator(".bubble.theirs").last).to_contain_text("will read this")

    page.get_by_role("button", name="STOP").click()
    expect(thread.locator(".bubble.theirs").last).to_contain_text("you're unsubscribed")

    page.get_by_role("link", name="Other phones").click()
    expect(page.get_by_role("link", name=MASKED)).to_be_visible()
    snap(page, "phone-picker")


def test_sign_out_closes_the_dashboard(page: Page, site: Site) -> None:
    signed_in(page, site)
    page.get_by_role("button", name="Sign out sam").click()
    expect(page.get_by_text("Signed out.")).to_be_visible()
    page.goto("/phone")
    expect(page.get_by_role("heading", name="Sign in to advent")).to_be_visible()


def join_and_reply(page: Page, site: Site, reply: str) -> None:
    """A friend joins on WhatsApp from the phone page, gets today's post read, and replies."""
    page.goto("/phone")
    page.get_by_label("Phone number").fill(FRIEND)
    page.get_by_label("WhatsApp").check()
    page.get_by_label("Text", exact=True).fill("HAPPY")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#thread .bubble.theirs").first).to_contain_text("you're in")
    send_today(site)
    expect(page.locator("#thread .bubble.kind-post .ticks")).to_have_class("ticks read")
    page.get_by_label("Text", exact=True).fill(reply)
    page.get_by_label("Text", exact=True).press("Enter")
    expect(page.locator("#thread .bubble.theirs").last).to_contain_text("will read this")


def test_the_organiser_sees_who_got_today_and_reads_a_reply(page: Page, site: Site) -> None:
    signed_in(page, site)
    join_and_reply(page, site, "Thank you, I needed that")

    # One glance at the calendar answers "did today's message reach everyone?"
    page.get_by_role("link", name="Calendar").click()
    expect(page.get_by_text("Today's post reached everyone")).to_be_visible()
    expect(page.get_by_role("link", name="1 unread reply")).to_be_visible()
    snap(page, "calendar-after-send")

    # The day: the friend's line with two blue ticks, the times and their reply.
    page.get_by_role("link", name="Open day 3").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Day 3")
    row = page.locator("table.friends tbody tr").filter(has_text=MASKED)
    expect(row).to_contain_text("read")
    expect(row).to_contain_text("Thank you, I needed that")
    snap(page, "day")

    # Replies: the text, who sent it (masked) and the day it answers; marked read.
    page.get_by_role("link", name="Replies").click()
    reply = page.locator("article, li").filter(has_text="Thank you, I needed that").first
    expect(reply).to_contain_text(MASKED)
    expect(reply).to_contain_text("Day 3")
    snap(page, "replies")
    page.get_by_role("button", name="Mark read").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("0 unread")

    # People: the friend is on the list, joined by keyword.
    page.get_by_role("link", name="People").click()
    expect(page.get_by_text(MASKED).first).to_be_visible()
    snap(page, "people")


def test_a_distressed_reply_is_answered_with_the_support_line_and_pinned_for_the_organiser(
    page: Page, site: Site
) -> None:
    signed_in(page, site)
    page.goto("/phone")
    page.get_by_label("Phone number").fill(FRIEND)
    page.get_by_label("WhatsApp").check()
    page.get_by_label("Text", exact=True).fill("HAPPY")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#thread .bubble.theirs").first).to_contain_text("you're in")

    # The friend writes something that may signal distress: the kind answer and the support
    # line come back at once, not the generic thanks.
    page.get_by_label("Text", exact=True).fill("Honestly I can't cope anymore")
    page.get_by_label("Text", exact=True).press("Enter")
    answer = page.locator("#thread .bubble.theirs").last
    expect(answer).to_contain_text("Samaritans, 116 123")
    expect(answer).to_contain_text("has been told")

    # The calendar says so first; the Replies page pins it until the organiser marks it handled.
    page.get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("link", name="1 reply may need you")).to_be_visible()
    page.get_by_role("link", name="Replies").click()
    pinned = page.get_by_role("region", name="May need you")
    expect(pinned).to_contain_text("Honestly I can't cope anymore")
    expect(pinned).to_contain_text(MASKED)
    expect(pinned.get_by_role("alert")).to_contain_text("1 reply may signal distress")
    snap(page, "replies-pinned")
    pinned.get_by_role("button", name="Mark handled").click()
    expect(page.get_by_text("Marked handled; its alert is resolved.")).to_be_visible()
    expect(page.get_by_role("region", name="May need you")).to_have_count(0)


def test_stats_show_the_day_and_the_csv_opens_in_a_spreadsheet(page: Page, site: Site) -> None:
    signed_in(page, site)
    join_and_reply(page, site, "=SUM(1+1) is how I count my blessings")

    page.get_by_role("link", name="Stats").click()
    expect(
        page.get_by_role("heading", name="Each day's post: planned, sent, delivered, read")
    ).to_be_visible()
    expect(page.locator("svg").first).to_be_visible()
    snap(page, "stats")

    with page.expect_download() as download:
        page.get_by_role("link", name="Every reply").click()
    saved = download.value.path()
    raw = Path(saved).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM a spreadsheet needs to read UTF-8 right
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    [reply] = rows
    # The friend's words arrive as text, not as a formula the spreadsheet would run.
    assert any(value == "'=SUM(1+1) is how I count my blessings" for value in reply.values())
    assert FRIEND not in raw.decode("utf-8-sig")  # numbers masked

    page.get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    snap(page, "alerts")


def test_every_page_works_under_the_content_security_policy(page: Page, site: Site) -> None:
    """Chromium enforces the policy and says so in the console; no page may need an exception."""
    page.goto("/login")
    # First, that a refusal would be seen: an inline script is refused, and reported.
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        with pytest.raises(PlaywrightError, match="Content Security Policy"):
            page.add_script_tag(content="document.title = 'ran'")
    expect(page).not_to_have_title("ran")
    assert any("inline script" in text for text in site.csp_violations), site.csp_violations
    site.csp_violations.clear()

    signed_in(page, site)
    join_and_reply(page, site, "Lovely, thank you")  # the phone page's script runs and polls
    for path in ["/", f"/days/advent-2026/{DEC_3.isoformat()}", "/replies", "/people", "/alerts", "/stats"]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
    expect(page.locator("svg").first).to_be_visible()  # the Stats page's chart, styled inline
    page.get_by_role("link", name="People").click()
    page.locator("table a[href^='/people/']").first.click()  # the friend's own page
    expect(page.get_by_text(MASKED).first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert site.csp_violations == []
