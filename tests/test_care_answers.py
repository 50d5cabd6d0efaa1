"""A text that may signal distress is answered at once, every time, on every channel, with a kind
message and the support line; the organiser gets an urgent alert saying who, what, what to do."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner
from sqlmodel import select

from advent import create_app
from advent.cli import main
from advent.content.posts import load_post
from advent.sending.days import send_day
from advent.store.tables import InboundMessage, OrganiserAlert, Subscriber
from tests.dashboard_helpers import post_form
from tests.webhook_helpers import reply_text, signed_post, text_from

ANNA, BEN = "+447911123456", "+447700900123"  # the `friends` fixture
CONFIGURED = "Samaritans, 116 123"  # ADVENT_SUPPORT_LINE in the test settings
SHIPPED_LINE = "Samaritans, free, day or night, on 116 123"  # care.toml's, when none is set


def send_today(runtime, sender, schedule) -> None:  # type: ignore[no-untyped-def]
    day = date(2026, 12, 3)
    send_day(sender, schedule, day, load_post(runtime.settings.messages_dir, schedule, day))


def distress_alerts(runtime) -> list[OrganiserAlert]:  # type: ignore[no-untyped-def]
    with runtime.session() as session:
        return list(session.exec(select(OrganiserAlert).where(OrganiserAlert.kind == "distress")).all())


def test_a_distressed_reply_gets_the_care_answer_with_the_configured_support_line(
    client, runtime, sender, schedule, friends
):
    send_today(runtime, sender, schedule)
    answer = reply_text(text_from(client, ANNA, "honestly I can't cope anymore"))
    assert "Sam has been told and will be in touch" in answer
    assert f"To talk to someone now: {CONFIGURED}." in answer
    assert "will read this" not in answer  # not the generic thanks


def test_every_distressed_text_is_answered_while_ordinary_replies_are_thanked_once_a_day(
    client, runtime, sender, schedule, friends
):
    send_today(runtime, sender, schedule)
    thanks = reply_text(text_from(client, ANNA, "Lovely one today"))
    first = reply_text(text_from(client, ANNA, "I want to die"))
    second = reply_text(text_from(client, ANNA, "really, what's the point"))
    ordinary = reply_text(text_from(client, ANNA, "sorry, ignore me"))
    assert "will read this" in thanks
    assert CONFIGURED in first and CONFIGURED in second
    assert ordinary == ""  # still only one thanks a day
    assert len(distress_alerts(runtime)) == 2  # one for each text


def test_the_alert_names_the_friend_masked_quotes_them_and_says_what_to_do(
    client, runtime, sender, schedule, friends
):
    send_today(runtime, sender, schedule)
    text_from(client, ANNA, "I keep thinking about ending it, call me on 07911 123456")
    [found] = distress_alerts(runtime)
    head = found.message[:300]  # what a text to the organiser's phone would show
    assert "+44•••••••456 may need you" in head
    assert "I keep thinking about ending it" in head
    assert (
        "Reply to them personally; if you believe they are in danger now, call the emergency services."
        in head
    )
    assert ANNA not in found.message and "07911 123456" not in found.message
    with runtime.session() as session:
        stored = session.exec(select(InboundMessage).where(InboundMessage.needs_care)).one()
    assert found.subject == str(stored.id) and found.campaign == "advent-2026"


def test_the_alert_uses_the_friends_name_when_the_organiser_gave_one(client, runtime, friends):
    with runtime.session() as session:
        anna = session.exec(select(Subscriber).where(Subscriber.phone == ANNA)).one()
        anna.name = "Anna"
        session.add(anna)
        session.commit()
    text_from(client, ANNA, "kms")
    assert distress_alerts(runtime)[0].message.startswith("Anna (+44•••••••456) may need you")


@pytest.mark.parametrize("text", ["I'm dying to see tomorrow's one", "this killed me 😂", "dead tired"])
def test_a_near_miss_is_thanked_and_raises_nothing(client, runtime, friends, text):
    assert "will read this" in reply_text(text_from(client, ANNA, text))
    assert distress_alerts(runtime) == []


def test_on_whatsapp_the_care_answer_comes_too(client, runtime):
    text_from(client, BEN, "HAPPY", whatsapp=True)
    answer = reply_text(text_from(client, BEN, "I don't want to be here anymore", whatsapp=True))
    assert CONFIGURED in answer and "has been told" in answer


def test_a_stranger_who_writes_in_distress_is_answered_with_care_not_the_help_text(client, runtime):
    answer = reply_text(text_from(client, "+447911654321", "please help, I want to end my life"))
    assert CONFIGURED in answer and "has been told" in answer
    assert len(distress_alerts(runtime)) == 1


def test_stop_with_distress_stops_at_once_and_the_confirmation_carries_the_care_answer(
    client, runtime, friends
):
    answer = reply_text(text_from(client, ANNA, "STOP I can't go on"))
    assert "you're unsubscribed" in answer and CONFIGURED in answer
    with runtime.session() as session:
        assert session.exec(select(Subscriber).where(Subscriber.phone == ANNA)).one().status == "stopped"
    [found] = distress_alerts(runtime)
    assert "They also said STOP, so the service can no longer text them." in found.message


def test_help_with_distress_gets_the_care_answer(client, friends):
    answer = reply_text(text_from(client, ANNA, "HELP kms"))
    assert CONFIGURED in answer and "has been told" in answer


def test_on_a_twilio_sms_number_a_signed_text_gets_the_shipped_free_line_when_none_is_set(tw, clock):
    app = create_app(runtime=tw.runtime)
    tw.runtime.clock = clock
    form = {"From": ANNA, "To": "+15005550006", "Body": "HAPPY", "MessageSid": "SM1"}
    signed_post(app.test_client(), "/twilio/inbound", form)
    answer = signed_post(
        app.test_client(), "/twilio/inbound", {**form, "Body": "I feel so hopeless", "MessageSid": "SM2"}
    )
    assert answer.status_code == 200
    assert f"To talk to someone now: {SHIPPED_LINE}." in reply_text(answer)
    assert len(distress_alerts(tw.runtime)) == 1


def test_on_a_twilio_sms_number_stop_in_distress_is_alerted_though_twilio_answers_the_stop(tw, clock):
    app = create_app(runtime=tw.runtime)
    tw.runtime.clock = clock
    form = {"From": ANNA, "To": "+15005550006", "Body": "HAPPY", "MessageSid": "SM1"}
    signed_post(app.test_client(), "/twilio/inbound", form)
    stop = {**form, "Body": "STOP I want to die", "MessageSid": "SM2", "OptOutType": "STOP"}
    assert reply_text(signed_post(app.test_client(), "/twilio/inbound", stop)) == ""
    [found] = distress_alerts(tw.runtime)
    assert "can no longer text them" in found.message


def test_advent_phone_shows_the_care_answer(runtime):
    runner = CliRunner()
    runner.invoke(main, ["phone", ANNA, "HAPPY"], obj=runtime, catch_exceptions=False)
    shown = runner.invoke(main, ["phone", ANNA, "i", "cant", "cope"], obj=runtime, catch_exceptions=False)
    assert CONFIGURED in shown.output and "has been told" in shown.output


def test_the_dashboard_phone_shows_the_care_answer(organiser, runtime):
    number = "+447700900321"
    post_form(organiser, "/phone", f"/phone/{number}", {"channel": "whatsapp", "text": "HAPPY"})
    post_form(organiser, "/phone", f"/phone/{number}", {"channel": "whatsapp", "text": "I'm not safe"})
    thread = organiser.get(f"/phone/{number}/messages.json").get_json()["messages"]
    assert CONFIGURED in thread[-1]["body"]


def test_a_care_file_broken_after_start_up_still_answers_with_the_built_in_list_and_tells_the_organiser(
    client, runtime, project, friends
):
    (project / "messages" / "advent-2026" / "care.toml").write_text("phrases = [", encoding="utf-8")
    answer = reply_text(text_from(client, ANNA, "I want to kill myself"))
    assert CONFIGURED in answer
    with runtime.session() as session:
        kinds = {a.kind for a in session.exec(select(OrganiserAlert)).all()}
    assert kinds == {"distress", "reply_text"}


def test_while_the_database_is_busy_the_care_answer_goes_at_once_and_the_replay_pins_and_alerts(
    runtime, friends
):
    from advent.held_webhooks import held_answer, replay_waiting
    from advent.people.conversations import reply_settings
    from advent.providers.base import Inbound

    form = {"From": ANNA, "To": "+15005550006", "Body": "I want to end it all", "MessageSid": "SMheld"}
    inbound = Inbound(sender=ANNA, body=form["Body"], message_sid="SMheld")
    answered = held_answer(
        inbound, runtime.provider, runtime.schedules, reply_settings(runtime.settings), runtime.clock()
    )
    assert answered is not None and CONFIGURED in answered
    runtime.journal().keep("inbound", form, runtime.clock().isoformat(), answered=answered)
    assert replay_waiting(runtime).stored == 1
    with runtime.session() as session:
        stored = session.exec(select(InboundMessage).where(InboundMessage.provider_sid == "SMheld")).one()
    assert stored.needs_care and stored.reply_text == answered
    assert len(distress_alerts(runtime)) == 1
