"""Every code in the error table leads to its documented action, from Twilio-shaped answers."""

from __future__ import annotations

import socket
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
import responses
from sqlmodel import select

from advent.content.posts import load_post
from advent.people.subscriptions import join
from advent.providers.base import ErrorAction, OutgoingMessage, ProviderError
from advent.providers.twilio.errors import ROWS, TABLE, explain, markdown_table
from advent.sending.days import send_day
from advent.store.tables import ConsentEvent, Delivery, OrganiserAlert, Subscriber
from tests.conftest import ROOT, Clock
from tests.twilio_double import (
    MESSAGES_URL,
    TwilioSetup,
    error_json,
    message_json,
    message_page,
    twilio_setup,
)

DAY = date(2026, 12, 3)
FRIEND = "+447700900123"
HTTP_STATUS = {"20003": 401, "20429": 429, "20500": 500, "20503": 503}
CODED = [row for row in ROWS if row.code.isdigit()]


def add_friend(tw: TwilioSetup, channel: str = "sms") -> Subscriber:
    session, now = tw.sender.session, tw.sender.clock()
    friend = join(
        session, tw.runtime.schedule(), phone=FRIEND, channel=channel, method="keyword", now=now
    ).subscriber
    friend.last_inbound_at = now - timedelta(hours=1)  # inside WhatsApp's window
    session.add(friend)
    session.commit()
    return friend


def send_today(tw: TwilioSetup) -> tuple[Delivery, Subscriber]:
    schedule = tw.runtime.schedule()
    send_day(tw.sender, schedule, DAY, load_post(tw.settings.messages_dir, schedule, DAY))
    session = tw.sender.session
    session.expire_all()
    delivery = session.exec(select(Delivery)).one()
    subscriber = session.get(Subscriber, delivery.subscriber_id)
    session.commit()
    return delivery, subscriber


def posts(mock: responses.RequestsMock) -> int:
    return sum(1 for c in mock.calls if c.request.method == "POST" and c.request.url == MESSAGES_URL)


def alerts(tw: TwilioSetup) -> list[str]:
    return list(tw.sender.session.exec(select(OrganiserAlert.kind)).all())


@pytest.mark.parametrize("row", CODED, ids=[row.code for row in CODED])
def test_each_code_in_the_table_leads_to_its_documented_action(
    row,
    tw: TwilioSetup,
    twilio_api: responses.RequestsMock,  # type: ignore[no-untyped-def]
) -> None:
    add_friend(tw, "whatsapp" if row.code.startswith("63") else "sms")
    status = HTTP_STATUS.get(row.code, 400)
    twilio_api.add(responses.POST, MESSAGES_URL, json=error_json(int(row.code), status), status=status)
    twilio_api.add(responses.POST, MESSAGES_URL, json=message_json("SMok", FRIEND, "x"), status=201)
    twilio_api.add(responses.GET, MESSAGES_URL, json=message_page([]))  # after a 5xx: not sent
    delivery, friend = send_today(tw)
    if row.action is ErrorAction.RETRY:
        assert (delivery.status, delivery.provider_sid, delivery.attempts) == ("queued", "SMok", 2)
        return
    assert posts(twilio_api) == 1
    assert delivery.error_reason.startswith(row.reason)
    expected_status = "needs_template" if row.action is ErrorAction.NEEDS_TEMPLATE else "failed"
    assert (delivery.status, delivery.error_code) == (expected_status, row.code)
    expected_friend = {ErrorAction.OPTED_OUT: "stopped", ErrorAction.INVALID_NUMBER: "invalid"}.get(
        row.action, "active"
    )
    assert friend.status == expected_friend
    if row.action in (ErrorAction.CAMPAIGN_ALERT, ErrorAction.CONTENT_ALERT):
        assert row.action.value in alerts(tw)


def test_opted_out_at_the_carrier_stops_the_friend_with_a_consent_record(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    add_friend(tw)
    twilio_api.add(responses.POST, MESSAGES_URL, json=error_json(21610), status=400)
    delivery, friend = send_today(tw)
    assert friend.status == "stopped"
    events = tw.sender.session.exec(select(ConsentEvent.kind, ConsentEvent.method)).all()
    assert ("opt_out", "provider_error") in events


@pytest.mark.parametrize(
    "answer",
    [
        dict(json={"message": "Too Many Requests", "status": 429}, status=429),
        dict(body="<html>Bad gateway</html>", status=502),
    ],
    ids=["http-429-without-code", "http-502-not-json"],
)
def test_busy_or_broken_twilio_is_retried_then_sent(
    answer: dict, tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    add_friend(tw)
    twilio_api.add(responses.POST, MESSAGES_URL, **answer)
    twilio_api.add(responses.POST, MESSAGES_URL, json=message_json("SMok", FRIEND, "x"), status=201)
    twilio_api.add(responses.GET, MESSAGES_URL, json=message_page([]))
    delivery, _ = send_today(tw)
    assert (delivery.status, delivery.provider_sid, posts(twilio_api)) == ("queued", "SMok", 2)


def test_an_unknown_code_gives_up_and_names_the_code(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    add_friend(tw)
    twilio_api.add(responses.POST, MESSAGES_URL, json=error_json(29999), status=400)
    delivery, friend = send_today(tw)
    assert (delivery.status, delivery.error_code, friend.status) == ("failed", "29999", "active")
    assert "29999" in delivery.error_reason


def test_a_timeout_asks_twilio_before_sending_again_and_finds_the_message(
    tw: TwilioSetup, clock: Clock, twilio_api: responses.RequestsMock
) -> None:
    add_friend(tw)
    twilio_api.add(responses.POST, MESSAGES_URL, body=requests.exceptions.ReadTimeout("slow"))
    post = load_post(tw.settings.messages_dir, tw.runtime.schedule(), DAY)
    twilio_api.add(
        responses.GET,
        MESSAGES_URL,
        json=message_page([message_json("SMtook", FRIEND, post.text, created=clock())]),
    )
    delivery, _ = send_today(tw)
    assert (delivery.status, delivery.provider_sid, posts(twilio_api)) == ("queued", "SMtook", 1)


def test_a_timeout_with_nothing_at_twilio_is_sent_once_more(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    add_friend(tw)
    twilio_api.add(responses.POST, MESSAGES_URL, body=requests.exceptions.ReadTimeout("slow"))
    twilio_api.add(responses.POST, MESSAGES_URL, json=message_json("SMok", FRIEND, "x"), status=201)
    twilio_api.add(responses.GET, MESSAGES_URL, json=message_page([]))
    delivery, _ = send_today(tw)
    assert (delivery.status, delivery.provider_sid, posts(twilio_api)) == ("queued", "SMok", 2)


def test_a_timeout_twilio_cannot_explain_is_left_unknown_not_resent(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    add_friend(tw)
    twilio_api.add(responses.POST, MESSAGES_URL, body=requests.exceptions.ReadTimeout("slow"))
    twilio_api.add(responses.GET, MESSAGES_URL, json=error_json(20500, 500), status=500)
    delivery, _ = send_today(tw)
    assert (delivery.status, posts(twilio_api)) == ("unknown", 1)
    assert "advent reconcile" in delivery.error_reason


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_connection_refused_is_retried_and_known_not_to_be_sent(project: Path, clock: Clock) -> None:
    tw = twilio_setup(project, clock, TWILIO_API_BASE_URL=f"http://127.0.0.1:{closed_port()}")
    message = OutgoingMessage(reference="1", to=FRIEND, channel="sms", body="hi")
    with pytest.raises(ProviderError) as refused:
        tw.provider.send(message)
    assert (refused.value.action, refused.value.maybe_sent) == (ErrorAction.RETRY, False)


def test_status_callback_codes_are_explained_from_the_same_table() -> None:
    assert explain("30007") == (ErrorAction.CONTENT_ALERT, TABLE["30007"].reason)
    assert explain("63016")[0] is ErrorAction.NEEDS_TEMPLATE
    action, reason = explain("12345")
    assert action is ErrorAction.GIVE_UP and "12345" in reason
    assert explain(None)[0] is ErrorAction.GIVE_UP


def test_the_table_in_the_docs_is_the_table_in_the_code() -> None:
    docs = (ROOT / "README.md").read_text(encoding="utf-8")
    table = markdown_table()
    assert table in docs, "README.md: paste the output of markdown_table() again"
    after = docs[docs.index(table) + len(table) :].lstrip("\n")
    assert not after.startswith("|"), "README.md has rows the code's table does not"


def test_a_refusal_in_the_newer_problem_format_is_read_from_the_same_table(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    add_friend(tw)
    twilio_api.add(
        responses.POST,
        MESSAGES_URL,
        status=400,
        json={
            "type": "https://www.twilio.com/docs/errors/21211",
            "title": "Invalid 'To' Phone Number",
            "status": 400,
            "code": 21211,
            "detail": "not a valid phone number",
        },
    )
    delivery, friend = send_today(tw)
    assert (delivery.status, delivery.error_code, friend.status) == ("failed", "21211", "invalid")


def test_twilio_quoting_the_number_never_puts_it_in_a_reason_or_alert(tw, twilio_api):
    twilio_api.add(
        responses.POST,
        MESSAGES_URL,
        status=400,
        json=error_json(21211, message="The 'To' number +447911123456 is not a valid phone number."),
    )
    join(
        tw.sender.session,
        tw.runtime.schedule(),
        phone="+447911123456",
        channel="sms",
        method="keyword",
        now=tw.sender.clock(),
    )
    tw.sender.session.commit()
    send_day(
        tw.sender, tw.runtime.schedule(), DAY, load_post(tw.settings.messages_dir, tw.runtime.schedule(), DAY)
    )
    with tw.runtime.session() as session:
        reasons = [d.error_reason for d in session.exec(select(Delivery)).all()]
        alerts = [a.message for a in session.exec(select(OrganiserAlert)).all()]
    assert reasons and alerts
    assert not any("447911123456" in text for text in reasons + alerts)
    assert any("+44•••••••456" in text for text in reasons)
