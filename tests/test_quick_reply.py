"""One quick-reply button on each WhatsApp post: set per schedule, never an ask, never a keyword;
a tap is a reply like any other (stored, thanked, on the Replies page) and reopens the friend's
24-hour window so tomorrow's post can go free-form. Taps arrive through the webhook, on the
simulator and signed as Twilio signs them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from advent import create_app
from advent.content.posts import load_post
from advent.content.schedules import ScheduleError, load_schedule
from advent.providers.twilio.provider import TwilioProvider
from advent.runtime import build_runtime
from advent.sending.dispatch import outgoing
from advent.sending.plan import plan_day
from advent.store.database import make_engine
from advent.store.migrate import upgrade
from advent.store.tables import Delivery, InboundMessage, Subscriber
from tests.twilio_double import twilio_settings
from tests.webhook_helpers import PUBLIC, reply_text, signed_post, text_from

BUTTON = "Thanks ❤️"
FRIEND = "+447911123456"
JOINED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # day one, after the send; never replied since


@pytest.fixture(autouse=True)
def button(project: Path) -> Path:
    """The shipped schedule with its commented example switched on."""
    path = project / "schedules" / "advent-2026.toml"
    text = path.read_text(encoding="utf-8")
    assert '# whatsapp_quick_reply = "Thanks ❤️"' in text  # the example the organiser uncomments
    path.write_text(text + f'whatsapp_quick_reply = "{BUTTON}"\n', encoding="utf-8")
    return path


def with_button(button: Path, title: str) -> Path:
    text = button.read_text(encoding="utf-8").replace(f'whatsapp_quick_reply = "{BUTTON}"', "")
    button.write_text(text + f"whatsapp_quick_reply = {title!r}\n".replace("'", '"'), encoding="utf-8")
    return button


# --- the setting --------------------------------------------------------------------------------


def test_the_button_is_set_per_schedule(button: Path) -> None:
    assert load_schedule(button).whatsapp_quick_reply == BUTTON


def test_no_button_unless_the_schedule_asks_for_one(project: Path) -> None:
    assert load_schedule(project / "schedules" / "advent-2026.toml").whatsapp_quick_reply == BUTTON
    shipped = Path(__file__).resolve().parent.parent / "schedules" / "advent-2026.toml"
    assert load_schedule(shipped).whatsapp_quick_reply is None


def test_a_title_over_20_characters_is_refused_with_the_limit(button: Path) -> None:
    with pytest.raises(ScheduleError) as refused:
        load_schedule(with_button(button, "Thank you so much, Sam!"))
    assert "whatsapp_quick_reply: 'Thank you so much, Sam!' is 23 characters" in str(refused.value)
    assert "at most 20 on a button" in str(refused.value)


@pytest.mark.parametrize(
    "title", ["Donate", "Pay £5", "Buy now", "Sign up", "Share with a friend", "Give money"]
)
def test_a_button_that_asks_for_anything_is_refused(button: Path, title: str) -> None:
    with pytest.raises(ScheduleError) as refused:
        load_schedule(with_button(button, title))
    message = str(refused.value)
    assert f"{title!r} asks something of your friends" in message
    assert "nothing will ever be asked of them" in message


@pytest.mark.parametrize(
    ("title", "word"), [("Stop", "STOP"), ("Yes please", "YES"), ("Help", "HELP"), ("Happy!", "HAPPY")]
)
def test_a_button_that_reads_as_a_keyword_is_refused(button: Path, title: str, word: str) -> None:
    with pytest.raises(ScheduleError) as refused:
        load_schedule(with_button(button, title))
    assert f"would be read as the keyword {word} when tapped" in str(refused.value)


@pytest.mark.parametrize("title", ["Thank you!", "🙏", "Loved it ❤️", "Made my day"])
def test_a_button_that_only_answers_is_kept(button: Path, title: str) -> None:
    assert load_schedule(with_button(button, title)).whatsapp_quick_reply == title


# --- a tap --------------------------------------------------------------------------------------


def join_on_whatsapp(client, clock) -> None:
    clock.now = JOINED
    text_from(client, FRIEND, "HAPPY", whatsapp=True, sid="SMjoin")


def tomorrows_post_is_free_form(runtime, schedule, now: datetime) -> bool:
    """Whether the post for the day after `now` may go as free-form text to the friend."""
    day = schedule.local_date(now) + timedelta(days=1)
    with runtime.session() as session:
        plan_day(session, schedule, day, now)
        friend = session.exec(select(Subscriber).where(Subscriber.phone == FRIEND)).one()
        delivery = session.exec(
            select(Delivery).where(Delivery.subscriber_id == friend.id, Delivery.day == day)
        ).one()
        post = load_post(runtime.settings.messages_dir, schedule, day)
        message = outgoing(delivery, friend, post, schedule, schedule.send_at(day))
        session.rollback()
    return message.in_session_window


def test_a_tap_on_the_simulator_is_a_reply_thanked_and_reopening_the_window(
    client, runtime, schedule, clock
) -> None:
    join_on_whatsapp(client, clock)
    clock.now = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)  # two days later: the window has closed
    assert not tomorrows_post_is_free_form(runtime, schedule, clock.now)

    tap = text_from(
        client, FRIEND, BUTTON, whatsapp=True, sid="SMtap", ButtonText=BUTTON, ButtonPayload="thanks"
    )

    assert tap.status_code == 200
    assert "thank you, Sam will read this" in reply_text(tap)  # thanked like any reply
    with runtime.session() as session:
        stored = session.exec(select(InboundMessage).where(InboundMessage.provider_sid == "SMtap")).one()
        friend = session.exec(select(Subscriber).where(Subscriber.phone == FRIEND)).one()
    assert (stored.kind, stored.body, stored.campaign) == ("reply", BUTTON, "advent-2026")
    assert friend.status == "active" and friend.last_inbound_at == clock.now
    assert tomorrows_post_is_free_form(runtime, schedule, clock.now)


def test_a_tap_shows_on_the_replies_page(organiser, runtime, clock) -> None:
    join_on_whatsapp(organiser, clock)
    clock.now = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    text_from(organiser, FRIEND, BUTTON, whatsapp=True, sid="SMtap", ButtonText=BUTTON)
    html = organiser.get("/replies").get_data(as_text=True)
    assert BUTTON in html and "1 reply" in html


@pytest.fixture
def twilio_app(project: Path, clock):
    settings = twilio_settings(project)
    upgrade(make_engine(settings.database_url))
    rt = build_runtime(settings, provider=TwilioProvider.from_settings(settings))
    rt.clock = clock
    return create_app(runtime=rt), rt


def test_a_signed_twilio_tap_with_an_empty_body_is_the_buttons_words(twilio_app, clock) -> None:
    app, rt = twilio_app
    client = app.test_client()
    whatsapp = {"From": f"whatsapp:{FRIEND}", "To": "whatsapp:+14155238886", "NumMedia": "0"}
    clock.now = JOINED
    signed_post(client, "/twilio/inbound", {**whatsapp, "Body": "HAPPY", "MessageSid": "SM1"}, base=PUBLIC)
    clock.now = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)

    form = {**whatsapp, "Body": "", "ButtonText": BUTTON, "ButtonPayload": "thanks", "MessageSid": "SM2"}
    tap = signed_post(client, "/twilio/inbound", form, base=PUBLIC)

    assert tap.status_code == 200 and "thank you, Sam will read this" in reply_text(tap)
    with rt.session() as session:
        stored = session.exec(select(InboundMessage).where(InboundMessage.provider_sid == "SM2")).one()
        friend = session.exec(select(Subscriber)).one()
    assert (stored.kind, stored.body) == ("reply", BUTTON)
    assert friend.status == "active" and friend.last_inbound_at == clock.now
