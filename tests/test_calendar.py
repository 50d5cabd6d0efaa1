"""The calendar, as the organiser opens it: a door per day with its counts after a real send on
the simulator, today's door following the send, future doors showing the post as it will
arrive, and a banner that says loudly when today is late, missing or partly failed."""

from __future__ import annotations

import html as htmllib
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlmodel import select

from advent import create_app
from advent.cli import main
from advent.content.posts import load_post
from advent.organiser.today import whatsapp_left_out
from advent.receipts import collect_receipts
from advent.sending.days import record_failed, record_missed, send_day
from advent.store.tables import OrganiserAlert, Subscriber, WhatsAppTemplate
from tests.dashboard_helpers import make_organiser, sign_in
from tests.helpers import add_people, approved_whatsapp_template
from tests.test_alerts import network
from tests.twilio_double import twilio_setup

DEC_1, DEC_2, DEC_3 = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)
JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def text_of(fragment: str) -> str:
    """What a reader sees: the tags gone, the spaces collapsed."""
    words = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())
    return re.sub(r" ([.,;:)])", r"\1", words)


def door(page: str, number: int) -> str:
    found = re.search(rf'<li id="door-advent-2026-{number}"(.*?)</li>\s*(?=<li id="door-|</ol>)', page, re.S)
    assert found, f"no door {number} on the page"
    return text_of(found.group(1).split(">", 1)[1])


def banner(page: str) -> str:
    found = re.search(r'<ul class="banner">(.*?)</ul>', page, re.S)
    assert found, "no banner on the page"
    return text_of(found.group(1))


def send(runtime, sender, clock, day: date, then: float = 60) -> None:
    """Send `day` at its send time, as the clock would, and collect its receipts `then` later."""
    schedule = runtime.schedule()
    clock.now = schedule.send_at(day).astimezone(UTC)
    send_day(sender, schedule, day, load_post(runtime.settings.messages_dir, schedule, day))
    clock.advance(then)
    with runtime.session() as session:
        collect_receipts(session, runtime.provider, clock())


@pytest.fixture
def people(runtime, clock):
    """Three on SMS and two on WhatsApp (only WhatsApp reports reads), who joined days ago:
    their posts go as the approved template."""
    approved_whatsapp_template(runtime, clock)
    with runtime.session() as session:
        add_people(session, runtime.schedule(), 3, JOINED)
        add_people(session, runtime.schedule(), 2, JOINED, channel="whatsapp", start=200000)


def test_past_doors_count_sent_delivered_read_and_failed_after_a_real_send(
    organiser, runtime, sender, clock, people
):
    send(runtime, sender, clock, DEC_1)
    clock.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    page = organiser.get("/").get_data(as_text=True)
    assert door(page, 1) == ("Day 1 · Tue 1 Dec ✓ Sent 5 ✓✓ Delivered 5 ✓✓ Read 2 ! Failed 0 Read rate 100%")
    assert 'href="/days/advent-2026/2026-12-01"' in page
    # Nothing went out on day 2, and nothing recorded it: the door says so.
    assert door(page, 2).endswith("nothing sent")


def test_a_door_counts_failures_and_a_read_rate_over_whatsapp_only(organiser, runtime, sender, clock, people):
    # The first three phones (SMS) are off: their posts come back undelivered.
    network(runtime, clock, throws=[0.0, 0.0, 0.0, 0.9], failure_rate=0.5)
    sender.provider = runtime.provider
    send(runtime, sender, clock, DEC_1)
    clock.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    text = door(organiser.get("/").get_data(as_text=True), 1)
    # Ticks, as a messaging app shows them: an undelivered post shows "!", not a tick.
    assert text == "Day 1 · Tue 1 Dec ✓ Sent 2 ✓✓ Delivered 2 ✓✓ Read 2 ! Failed 3 Read rate 100%"


def test_todays_progress_json_follows_the_send(organiser, runtime, sender, clock, people):
    send(runtime, sender, clock, DEC_3, then=0)
    progress = organiser.get("/days/advent-2026/2026-12-03/progress.json").get_json()
    assert progress["planned"] == 5 and progress["state"] == "sent"
    assert (progress["delivered"], progress["finished"]) == (0, False)  # queued at the network
    assert progress["waiting"] == 5
    clock.advance(60)
    with runtime.session() as session:
        collect_receipts(session, runtime.provider, clock())
    progress = organiser.get("/days/advent-2026/2026-12-03/progress.json").get_json()
    assert (progress["sent"], progress["delivered"], progress["read"]) == (5, 5, 2)
    assert (progress["waiting"], progress["failed"], progress["finished"]) == (0, 0, True)
    assert progress["read_rate"] == 100


def test_todays_door_is_polled_by_the_page_and_counts_without_javascript(
    organiser, runtime, sender, clock, people
):
    send(runtime, sender, clock, DEC_3)
    page = organiser.get("/").get_data(as_text=True)
    assert 'data-progress="/days/advent-2026/2026-12-03/progress.json"' in page
    assert "calendar.js" in page
    assert "5 of 5 handed over" in door(page, 3)


def test_a_future_door_opens_to_the_post_as_it_will_arrive_with_its_cost(organiser, runtime, people):
    page = organiser.get("/").get_data(as_text=True)
    text = door(page, 5)
    post = load_post(runtime.settings.messages_dir, runtime.schedule(), date(2026, 12, 5))
    assert "<details>" in page
    assert text.startswith("Day 5 · Sat 5 Dec A proper thank you")
    assert text.count(" ".join(post.text.split())) == 2  # an SMS bubble and a WhatsApp bubble
    assert "SMS" in text and "WhatsApp" in text
    assert "Encoding GSM-7 (160 characters a segment)" in text
    assert "Segments per SMS 2" in text
    assert "Cost for the list 6 segments (2 × 3 on SMS); 2 on WhatsApp" in text


def test_a_future_door_shows_the_content_checks_warnings(organiser, runtime, people):
    path = runtime.settings.messages_dir / "advent-2026" / "07.md"
    path.write_text("---\nday: 7\n---\n\nSay \u201cthank you\u201d to a neighbour today \U0001f600\n")
    text = door(organiser.get("/").get_data(as_text=True), 7)
    assert "1 warning" in text  # the encoding only: `people` gave the schedule a WhatsApp template
    assert "Encoding UCS-2 (70 characters a segment)" in text
    assert "Content check: sent as UCS-2 (70 characters a segment, not 160) because of:" in text
    assert "Cost for the list 3 segments (1 × 3 on SMS)" in text


def test_a_door_whose_post_cannot_be_sent_says_so(organiser, runtime):
    (runtime.settings.messages_dir / "advent-2026" / "09.md").unlink()
    text = door(organiser.get("/").get_data(as_text=True), 9)
    assert "cannot be sent" in text and "no post: expected" in text


def test_the_banner_says_when_todays_send_is_late_and_why(organiser, runtime, clock, people):
    clock.now = datetime(2026, 12, 3, 8, 30, tzinfo=UTC)  # due at 08:00, no clock running
    text = banner(organiser.get("/").get_data(as_text=True))
    assert "Late: today's post (day 3) was due at 08:00 and has not gone out." in text
    assert "The clock is not running (last heartbeat: never)" in text


def test_the_banner_is_quiet_before_the_send_time(organiser, runtime, clock, people):
    clock.now = datetime(2026, 12, 3, 7, 30, tzinfo=UTC)
    text = banner(organiser.get("/").get_data(as_text=True))
    assert "Today's post (day 3) goes at 08:00." in text
    assert "Late" not in text and "Missing" not in text


def test_the_banner_says_when_todays_post_is_missing(organiser, runtime, clock, people):
    with runtime.session() as session:
        record_missed(session, runtime.schedule(), DEC_3, clock(), "the scheduler was not running")
    text = banner(organiser.get("/").get_data(as_text=True))
    assert (
        "Missing: today's post (day 3) was not sent: the day is missed: the scheduler was not running."
        in text
    )
    assert "1 alert open: advent-2026 2026-12-03: the scheduler was not running See it in Alerts." in text


def test_the_banner_says_when_today_failed(organiser, runtime, clock, people):
    with runtime.session() as session:
        record_failed(session, runtime.schedule(), DEC_3, clock(), "post not sent: no post for day 3")
    text = banner(organiser.get("/").get_data(as_text=True))
    assert "Missing: today's post (day 3) was not sent: the day is failed: post not sent" in text


def test_the_banner_says_when_today_partly_failed_and_why(organiser, runtime, sender, clock, people):
    network(runtime, clock, throws=[0.9, 0.9, 0.0], failure_rate=0.5)
    sender.provider = runtime.provider
    send(runtime, sender, clock, DEC_3)
    text = banner(organiser.get("/").get_data(as_text=True))
    assert (
        "Partly failed: 3 of 5 friends did not get today's post "
        "(3 undelivered: the simulated phone was switched off or out of signal). See who, and retry."
    ) in text
    assert "reached everyone" not in text


def test_the_banner_says_when_today_reached_everyone(organiser, runtime, sender, clock, people):
    send(runtime, sender, clock, DEC_3)
    text = banner(organiser.get("/").get_data(as_text=True))
    assert "Today's post reached everyone: 5 delivered, 2 read. Open day 3." in text
    assert "Rehearsal on the simulator: nothing reaches a real phone." in text


def test_the_home_page_counts_unread_replies_and_links_to_them(organiser, runtime, sender, clock, people):
    send(runtime, sender, clock, DEC_3)
    runner = CliRunner()
    for words in ("Loved this one", "Did it!"):
        runner.invoke(main, ["phone", "+447911100001", words], obj=runtime, catch_exceptions=False)
    page = organiser.get("/").get_data(as_text=True)
    assert '<a href="/replies">2 unread replies</a>' in page


def test_the_dashboard_address_leads_to_the_calendar(organiser):
    answer = organiser.get("/dashboard")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/")


def test_an_open_alert_is_counted_on_the_home_page(organiser, runtime, clock):
    with runtime.session() as session:
        for n in range(2):
            session.add(
                OrganiserAlert(kind="list_full", message=f"the list is full ({n})", created_at=clock())
            )
        session.commit()
    text = banner(organiser.get("/").get_data(as_text=True))
    assert "2 alerts open: the list is full (1) See all in Alerts." in text


def test_healthz_reads_the_same_facts(client, runtime, clock, people):
    clock.now = clock.now - timedelta(hours=2)  # 07:00: not sent yet
    assert client.get("/healthz").get_json()["today"] == [
        {"campaign": "advent-2026", "day": "2026-12-03", "state": "due"}
    ]


# --- WhatsApp friends outside the 24-hour window, with no approved template ----------------------


@pytest.fixture
def live(project, clock):
    """A signed-in organiser on the twilio provider, which enforces WhatsApp's 24-hour window;
    three friends on WhatsApp and one on SMS who joined on 30 November and never wrote since."""
    setup = twilio_setup(project, clock)
    setup.runtime.clock = clock
    with setup.runtime.session() as session:
        add_people(session, setup.runtime.schedule(), 3, JOINED, channel="whatsapp", start=200000)
        add_people(session, setup.runtime.schedule(), 1, JOINED)
    make_organiser(setup.runtime)
    browser = create_app(runtime=setup.runtime).test_client()
    assert sign_in(browser).status_code == 302
    return browser, setup.runtime


def add_template(runtime, approval: str, provider: str = "twilio", purpose: str = "daily", day=None) -> None:
    with runtime.session() as session:
        session.add(
            WhatsAppTemplate(
                provider=provider,
                campaign="advent-2026",
                purpose=purpose,
                day=day,
                sid="HX" + uuid.uuid4().hex,
                friendly_name="advent_2026_daily",
                language="en",
                approval=approval,
                created_at=JOINED,
            )
        )
        session.commit()


LEFT_OUT = (
    "Tomorrow 3 WhatsApp friends will get nothing: no approved template (they have not written in "
    "the 24 hours before day 4's send). Run advent templates create --campaign advent-2026, then "
    "advent templates submit."
)


def test_the_banner_says_tomorrows_whatsapp_friends_outside_the_window_get_nothing(live, clock):
    browser, _ = live
    clock.now = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)  # the evening before day 4
    assert LEFT_OUT in banner(browser.get("/").get_data(as_text=True))


def test_a_friend_who_wrote_within_24_hours_of_the_send_is_not_counted(live, clock):
    browser, runtime = live
    with runtime.session() as session:
        friend = session.exec(select(Subscriber).where(Subscriber.channel == "whatsapp")).first()
        friend.last_inbound_at = datetime(2026, 12, 3, 8, 30, tzinfo=UTC)  # 23½ hours before day 4's send
        session.add(friend)
        session.commit()
    clock.now = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    assert "Tomorrow 2 WhatsApp friends will get nothing" in banner(browser.get("/").get_data(as_text=True))


def test_before_todays_send_the_banner_speaks_of_today(live, clock):
    browser, _ = live
    clock.now = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    assert "Today 3 WhatsApp friends will get nothing" in banner(browser.get("/").get_data(as_text=True))


def test_an_approved_daily_template_quiets_the_banner(live, clock):
    browser, runtime = live
    clock.now = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    add_template(runtime, "pending")
    add_template(runtime, "approved", provider="simulator")  # made on the rehearsal's network
    assert "will get nothing" in banner(browser.get("/").get_data(as_text=True))
    add_template(runtime, "approved")
    assert "will get nothing" not in banner(browser.get("/").get_data(as_text=True))


def test_an_approved_template_for_tomorrows_post_alone_quiets_the_banner(live, clock):
    browser, runtime = live
    clock.now = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    add_template(runtime, "approved", purpose="day", day=date(2026, 12, 5))
    assert "will get nothing" in banner(browser.get("/").get_data(as_text=True))
    add_template(runtime, "approved", purpose="day", day=date(2026, 12, 4))
    assert "will get nothing" not in banner(browser.get("/").get_data(as_text=True))


def test_a_template_named_in_the_schedule_or_the_post_quiets_it_too(live, clock):
    _, runtime = live
    now = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    schedule, messages = runtime.schedule(), runtime.settings.messages_dir
    with runtime.session() as session:
        assert whatsapp_left_out(session, schedule, messages, runtime.provider, now).friends == 3
        named = schedule.model_copy(update={"whatsapp_template_sid": "HX" + "c" * 32})
        assert whatsapp_left_out(session, named, messages, runtime.provider, now) is None
        (messages / "advent-2026" / "04.md").write_text(
            "---\nday: 4\ntemplate_sid: HX" + "d" * 32 + "\n---\n\nThree good things.\n"
        )
        assert whatsapp_left_out(session, schedule, messages, runtime.provider, now) is None


def test_no_banner_after_the_last_day(live, clock):
    browser, _ = live
    clock.now = datetime(2026, 12, 24, 18, 0, tzinfo=UTC)
    assert "will get nothing" not in banner(browser.get("/").get_data(as_text=True))
