"""TIME: a friend moves their own morning ("TIME Toronto", "TIME 7:30", "TIME 7:30 Toronto") or
asks when it is, on every channel, answered at once; and the texts that say when it comes (the
confirmation, HELP) speak of the friend's own time when the schedule sends at each friend's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlmodel import select

from advent import create_app
from advent.cli import main
from advent.content.schedules import ScheduleError, load_schedules
from advent.people.keywords import classify
from advent.store.tables import ConsentEvent, InboundMessage, Subscriber
from tests.helpers import send_at
from tests.twilio_double import WHATSAPP_FROM, twilio_setup
from tests.webhook_helpers import PUBLIC, reply_text, signed_post, text_from

ANNA = "+447911123456"  # a UK mobile: Europe/London
JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
# 05:00 in London on 3 December, before anyone's morning: the next post is today's.
EARLY = datetime(2026, 12, 3, 5, 0, tzinfo=UTC)


def friend(runtime, phone: str = ANNA) -> Subscriber:
    with runtime.session() as session:
        return session.exec(select(Subscriber).where(Subscriber.phone == phone)).one()


def stored_text(runtime, body: str) -> InboundMessage:
    with runtime.session() as session:
        return session.exec(select(InboundMessage).where(InboundMessage.body == body)).one()


@pytest.fixture
def advent(runtime):
    def run(*args: str) -> str:
        result = CliRunner().invoke(main, list(args), obj=runtime, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    return run


@pytest.fixture
def joined(runtime, client, clock):
    """Anna on the list by SMS, on a schedule that sends at each friend's own time."""
    send_at(runtime, "friend")
    clock.now = JOINED
    text_from(client, ANNA, "HAPPY", sid="SMjoin")
    clock.now = EARLY
    return client


# --- the keyword ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        ("TIME", ()),
        ("time Toronto", ("Toronto",)),
        ("Time new york", ("new", "york")),
        ("TIME 7:30 Toronto", ("7:30", "Toronto")),
        ("TIME Europe/Paris", ("Europe/Paris",)),
        ("TIME 7.30", ("7.30",)),
    ],
)
def test_time_with_up_to_two_words_is_the_time_keyword(text: str, rest: tuple[str, ...]) -> None:
    meaning = classify(text, {"HAPPY"})
    assert (meaning.kind, meaning.rest) == ("time", rest)


def test_a_longer_text_starting_with_time_is_a_reply_to_read() -> None:
    assert classify("Time well spent reading these, thank you", {"HAPPY"}).kind == "reply"


def test_a_schedule_cannot_take_time_as_its_join_word(project) -> None:
    path = project / "schedules" / "advent-2026.toml"
    path.write_text(path.read_text().replace('join_keyword = "HAPPY"', 'join_keyword = "time"'))
    with pytest.raises(ScheduleError, match="'time' already means STOP, HELP, JOIN or TIME"):
        load_schedules(project / "schedules")


# --- changing it, on every channel -----------------------------------------------------------------


@pytest.fixture
def twilio_app(project, clock):
    setup = twilio_setup(project, clock)
    setup.runtime.clock = clock
    send_at(setup.runtime, "friend")
    return create_app(runtime=setup.runtime), setup.runtime


def test_time_by_a_signed_twilio_sms_moves_the_friends_morning(twilio_app, clock) -> None:
    app, rt = twilio_app
    client = app.test_client()
    sms = {"From": ANNA, "To": "+15005550006", "NumMedia": "0"}
    clock.now = JOINED
    signed_post(client, "/twilio/inbound", {**sms, "Body": "HAPPY", "MessageSid": "SM1"}, base=PUBLIC)
    clock.now = EARLY

    answer = signed_post(
        client, "/twilio/inbound", {**sms, "Body": "TIME 7:30 Toronto", "MessageSid": "SM2"}, base=PUBLIC
    )

    assert answer.status_code == 200
    assert reply_text(answer) == (
        "Advent of Kindness: done, your message now comes at 07:30 your time (America/Toronto). "
        "Next one: Thu 3 Dec, 07:30. Reply STOP to stop."
    )
    anna = friend(rt)
    assert (anna.timezone, anna.send_time, anna.morning_set_at) == ("America/Toronto", "07:30", EARLY)
    record = stored_text(rt, "TIME 7:30 Toronto")
    assert (record.kind, record.subscriber_id, record.reply_text) == ("time", anna.id, reply_text(answer))


def test_time_by_a_signed_whatsapp_message_moves_the_friends_morning(twilio_app, clock) -> None:
    app, rt = twilio_app
    client = app.test_client()
    whatsapp = {"From": f"whatsapp:{ANNA}", "To": WHATSAPP_FROM, "NumMedia": "0"}
    clock.now = JOINED
    signed_post(client, "/twilio/inbound", {**whatsapp, "Body": "HAPPY", "MessageSid": "SM1"}, base=PUBLIC)
    clock.now = EARLY

    answer = signed_post(
        client, "/twilio/inbound", {**whatsapp, "Body": "time europe/paris", "MessageSid": "SM2"}, base=PUBLIC
    )

    # 05:00 in London is 06:00 in Paris: today's post comes at 08:00 there.
    assert reply_text(answer) == (
        "Advent of Kindness: done, your message now comes at 08:00 your time (Europe/Paris). "
        "Next one: Thu 3 Dec, 08:00. Reply STOP to stop."
    )
    anna = friend(rt)
    assert (anna.channel, anna.timezone, anna.send_time) == ("whatsapp", "Europe/Paris", None)
    assert stored_text(rt, "time europe/paris").kind == "time"


@pytest.mark.parametrize("channel", [[], ["--whatsapp"]], ids=["sms", "whatsapp"])
def test_time_on_the_simulated_phone_moves_the_friends_morning(runtime, advent, clock, channel) -> None:
    send_at(runtime, "friend")
    clock.now = JOINED
    advent("phone", ANNA, "HAPPY", *channel)
    clock.now = EARLY

    said = advent("phone", ANNA, "TIME", "new", "york", *channel)

    # 05:00 in London is midnight in New York: today's post comes at 08:00 there.
    moved = "done, your message now comes at 08:00 your time (America/New_York)."
    assert f"reply: Advent of Kindness: {moved}" in said
    assert "Next one: Thu 3 Dec, 08:00." in said
    anna = friend(runtime)
    assert (anna.timezone, anna.send_time, anna.morning_set_at) == ("America/New_York", None, EARLY)


def test_time_on_the_dashboards_phone_page_moves_the_friends_morning(organiser, runtime, clock) -> None:
    from html import unescape

    from tests.dashboard_helpers import post_form

    send_at(runtime, "friend")
    drama = "+447700900321"  # made up, fine on the simulator: the schedule's zone, London
    clock.now = JOINED
    post_form(organiser, "/phone", "/phone", {"number": drama, "channel": "whatsapp", "text": "HAPPY"})
    clock.now = EARLY
    post_form(organiser, "/phone", f"/phone/{drama}", {"channel": "whatsapp", "text": "TIME lagos"})
    shown = unescape(organiser.get(f"/phone/{drama}").get_data(as_text=True))
    # 05:00 in London is 06:00 in Lagos: today's post comes at 08:00 there.
    assert (
        "done, your message now comes at 08:00 your time (Africa/Lagos). Next one: Thu 3 Dec, 08:00." in shown
    )
    assert friend(runtime, drama).timezone == "Africa/Lagos"


def test_an_hour_alone_keeps_the_zone(runtime, joined) -> None:
    answer = text_from(joined, ANNA, "TIME 07:30", sid="SMtime")
    assert "done, your message now comes at 07:30 your time (Europe/London). Next one: Thu 3 Dec, 07:30." in (
        reply_text(answer)
    )
    assert (friend(runtime).timezone, friend(runtime).send_time) == ("Europe/London", "07:30")


def test_an_early_hour_in_the_quiet_hours_is_their_morning(runtime, joined) -> None:
    answer = text_from(joined, ANNA, "TIME 6.30", sid="SMtime")
    assert "now comes at 06:30 your time (Europe/London)" in reply_text(answer)
    assert friend(runtime).send_time == "06:30"


def test_time_alone_says_when_it_comes_and_how_to_change_it(runtime, joined) -> None:
    answer = text_from(joined, ANNA, "time", sid="SMtime")
    assert reply_text(answer) == (
        "Advent of Kindness: your message comes at 08:00 your time (Europe/London). Next one: "
        "Thu 3 Dec, 08:00. To change it, reply TIME and your city or hour, e.g. TIME Toronto or TIME 7:30."
    )
    assert friend(runtime).morning_set_at is None
    assert stored_text(runtime, "time").kind == "time"


# --- refused, nothing changed ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("TIME Atlantis", 'we don\'t know the place "Atlantis"'),
        ("TIME 25:00", '"25:00" is not a time of day'),
        ("TIME 7:30 Narnia", 'we don\'t know the place "Narnia"'),
    ],
)
def test_a_place_or_hour_not_understood_is_named_and_nothing_changes(runtime, joined, text, problem) -> None:
    answer = reply_text(text_from(joined, ANNA, text, sid="SMtime"))
    assert answer == (
        f"Advent of Kindness: sorry, {problem}, so nothing has changed. Reply TIME and your city or an "
        "hour, e.g. TIME Toronto or TIME 7:30."
    )
    anna = friend(runtime)
    assert (anna.timezone, anna.send_time, anna.morning_set_at) == ("Europe/London", None, None)


def test_an_evening_hour_in_the_quiet_hours_is_refused_naming_them(runtime, joined) -> None:
    answer = reply_text(text_from(joined, ANNA, "TIME 22:00", sid="SMtime"))
    assert answer == (
        "Advent of Kindness: sorry, 22:00 is in the quiet hours (21:00 to 08:00), when nothing is "
        "sent, so nothing has changed. Reply TIME and an earlier hour, e.g. TIME 7:30."
    )
    assert (friend(runtime).send_time, friend(runtime).morning_set_at) == (None, None)


def test_someone_not_on_the_list_cannot_set_a_time(runtime, client, clock) -> None:
    send_at(runtime, "friend")
    clock.now = EARLY
    answer = reply_text(text_from(client, "+447911654321", "TIME Toronto", sid="SMtime"))
    assert answer == "Advent of Kindness: this number isn't on our list, so nothing will be sent to it."
    with runtime.session() as session:
        assert session.exec(select(Subscriber)).all() == []


def test_a_friend_who_stopped_cannot_set_a_time(runtime, joined) -> None:
    text_from(joined, ANNA, "STOP", sid="SMstop")
    answer = reply_text(text_from(joined, ANNA, "TIME Toronto", sid="SMtime"))
    assert "isn't on our list" in answer
    assert friend(runtime).timezone == "Europe/London"


def test_where_everyone_shares_one_moment_time_says_so_and_changes_nothing(runtime, client, clock) -> None:
    send_at(runtime, "schedule")
    clock.now = JOINED
    text_from(client, ANNA, "HAPPY", sid="SMjoin")
    clock.now = EARLY
    answer = reply_text(text_from(client, ANNA, "TIME 7:30 Toronto", sid="SMtime"))
    assert answer == (
        "Advent of Kindness: everyone gets the message at the same time, 08:00 GMT, so there is "
        "nothing to change. Reply STOP to stop."
    )
    anna = friend(runtime)
    assert (anna.timezone, anna.send_time, anna.morning_set_at) == ("Europe/London", None, None)
    with runtime.session() as session:  # a consent record is for consent, not for the hour
        assert [e.kind for e in session.exec(select(ConsentEvent)).all()] == ["opt_in"]


# --- the texts that say when it comes --------------------------------------------------------------


def test_the_confirmation_says_the_friends_own_time(runtime, client, clock) -> None:
    send_at(runtime, "friend")
    clock.now = JOINED
    anna = reply_text(text_from(client, ANNA, "HAPPY", sid="SM1"))
    toronto = reply_text(text_from(client, "+14165550199", "HAPPY", sid="SM2"))
    assert "a day at 08:00 your time (Europe/London), 1 Dec to 24 Dec, 24 in all." in anna
    assert "One positive message a day at 08:00 your time (America/Toronto), 1 Dec to 24 Dec" in toronto
    with runtime.session() as session:
        sent = {e.confirmation_sent for e in session.exec(select(ConsentEvent)).all()}
    assert sent == {anna, toronto}  # the consent record keeps the words as they went


def test_the_confirmation_says_the_schedules_time_where_everyone_shares_it(runtime, client, clock) -> None:
    send_at(runtime, "schedule")
    clock.now = JOINED
    answer = reply_text(text_from(client, "+14165550199", "HAPPY", sid="SM1"))
    assert "One positive message a day at 08:00 GMT, 1 Dec to 24 Dec" in answer


def test_already_on_the_list_says_the_hour_they_chose(runtime, joined) -> None:
    text_from(joined, ANNA, "TIME 7:30 Toronto", sid="SMtime")
    again = reply_text(text_from(joined, ANNA, "HAPPY", sid="SMagain"))
    assert "Your next message comes at 07:30 your time (America/Toronto)." in again


def test_help_says_how_to_change_the_time(runtime, joined) -> None:
    answer = reply_text(text_from(joined, ANNA, "HELP", sid="SMhelp"))
    assert "Reply TIME and your city to change when it comes" in answer


def test_an_invite_says_the_time_where_their_number_suggests(runtime, advent, clock) -> None:
    send_at(runtime, "friend")
    clock.now = JOINED
    said = advent("subscribers", "invite", "+14165550199")
    assert "one positive message a day at 08:00 your time (America/Toronto), 1 Dec to 24 Dec" in said
    assert friend(runtime, "+14165550199").timezone == "America/Toronto"
