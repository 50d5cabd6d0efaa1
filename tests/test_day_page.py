"""A day, friend by friend: ticks with the time of each, the reason a post failed and what to do,
their replies; "retry the failed ones", which never reaches anyone who has the post or said
STOP; and a friendly 404 for an address that names no day."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import responses
from click.testing import CliRunner
from sqlmodel import select

from advent import create_app
from advent.cli import main
from advent.content.posts import load_post
from advent.providers.base import StatusReport
from advent.receipts import collect_receipts, record_receipt
from advent.sending.days import send_day
from advent.sending.sweep import sweep
from advent.store.tables import Delivery, Subscriber
from tests.dashboard_helpers import csrf_token, make_organiser, post_form, sign_in
from tests.helpers import add_people, approved_whatsapp_template
from tests.test_alerts import network
from tests.test_calendar import text_of
from tests.twilio_double import MESSAGES_URL, message_json, twilio_setup

DEC_3 = date(2026, 12, 3)
PAGE = "/days/advent-2026/2026-12-03"
JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SMS = ["+447911100000", "+447911100001", "+447911100002"]
WHATSAPP = ["+447911200010", "+447911200011"]  # masked, they end apart from the SMS ones
OFF = "the simulated phone was switched off or out of signal"


def phone(runtime, number: str, words: str) -> None:
    whatsapp = ["--whatsapp"] if number in WHATSAPP else []
    CliRunner().invoke(main, ["phone", number, words, *whatsapp], obj=runtime, catch_exceptions=False)


def rows(page: str) -> dict[str, str]:
    """Each friend's line as read aloud, keyed by the first words (their name or number)."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    lines = [text_of(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]
    return {line.split(" SMS")[0].split(" WhatsApp")[0]: line for line in lines}


@pytest.fixture
def people(runtime, clock):
    # The WhatsApp friends last wrote days ago: their posts go as the approved template.
    approved_whatsapp_template(runtime, clock)
    with runtime.session() as session:
        add_people(session, runtime.schedule(), 3, JOINED)
        add_people(session, runtime.schedule(), 2, JOINED, channel="whatsapp", start=200010)
        ada = session.exec(select(Subscriber).where(Subscriber.phone == WHATSAPP[0])).one()
        ada.name = "Ada"
        session.add(ada)
        session.commit()


def send_dec_3(runtime, sender, clock) -> None:
    """Day 3 at 08:00; receipts collected as they fall due, two seconds apart."""
    schedule = runtime.schedule()
    sender.provider = runtime.provider
    clock.now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    send_day(sender, schedule, DEC_3, load_post(runtime.settings.messages_dir, schedule, DEC_3))
    for _ in range(3):
        clock.advance(2)
        with runtime.session() as session:
            collect_receipts(session, runtime.provider, clock())


def test_each_friend_has_ticks_with_the_time_of_each_and_their_reply(
    organiser, runtime, sender, clock, people
):
    send_dec_3(runtime, sender, clock)
    clock.advance(60)
    phone(runtime, WHATSAPP[0], "Thanked the bus driver, she beamed")
    page = organiser.get(PAGE).get_data(as_text=True)
    assert "<h1>Day 3 · Thursday 3 December 2026</h1>" in page
    lines = rows(page)
    assert lines["Ada +44•••••••010"] == (
        "Ada +44•••••••010 WhatsApp template ✓✓ read 08:00:00 08:00:02 08:00:04 08:00:06 "
        "08:01:06 Thanked the bus driver, she beamed"
    )
    assert lines["+44•••••••000"] == "+44•••••••000 SMS ✓✓ delivered 08:00:00 08:00:02 08:00:04"
    assert WHATSAPP[0] not in page  # numbers are masked
    assert 'class="ticks read"' in page and 'class="ticks delivered"' in page


def test_a_failed_post_shows_its_code_reason_and_what_to_do(organiser, runtime, sender, clock, people):
    network(runtime, clock, throws=[0.9, 0.9, 0.0, 0.9], failure_rate=0.5)
    send_dec_3(runtime, sender, clock)
    line = rows(organiser.get(PAGE).get_data(as_text=True))["+44•••••••002"]
    assert line == (
        f"+44•••••••002 SMS ! not delivered 08:00:00 08:00:02 at 08:00:04 SIM-30003 {OFF} "
        "What to do: Their phone could not be reached (off, out of signal, or full). Retry later; "
        "if it keeps failing, check the number with your friend."
    )


def test_a_photo_with_no_words_shows_as_photo(organiser, runtime, sender, clock, people):
    from advent.people.conversations import handle_inbound
    from advent.providers.base import Inbound

    send_dec_3(runtime, sender, clock)
    with runtime.session() as session:
        inbound = Inbound(sender=SMS[1], body="", to="+15005550006", message_sid="MMphoto", num_media=1)
        handle_inbound(
            session,
            inbound,
            clock(),
            schedules=runtime.schedules,
            provider=runtime.provider,
            settings=runtime.settings,
        )
    line = rows(organiser.get(PAGE).get_data(as_text=True))["+44•••••••001"]
    assert line.endswith("[photo or other attachment]")  # only the count is stored, not the type


def test_retry_reaches_only_the_friends_who_never_got_the_post(organiser, runtime, sender, clock, people):
    # The three SMS phones are off: their posts come back undelivered; WhatsApp gets through.
    network(runtime, clock, throws=[0.0, 0.0, 0.0, 0.9], failure_rate=0.5)
    send_dec_3(runtime, sender, clock)
    phone(runtime, SMS[0], "STOP")  # one of them said STOP since
    with runtime.session() as session:  # and the network later found another did arrive
        late = session.exec(select(Delivery).where(Delivery.address == SMS[1])).one()
        record_receipt(
            session,
            StatusReport(sid=late.provider_sid, status="delivered"),
            source="simulator",
            explain=runtime.provider.explain,
            now=clock(),
        )
        session.commit()
    page = organiser.get(PAGE).get_data(as_text=True)
    assert "Retry the failed ones (1)" in page
    answer = post_form(organiser, PAGE, f"{PAGE}/retry")
    assert answer.status_code == 302
    page = organiser.get(PAGE).get_data(as_text=True)
    assert "1 handed back; the clock sends them within a minute." in page
    assert "Retry the failed ones" not in page

    # The clock's sweep sends them, on a network that works again.
    network(runtime, clock, throws=[0.9])
    sender.provider = runtime.provider
    sweep(sender, runtime.schedules, runtime.settings.messages_dir)
    received = {
        number: sum(m["kind"] == "post" for m in runtime.provider.received_by(number))
        for number in SMS + WHATSAPP
    }
    # Only the friend still on the list who never got it has it twice now.
    assert received == {SMS[0]: 1, SMS[1]: 1, SMS[2]: 2, WHATSAPP[0]: 1, WHATSAPP[1]: 1}
    clock.advance(10)
    with runtime.session() as session:
        collect_receipts(session, runtime.provider, clock())
    lines = rows(organiser.get(PAGE).get_data(as_text=True))
    assert lines["+44•••••••002"].startswith("+44•••••••002 SMS ✓✓ delivered")
    assert "not sent" not in lines["+44•••••••000"]  # the stopped friend's row is left as it was
    assert lines["+44•••••••000"].startswith("+44•••••••000 SMS ! not delivered")


def test_a_retry_never_touches_a_delivered_friend(organiser, runtime, sender, clock, people):
    send_dec_3(runtime, sender, clock)
    page = organiser.get(PAGE).get_data(as_text=True)
    assert "Retry the failed ones" not in page
    post_form(organiser, PAGE, f"{PAGE}/retry")
    assert "Nothing to retry" in organiser.get(PAGE).get_data(as_text=True)
    with runtime.session() as session:
        assert {d.status for d in session.exec(select(Delivery)).all()} == {"delivered", "read"}


def test_retrying_an_earlier_day_says_how_to_send_it(organiser, runtime, sender, clock, people):
    network(runtime, clock, throws=[0.0, 0.9], failure_rate=0.5)
    send_dec_3(runtime, sender, clock)
    clock.now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    post_form(organiser, PAGE, f"{PAGE}/retry")
    page = text_of(organiser.get(PAGE).get_data(as_text=True))
    assert "1 handed back. The clock only sends today's post: send these now with" in page
    assert "advent send --date 2026-12-03" in page


def test_the_retry_form_needs_its_csrf_token(organiser, runtime, sender, clock, people):
    network(runtime, clock, throws=[0.0, 0.9], failure_rate=0.5)
    send_dec_3(runtime, sender, clock)
    assert csrf_token(organiser.get(PAGE).get_data(as_text=True))
    assert organiser.post(f"{PAGE}/retry").status_code == 400
    with runtime.session() as session:
        assert session.exec(select(Delivery).where(Delivery.status == "pending")).all() == []


def test_invites_are_not_posts_and_stay_off_the_day(organiser, runtime, sender, clock, people):
    send_dec_3(runtime, sender, clock)
    CliRunner().invoke(
        main,
        ["subscribers", "invite", "+447911123456", "--name", "Grace"],
        obj=runtime,
        catch_exceptions=False,
    )
    with runtime.session() as session:
        assert session.exec(select(Delivery).where(Delivery.kind == "invite")).all()
    page = organiser.get(PAGE).get_data(as_text=True)
    assert "Grace" not in page and len(rows(page)) == 5


def test_a_day_not_sent_yet_shows_its_post(organiser, people):
    page = organiser.get("/days/advent-2026/2026-12-05").get_data(as_text=True)
    assert "Not sent yet: due at 08:00 (Europe/London)." in page
    assert "The post, as it will arrive" in page and "Cost for the list" in page


@pytest.mark.parametrize(
    "path, says",
    [
        ("/days/christmas/2026-12-03", "There is no campaign called “christmas” (campaigns: advent-2026)."),
        ("/days/advent-2026/2026-13-01", "“2026-13-01” is not a date; days look like 2026-12-01."),
        ("/days/advent-2026/20261203", "“20261203” is not a date"),
        ("/days/advent-2026/tomorrow", "“tomorrow” is not a date"),
        (
            "/days/advent-2026/2026-11-30",
            "30 November 2026 is not a day of advent-2026, which runs 1 December 2026 to 24 December 2026.",
        ),
    ],
)
def test_an_address_naming_no_day_gets_a_friendly_404(organiser, path, says):
    answer = organiser.get(path)
    assert answer.status_code == 404
    page = answer.get_data(as_text=True)
    assert "<h1>No such day</h1>" in page and says in page
    assert organiser.get(path + "/progress.json").status_code == 404
    assert post_form(organiser, "/", path + "/retry").status_code == 404


# --- WhatsApp: which friends got the approved template, which the post as free-form text --------


def test_each_whatsapp_friend_is_labelled_template_or_free_form_with_a_count(
    project, clock, twilio_api: responses.RequestsMock
):
    schedule_file = project / "schedules" / "advent-2026.toml"
    schedule_file.write_text(schedule_file.read_text() + f'whatsapp_template_sid = "HX{"e" * 32}"\n')
    setup = twilio_setup(project, clock)
    setup.runtime.clock = clock
    clock.now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    with setup.runtime.session() as session:
        add_people(session, setup.runtime.schedule(), 1, JOINED)
        add_people(session, setup.runtime.schedule(), 2, JOINED, channel="whatsapp", start=200010)
        ada = session.exec(select(Subscriber).where(Subscriber.phone == WHATSAPP[0])).one()
        ada.name, ada.last_inbound_at = "Ada", clock.now - timedelta(hours=3)  # wrote last night
        session.add(ada)
        session.commit()
    for n in range(3):
        twilio_api.add(
            responses.POST, MESSAGES_URL, json=message_json(f"SM{n}", "+447911100000", "x"), status=201
        )
    schedule = setup.runtime.schedule()
    send_day(setup.sender, schedule, DEC_3, load_post(setup.settings.messages_dir, schedule, DEC_3))

    make_organiser(setup.runtime)
    browser = create_app(runtime=setup.runtime).test_client()
    assert sign_in(browser).status_code == 302
    page = browser.get(PAGE).get_data(as_text=True)

    lines = rows(page)
    assert "WhatsApp free-form" in lines["Ada +44•••••••010"]
    assert "WhatsApp template" in lines["+44•••••••011"]
    assert "free-form" not in lines["+44•••••••000"] and "template" not in lines["+44•••••••000"]
    summary = (
        "On WhatsApp: 1 got the approved template (outside their 24-hour window), "
        "1 the post as free-form text."
    )
    assert summary in text_of(page)


def test_an_sms_only_day_shows_no_whatsapp_count(organiser, runtime, sender, clock):
    with runtime.session() as session:
        add_people(session, runtime.schedule(), 2, JOINED)
    send_dec_3(runtime, sender, clock)
    page = organiser.get(PAGE).get_data(as_text=True)
    assert "On WhatsApp:" not in page and "free-form" not in page
