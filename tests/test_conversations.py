"""Every text gets an answer in the same breath, and the answer keeps the promise."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from advent.content.posts import load_post
from advent.sending.days import send_day
from advent.sending.sweep import sweep
from advent.store.tables import ConsentEvent, Delivery, InboundMessage, OrganiserAlert, Subscriber
from tests.helpers import add_people
from tests.webhook_helpers import reply_text, text_from

ANNA = "+447911123456"
BEN = "+447911123457"


def _subscriber(runtime, number: str, channel: str = "sms") -> Subscriber | None:
    with runtime.session() as session:
        return session.exec(
            select(Subscriber).where(Subscriber.phone == number, Subscriber.channel == channel)
        ).first()


def test_join_is_confirmed_at_once_with_everything_the_person_needs_to_know(client, runtime):
    response = text_from(client, ANNA, "HAPPY", sid="SM001")
    text = reply_text(response)
    assert response.status_code == 200 and response.content_type.startswith("text/xml")
    # 3 December, after today's post went out: today's comes straight away, 22 in all.
    for part in (
        "Advent of Kindness",
        "Sam",
        "One positive message a day",
        "08:00 your time (Europe/London)",  # their own morning, the zone guessed from +44
        "3 Dec to 24 Dec, 22 in all",
        "Nothing will ever be asked of you",
        "Msg & data rates may apply",
        "Reply HELP for help",
        "STOP to stop",
    ):
        assert part in text, part
    assert _subscriber(runtime, ANNA).status == "active"
    with runtime.session() as session:
        event = session.exec(select(ConsentEvent)).one()
    assert (event.kind, event.method, event.text_received, event.message_sid) == (
        "opt_in",
        "keyword",
        "HAPPY",
        "SM001",
    )
    assert event.confirmation_sent == text


def test_joining_before_the_calendar_starts_promises_all_24(client, clock):
    clock.now = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
    assert "1 Dec to 24 Dec, 24 in all" in reply_text(text_from(client, ANNA, "HAPPY"))


def test_under_tomorrow_policy_a_late_joiner_is_promised_from_tomorrow(client, runtime, schedule):
    runtime.schedules = [schedule.model_copy(update={"late_joiners": "tomorrow"})]
    assert "4 Dec to 24 Dec, 21 in all" in reply_text(text_from(client, ANNA, "HAPPY"))


def test_whatsapp_confirmation_leaves_out_sms_rates(client):
    text = reply_text(text_from(client, ANNA, "join", whatsapp=True))
    assert "STOP" in text and "Msg & data rates" not in text


def test_a_second_join_says_so_kindly_and_changes_nothing(client, runtime):
    text_from(client, ANNA, "HAPPY")
    text = reply_text(text_from(client, ANNA, "happy!"))
    assert "already on the list" in text
    with runtime.session() as session:
        assert len(session.exec(select(ConsentEvent)).all()) == 1


def test_stop_confirms_once_and_cancels_todays_unsent_post(client, runtime, sender, schedule):
    add_people(sender.session, schedule, 1, datetime(2026, 11, 30, tzinfo=UTC), start=123456)
    add_people(sender.session, schedule, 1, datetime(2026, 11, 30, tzinfo=UTC), start=123457)
    day = date(2026, 12, 3)
    from advent.sending.plan import plan_day

    plan_day(sender.session, schedule, day, sender.clock())  # planned, not yet handed over
    text = reply_text(text_from(client, ANNA, "Stop please"))
    assert "unsubscribed" in text and "nothing more" in text and "HAPPY" in text
    assert _subscriber(runtime, ANNA).status == "stopped"
    with runtime.session() as session:
        statuses = {d.address: d.status for d in session.exec(select(Delivery)).all()}
    assert statuses == {ANNA: "cancelled", BEN: "pending"}
    send_day(sender, schedule, day, load_post(runtime.settings.messages_dir, schedule, day))
    assert sender.provider.received_by(ANNA) == []
    again = reply_text(text_from(client, ANNA, "STOP"))
    assert "unsubscribed" in again  # answered again, but not recorded as a second opt-out
    with runtime.session() as session:
        kinds = [e.kind for e in session.exec(select(ConsentEvent)).all()]
    assert kinds == ["opt_in", "opt_in", "opt_out"]


def test_stop_from_someone_never_subscribed_is_answered_and_kept(client, runtime):
    text = reply_text(text_from(client, BEN, "STOP"))
    assert "isn't on our list" in text
    with runtime.session() as session:
        assert session.exec(select(InboundMessage.kind)).all() == ["stop"]


def test_help_says_who_what_stop_days_left_and_where_to_find_support(client):
    text_from(client, ANNA, "HAPPY")
    text = reply_text(text_from(client, ANNA, " HELP "))
    for part in (
        "Advent of Kindness",
        "Sam",
        "sam@example.org",
        "STOP",
        "22 days left",
        "Samaritans, 116 123",
    ):
        assert part in text, part


def test_a_reply_is_filed_against_the_post_and_thanked_once_a_day(client, runtime, sender, schedule, clock):
    add_people(sender.session, schedule, 1, datetime(2026, 11, 30, tzinfo=UTC), start=123456)
    send_day(
        sender,
        schedule,
        date(2026, 12, 3),
        load_post(runtime.settings.messages_dir, schedule, date(2026, 12, 3)),
    )
    first = reply_text(text_from(client, ANNA, "That walk idea was lovely, thank you"))
    second = reply_text(text_from(client, ANNA, "And the tea too"))
    assert "thank you" in first and "will read this" in first
    assert second == ""
    with runtime.session() as session:
        replies = session.exec(select(InboundMessage)).all()
    assert [r.in_reply_to_day for r in replies] == [date(2026, 12, 3)] * 2
    assert replies[1].body == "And the tea too"


def test_joined_stopped_and_came_back_has_the_whole_consent_history(client, runtime):
    text_from(client, ANNA, "HAPPY", sid="SM1")
    text_from(client, ANNA, "STOP", sid="SM2")
    back = reply_text(text_from(client, ANNA, "START", sid="SM3"))
    assert "you're in" in back
    assert _subscriber(runtime, ANNA).status == "active"
    with runtime.session() as session:
        history = session.exec(select(ConsentEvent).order_by(ConsentEvent.id)).all()
    assert [(e.kind, e.method, e.text_received, e.message_sid) for e in history] == [
        ("opt_in", "keyword", "HAPPY", "SM1"),
        ("opt_out", "keyword", "STOP", "SM2"),
        ("opt_in", "keyword", "START", "SM3"),
    ]
    assert all(e.confirmation_sent for e in history)


def test_late_joiner_gets_todays_post_right_after_the_confirmation(
    client, runtime, sender, schedule, simulator
):
    day = date(2026, 12, 3)
    send_day(sender, schedule, day, load_post(runtime.settings.messages_dir, schedule, day))
    text_from(client, ANNA, "HAPPY")  # 09:00, an hour after today's post went out
    sweep(sender, runtime.schedules, runtime.settings.messages_dir)
    received = simulator.received_by(ANNA)
    assert [r["body"] for r in received] == [load_post(runtime.settings.messages_dir, schedule, day).text]


def test_late_joiner_under_tomorrow_policy_waits_for_tomorrow(client, runtime, sender, schedule, simulator):
    runtime.schedules = [schedule.model_copy(update={"late_joiners": "tomorrow"})]
    day = date(2026, 12, 3)
    send_day(sender, runtime.schedules[0], day, load_post(runtime.settings.messages_dir, schedule, day))
    text_from(client, ANNA, "HAPPY")
    sweep(sender, runtime.schedules, runtime.settings.messages_dir)
    assert simulator.received_by(ANNA) == []


def test_a_full_list_says_so_keeps_a_waiting_list_and_tells_the_organiser(client, runtime, schedule):
    runtime.schedules = [schedule.model_copy(update={"list_cap": 1})]
    text_from(client, ANNA, "HAPPY")
    text = reply_text(text_from(client, BEN, "HAPPY"))
    assert "list is full" in text and "waiting list" in text
    assert _subscriber(runtime, BEN).status == "waiting"
    with runtime.session() as session:
        alert = session.exec(select(OrganiserAlert)).one()
    assert "full" in alert.message and BEN not in alert.message  # masked


def test_joining_after_the_last_day_says_the_calendar_has_ended(client, runtime, clock):
    clock.now = datetime(2026, 12, 27, 10, 0, tzinfo=UTC)
    text = reply_text(text_from(client, ANNA, "HAPPY"))
    assert "has finished" in text
    assert _subscriber(runtime, ANNA) is None


def test_joining_after_the_last_post_went_out_under_tomorrow_policy_is_told_it_ended(
    client, runtime, schedule, clock
):
    runtime.schedules = [schedule.model_copy(update={"late_joiners": "tomorrow"})]
    clock.now = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)
    assert "has finished" in reply_text(text_from(client, ANNA, "HAPPY"))
    assert _subscriber(runtime, ANNA) is None


def test_bad_input_is_answered_and_stored_never_a_500(client, runtime):
    cases = [
        {"From": ANNA, "Body": ""},
        {"From": ANNA, "Body": "x" * 2000},
        {"From": ANNA, "Body": "😀🎄 thank you"},
        {"From": ANNA, "Body": "hi\x00there"},
        {"Body": "HAPPY"},
        {},
        {"From": "not-a-number", "Body": "HAPPY"},
        {"From": ANNA, "Body": "HAPPY", "NumMedia": "lots"},
    ]
    for form in cases:
        assert client.post("/twilio/inbound", data=form).status_code == 200, form
    with runtime.session() as session:
        bodies = session.exec(select(InboundMessage.body).order_by(InboundMessage.id)).all()
    assert len(bodies) == len(cases)
    assert bodies[3] == "hithere" and len(bodies[1]) == 2000
    # A join from no usable number is kept, but nobody is put on the list.
    with runtime.session() as session:
        assert [s.phone for s in session.exec(select(Subscriber)).all()] == [ANNA]


def test_a_retried_webhook_gets_the_same_answer_and_is_stored_once(client, runtime):
    first = reply_text(text_from(client, ANNA, "HAPPY", sid="SMretry"))
    again = reply_text(text_from(client, ANNA, "HAPPY", sid="SMretry"))
    assert first == again and "you're in" in first
    with runtime.session() as session:
        assert len(session.exec(select(InboundMessage)).all()) == 1


def test_a_reply_text_broken_after_start_up_still_gets_an_answer_and_an_alert(client, runtime, project):
    replies = project / "messages" / "advent-2026" / "replies.toml"
    replies.write_text(
        replies.read_text().replace(
            "{title} from {organiser}: you're in.", "{title} from {nobody}: you're in."
        )
    )
    text = reply_text(text_from(client, ANNA, "HAPPY"))
    assert "you're in" in text and "STOP to stop" in text
    assert _subscriber(runtime, ANNA).status == "active"
    with runtime.session() as session:
        alert = session.exec(select(OrganiserAlert)).one()
    assert "confirmation" in alert.message and "nobody" in alert.message


def test_a_missing_replies_file_is_warned_about_at_start_up_but_stops_nothing(runtime, settings, project):
    from advent import create_app
    from advent.runtime import build_runtime

    (project / "messages" / "advent-2026" / "replies.toml").unlink()
    started = build_runtime(settings, provider=runtime.provider)
    assert any("replies.toml: missing" in w for w in started.warnings)
    started.clock = runtime.clock
    stop = reply_text(text_from(create_app(runtime=started).test_client(), ANNA, "STOP"))
    assert "this number isn't on our list" in stop  # the plain fallback still answers


def test_strange_form_values_never_cause_a_500(client):
    assert (
        client.post("/twilio/inbound", data={"From": ANNA, "Body": "hi", "NumMedia": "²"}).status_code == 200
    )
    assert (
        client.post(
            "/twilio/status?delivery=" + "9" * 40, data={"MessageSid": "SMx", "MessageStatus": "sent"}
        ).status_code
        == 200
    )


def test_help_after_todays_post_reached_them_counts_only_the_days_still_to_come(
    client, runtime, sender, schedule, friends
):
    day = date(2026, 12, 3)
    send_day(sender, schedule, day, load_post(runtime.settings.messages_dir, schedule, day))
    text = reply_text(text_from(client, friends[0], "HELP"))
    assert "21 days left" in text  # 4 to 24 December: today's has already arrived


def test_help_before_todays_send_counts_today_too(client, clock, friends):
    clock.now = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)  # the post goes at 08:00
    assert "22 days left" in reply_text(text_from(client, friends[0], "HELP"))


def test_help_after_the_last_post_says_so_instead_of_0_days_left(
    client, runtime, sender, schedule, friends, clock
):
    day = date(2026, 12, 24)
    clock.now = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)
    send_day(sender, schedule, day, load_post(runtime.settings.messages_dir, schedule, day))
    text = reply_text(text_from(client, friends[0], "HELP"))
    assert "the last one has gone out" in text and "0 days" not in text
