"""The twilio provider at the HTTP layer: the form fields Twilio receives, the 24-hour window,
lookups and status fetches, and signed status callbacks through the webhook."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import responses
from sqlmodel import select

from advent import create_app
from advent.content.posts import load_post
from advent.people.subscriptions import join
from advent.providers.base import OutgoingMessage
from advent.sending.days import send_day
from advent.store.tables import Delivery, DeliveryEvent, Subscriber
from tests.conftest import Clock
from tests.twilio_double import (
    API,
    MESSAGES_URL,
    SMS_FROM,
    WHATSAPP_FROM,
    TwilioSetup,
    error_json,
    message_json,
    message_page,
    twilio_setup,
)
from tests.webhook_helpers import signed_post

DAY = date(2026, 12, 3)
TEMPLATE = "HX" + "a" * 32
FRIEND = "+447700900123"


def accepted(mock: responses.RequestsMock, sid: str = "SM1", status: str = "queued") -> None:
    mock.add(responses.POST, MESSAGES_URL, json=message_json(sid, FRIEND, "x", status=status), status=201)


def sent_forms(mock: responses.RequestsMock) -> list[dict[str, list[str]]]:
    return [
        parse_qs(call.request.body)
        for call in mock.calls
        if call.request.method == "POST" and call.request.url == MESSAGES_URL
    ]


def outgoing(**changes: object) -> OutgoingMessage:
    fields: dict[str, object] = dict(reference="7", to=FRIEND, channel="sms", body="Hello, day 3.")
    fields.update(changes)
    return OutgoingMessage(**fields)  # type: ignore[arg-type]


def add_friend(tw: TwilioSetup, channel: str = "sms", wrote_hours_ago: float | None = None) -> Subscriber:
    session, now = tw.sender.session, tw.sender.clock()
    schedule = tw.runtime.schedule()
    friend = join(session, schedule, phone=FRIEND, channel=channel, method="keyword", now=now).subscriber
    if wrote_hours_ago is not None:
        friend.last_inbound_at = now - timedelta(hours=wrote_hours_ago)
    session.add(friend)
    session.commit()
    return friend


def send_today(tw: TwilioSetup) -> Delivery:
    schedule = tw.runtime.schedule()
    send_day(tw.sender, schedule, DAY, load_post(tw.settings.messages_dir, schedule, DAY))
    tw.sender.session.expire_all()
    delivery = tw.sender.session.exec(select(Delivery)).one()
    tw.sender.session.commit()  # every SQLite transaction here holds the write lock: end it
    return delivery


def test_sms_carries_to_from_body_media_and_a_status_callback_naming_the_delivery(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    accepted(twilio_api)
    result = tw.provider.send(outgoing(media_url="https://cdn.example.org/star.jpg"))
    assert (result.sid, result.status, result.used_template) == ("SM1", "queued", False)
    assert sent_forms(twilio_api) == [
        {
            "To": [FRIEND],
            "From": [SMS_FROM],
            "Body": ["Hello, day 3."],
            "MediaUrl": ["https://cdn.example.org/star.jpg"],
            "StatusCallback": ["https://advent.example.org/twilio/status?delivery=7"],
        }
    ]


def test_the_http_client_has_a_timeout(tw: TwilioSetup) -> None:
    assert tw.provider.client.http_client.timeout == tw.settings.twilio_timeout_seconds


def test_messaging_service_sends_instead_of_a_from_number(
    project: Path, clock: Clock, twilio_api: responses.RequestsMock
) -> None:
    tw = twilio_setup(project, clock, TWILIO_MESSAGING_SERVICE_SID="MG" + "1" * 32)
    accepted(twilio_api, status="accepted")
    assert tw.provider.send(outgoing()).status == "accepted"
    form = sent_forms(twilio_api)[0]
    assert form["MessagingServiceSid"] == ["MG" + "1" * 32]
    assert "From" not in form


def test_api_key_signs_requests_in_place_of_the_auth_token(
    project: Path, clock: Clock, twilio_api: responses.RequestsMock
) -> None:
    tw = twilio_setup(project, clock, TWILIO_API_KEY="SK" + "2" * 32, TWILIO_API_SECRET="shh")
    accepted(twilio_api)
    tw.provider.send(outgoing())
    header = twilio_api.calls[0].request.headers["Authorization"]
    assert base64.b64decode(header.removeprefix("Basic ")).decode() == "SK" + "2" * 32 + ":shh"


def test_api_base_url_points_every_request_at_a_stand_in(
    project: Path, clock: Clock, twilio_api: responses.RequestsMock
) -> None:
    tw = twilio_setup(project, clock, TWILIO_API_BASE_URL="http://twilio-double.test:8080/")
    stand_in = MESSAGES_URL.replace("https://api.twilio.com", "http://twilio-double.test:8080")
    twilio_api.add(responses.POST, stand_in, json=message_json("SM9", FRIEND, "x"), status=201)
    assert tw.provider.send(outgoing()).sid == "SM9"


def test_whatsapp_inside_the_window_sends_the_free_form_text(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    accepted(twilio_api)
    tw.provider.send(outgoing(channel="whatsapp", template_sid=TEMPLATE, in_session_window=True))
    form = sent_forms(twilio_api)[0]
    assert form["To"] == [f"whatsapp:{FRIEND}"] and form["From"] == [WHATSAPP_FROM]
    assert form["Body"] == ["Hello, day 3."] and "ContentSid" not in form


def test_whatsapp_outside_the_window_sends_only_the_template(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    accepted(twilio_api)
    result = tw.provider.send(
        outgoing(
            channel="whatsapp",
            template_sid=TEMPLATE,
            template_variables={"1": "Day 3"},
            media_url="https://cdn.example.org/star.jpg",
            in_session_window=False,
        )
    )
    assert result.used_template
    form = sent_forms(twilio_api)[0]
    assert form["ContentSid"] == [TEMPLATE]
    assert json.loads(form["ContentVariables"][0]) == {"1": "Day 3"}
    assert "Body" not in form and "MediaUrl" not in form


def test_whatsapp_outside_the_window_without_a_template_is_recorded_not_sent(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    add_friend(tw, "whatsapp", wrote_hours_ago=30)
    delivery = send_today(tw)
    assert delivery.status == "needs_template"
    assert delivery.error_reason == (
        "outside WhatsApp's 24-hour window and no approved template: add template_sid to the "
        "post or whatsapp_template_sid to the schedule"
    )
    assert sent_forms(twilio_api) == []


def test_a_free_form_refused_with_63016_is_sent_again_as_the_template(
    project: Path, clock: Clock, twilio_api: responses.RequestsMock
) -> None:
    schedule_file = project / "schedules" / "advent-2026.toml"
    schedule_file.write_text(schedule_file.read_text() + f'whatsapp_template_sid = "{TEMPLATE}"\n')
    tw = twilio_setup(project, clock)
    add_friend(tw, "whatsapp", wrote_hours_ago=2)
    twilio_api.add(responses.POST, MESSAGES_URL, json=error_json(63016), status=400)
    accepted(twilio_api, sid="SM63016")
    delivery = send_today(tw)
    assert (delivery.status, delivery.provider_sid, delivery.used_template) == ("queued", "SM63016", True)
    first, second = sent_forms(twilio_api)
    assert "Body" in first and "ContentSid" not in first
    assert second["ContentSid"] == [TEMPLATE] and "Body" not in second


def test_lookup_finds_only_this_post_sent_since_the_claim(
    tw: TwilioSetup, clock: Clock, twilio_api: responses.RequestsMock
) -> None:
    now = clock()
    twilio_api.add(
        responses.GET,
        MESSAGES_URL,
        json=message_page(
            [
                message_json("SMold", FRIEND, "Hello, day 3.", created=now - timedelta(days=1)),
                message_json("SMreply", FRIEND, "Hello, day 3.", direction="outbound-reply", created=now),
                message_json("SMother", FRIEND, "Another text", created=now),
                message_json("SMours", FRIEND, "Hello,  day 3!", status="sent", created=now),
                message_json(
                    "SMtrial",
                    FRIEND,
                    "Sent from your Twilio trial account - Hello, day 3.",
                    created=now + timedelta(seconds=1),
                ),
            ]
        ),
    )
    found = tw.provider.lookup(outgoing(), since=now - timedelta(minutes=1))
    assert [(r.sid, r.status) for r in found or []] == [("SMours", "sent"), ("SMtrial", "queued")]
    query = parse_qs(urlsplit(twilio_api.calls[0].request.url).query)
    assert query["To"] == [FRIEND] and query["From"] == [SMS_FROM]


def test_lookup_cannot_tell_when_twilio_cannot_be_asked_or_the_page_is_full(
    tw: TwilioSetup, clock: Clock, twilio_api: responses.RequestsMock
) -> None:
    twilio_api.add(responses.GET, MESSAGES_URL, json=error_json(20500, 500), status=500)
    assert tw.provider.lookup(outgoing(), since=clock()) is None
    twilio_api.replace(
        responses.GET,
        MESSAGES_URL,
        json=message_page(
            message_json(f"SM{n}", FRIEND, "something else", created=clock()) for n in range(100)
        ),
    )
    assert tw.provider.lookup(outgoing(), since=clock()) is None


def test_fetch_status_reads_the_message_and_its_error_code(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    twilio_api.add(
        responses.GET,
        f"{API}/Messages/SM5.json",
        json=message_json("SM5", FRIEND, "x", status="undelivered", error_code=30003),
    )
    report = tw.provider.fetch_status("SM5")
    assert report is not None
    assert (report.status, report.error_code) == ("undelivered", "30003")
    twilio_api.add(responses.GET, f"{API}/Messages/SMgone.json", json=error_json(20404, 404), status=404)
    assert tw.provider.fetch_status("SMgone") is None
    assert tw.provider.collect_receipts(tw.sender.clock()) == []


def test_signed_status_callbacks_move_the_delivery_forward_and_explain_failures(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    add_friend(tw)
    accepted(twilio_api, sid="SMcb")
    delivery = send_today(tw)
    client = create_app(runtime=tw.runtime).test_client()
    path = f"/twilio/status?delivery={delivery.id}"
    delivered = {"MessageSid": "SMcb", "MessageStatus": "delivered", "To": FRIEND}
    assert signed_post(client, path, delivered, token="wrong").status_code == 403
    assert signed_post(client, path, delivered).status_code == 200
    tw.sender.session.expire_all()
    assert tw.sender.session.get(Delivery, delivery.id).status == "delivered"


def test_a_failure_callback_records_the_tables_plain_reason(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    add_friend(tw)
    accepted(twilio_api, sid="SMbad")
    delivery = send_today(tw)
    client = create_app(runtime=tw.runtime).test_client()
    failed = {"MessageSid": "SMbad", "MessageStatus": "undelivered", "ErrorCode": "30005"}
    assert signed_post(client, f"/twilio/status?delivery={delivery.id}", failed).status_code == 200
    tw.sender.session.expire_all()
    delivery = tw.sender.session.get(Delivery, delivery.id)
    assert (delivery.status, delivery.error_code) == ("undelivered", "30005")
    assert delivery.error_reason == "the number is unknown or no longer in use"
    events = tw.sender.session.exec(
        select(DeliveryEvent.status).where(DeliveryEvent.provider_sid == "SMbad")
    ).all()
    assert events == ["queued", "undelivered"]
