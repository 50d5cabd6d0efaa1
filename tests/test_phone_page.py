"""The phone page: text the simulated service as a friend, read the answers, watch the ticks."""

from __future__ import annotations

from datetime import date
from html import unescape

import pytest
from sqlmodel import select

from advent import create_app
from advent.content.posts import load_post
from advent.sending.days import send_day
from advent.store.tables import InboundMessage, Subscriber
from tests.dashboard_helpers import csrf_token, make_organiser, post_form, sign_in
from tests.twilio_double import twilio_setup

NEW = "+447700900321"  # a drama number: made up, fine on the simulator
DEC_3 = date(2026, 12, 3)


def text(organiser, number: str, body: str, channel: str = "whatsapp", *, keyword: bool = False):  # type: ignore[no-untyped-def]
    field = "keyword" if keyword else "text"
    return post_form(organiser, "/phone", f"/phone/{number}", {"channel": channel, field: body})


def page(organiser, path: str) -> str:  # type: ignore[no-untyped-def]
    response = organiser.get(path)
    assert response.status_code == 200, response.status_code
    return unescape(response.get_data(as_text=True))


def ticks_of(organiser, number: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(kind, what the ticks say) for each message, as the page's script reads them."""
    data = organiser.get(f"/phone/{number}/messages.json").get_json()
    return [(m["kind"], m["ticks"]["label"]) for m in data["messages"]]


def test_a_made_up_number_joins_and_sees_the_confirmation(organiser, clock):
    first = post_form(
        organiser, "/phone", "/phone", {"number": "07700 900321", "channel": "whatsapp", "text": "HAPPY"}
    )
    assert first.status_code == 302 and first.headers["Location"].startswith(f"/phone/{NEW}")
    shown = page(organiser, first.headers["Location"])
    assert "+44•••••••321" in shown and NEW not in shown.split("data-source")[0].split("<main")[1]
    assert "HAPPY" in shown
    assert "Advent of Kindness from Sam: you're in." in shown
    assert "WhatsApp" in shown


def test_the_phone_page_suggests_a_drama_number_and_lists_phones_masked_with_names(organiser, runtime, clock):
    text(organiser, NEW, "HAPPY")
    with runtime.session() as session:
        person = session.exec(select(Subscriber).where(Subscriber.phone == NEW)).one()
        person.name = "Robin"
        session.add(person)
        session.commit()
    shown = page(organiser, "/phone")
    assert "+44•••••••321" in shown and "Robin" in shown
    assert NEW not in shown.replace(f"/phone/{NEW}", "")  # only in the link that opens it
    assert 'value="+447700900123"' in shown  # the suggestion: a drama number nobody used yet


def test_a_late_joiner_gets_todays_post_and_its_ticks_reach_blue_on_whatsapp(
    organiser, runtime, sender, schedule, friends, clock
):
    send_day(sender, schedule, DEC_3, load_post(runtime.settings.messages_dir, schedule, DEC_3))
    clock.advance(60)
    text(organiser, NEW, "HAPPY")
    assert ticks_of(organiser, NEW) == [
        ("text", "delivered"),
        ("reply", "delivered"),
        ("post", "queued at the network"),
    ]
    seen = []
    for _ in range(3):
        clock.advance(2)  # the simulator's receipts come 2 s apart
        seen.append(ticks_of(organiser, NEW)[-1][1])
    assert seen == ["sent", "delivered", "read"]
    shown = page(organiser, f"/phone/{NEW}")
    assert 'class="ticks read"' in shown and "post" in shown


def test_on_sms_the_ticks_stop_at_two_grey(organiser, runtime, sender, schedule, friends, clock):
    send_day(sender, schedule, DEC_3, load_post(runtime.settings.messages_dir, schedule, DEC_3))
    text(organiser, NEW, "HAPPY", "sms")
    clock.advance(30)
    assert ticks_of(organiser, NEW)[-1] == ("post", "delivered")


def test_a_reply_is_thanked_and_turns_blue_once_the_organiser_reads_it(organiser, runtime, clock):
    text(organiser, NEW, "HAPPY")
    clock.advance(60)
    text(organiser, NEW, "Lovely start to the day")
    shown = page(organiser, f"/phone/{NEW}")
    assert "Lovely start to the day" in shown and "thank you, Sam will read this" in shown
    # The joined friend's texts: HAPPY, then the reply (today's post came between, at 09:00).
    assert [t for t in ticks_of(organiser, NEW) if t[0] == "text"][1] == ("text", "delivered")
    with runtime.session() as session:
        reply = session.exec(select(InboundMessage).where(InboundMessage.kind == "reply")).one()
        reply.read_at = clock()
        session.add(reply)
        session.commit()
    assert [t for t in ticks_of(organiser, NEW) if t[0] == "text"][1] == ("text", "read")


def test_stop_from_a_quick_button_is_answered_and_stops_the_friend(organiser, runtime, clock):
    text(organiser, NEW, "HAPPY")
    clock.advance(60)
    response = text(organiser, NEW, "STOP", keyword=True)
    assert response.status_code == 302
    shown = page(organiser, response.headers["Location"])
    assert "you're unsubscribed and will get nothing more from us" in shown
    with runtime.session() as session:
        assert session.exec(select(Subscriber.status).where(Subscriber.phone == NEW)).one() == "stopped"


def test_a_second_thanks_on_the_same_day_says_why_nothing_came_back(organiser, clock):
    text(organiser, NEW, "HAPPY")
    clock.advance(60)
    text(organiser, NEW, "one")
    clock.advance(60)
    response = text(organiser, NEW, "two")
    shown = page(organiser, response.headers["Location"])
    assert "No answer: the service already thanked this friend today" in shown


def test_bad_input_gets_a_sentence_never_a_500(organiser):
    bad = post_form(organiser, "/phone", "/phone", {"number": "banana", "channel": "sms", "text": "HAPPY"})
    assert bad.status_code == 302
    assert "That number cannot be used" in page(organiser, bad.headers["Location"])
    assert "That number cannot be used" in page(organiser, "/phone?number=12")
    assert organiser.get("/phone/banana").status_code == 302
    assert organiser.get("/phone/banana/messages.json").status_code == 404
    empty = text(organiser, NEW, "   ")
    assert "Type a text to send first." in page(organiser, empty.headers["Location"])
    odd = text(organiser, NEW, "HAPPY", "pigeon")
    assert "Choose SMS or WhatsApp." in page(organiser, odd.headers["Location"])
    long = text(organiser, NEW, "x" * 1601)
    assert "at most 1600 characters" in page(organiser, long.headers["Location"])


def test_a_number_written_another_way_opens_the_same_phone(organiser):
    response = organiser.get("/phone/07700900321")
    assert response.status_code == 302 and response.headers["Location"] == f"/phone/{NEW}"


def test_texting_needs_the_forms_csrf_token(organiser):
    refused = organiser.post(f"/phone/{NEW}", data={"channel": "sms", "text": "HAPPY"})
    assert refused.status_code == 400


def test_the_page_works_without_javascript_and_loads_its_script(organiser):
    shown = page(organiser, f"/phone/{NEW}")
    assert 'method="post"' in shown and csrf_token(shown)
    assert "phone.js" in shown and f'data-source="/phone/{NEW}/messages.json"' in shown
    assert "Nothing yet" in shown


def test_on_twilio_the_phone_is_a_404_with_a_sentence(project, clock):
    real = twilio_setup(project, clock).runtime
    app = create_app(runtime=real)
    make_organiser(real)
    browser = app.test_client()
    sign_in(browser)
    for path in ("/phone", f"/phone/{NEW}"):
        response = browser.get(path)
        assert response.status_code == 404
        assert "plays a friend's phone on the built-in simulator" in unescape(response.get_data(as_text=True))
    assert browser.get(f"/phone/{NEW}/messages.json").status_code == 404
    assert b"Phone</a>" not in browser.get("/stats").data  # and the nav has no link to it


@pytest.mark.usefixtures("one_moment_for_everyone")  # at a friend's morning the post would come at once
def test_a_phone_without_a_post_says_how_to_see_one_arrive_now(organiser, runtime, sender, schedule, clock):
    text(organiser, NEW, "HAPPY")
    shown = page(organiser, f"/phone/{NEW}")
    assert "No post on this phone yet" in shown and "advent send --date 2026-12-03" in shown
    send_day(sender, schedule, DEC_3, load_post(runtime.settings.messages_dir, schedule, DEC_3))
    assert "No post on this phone yet" not in page(organiser, f"/phone/{NEW}")
