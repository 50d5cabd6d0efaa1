"""With Twilio as the provider, only requests Twilio signed are believed."""

from __future__ import annotations

import pytest
from sqlmodel import select

from advent import create_app
from advent.providers.twilio.provider import TwilioProvider
from advent.runtime import build_runtime
from advent.store.database import make_engine
from advent.store.migrate import upgrade
from advent.store.tables import DeliveryEvent, InboundMessage, Subscriber
from tests.twilio_double import twilio_settings
from tests.webhook_helpers import PUBLIC as BASE
from tests.webhook_helpers import reply_text, signed_post

FORM = {"From": "+447911123456", "To": "+15005550006", "Body": "HAPPY", "MessageSid": "SM1"}


@pytest.fixture
def twilio_app(project, clock):
    """The twilio provider, which checks signatures (no request reaches Twilio's API here)."""
    settings = twilio_settings(project)
    upgrade(make_engine(settings.database_url))
    rt = build_runtime(settings, provider=TwilioProvider.from_settings(settings))
    rt.clock = clock
    app = create_app(runtime=rt)
    return app, rt


def _nothing_written(rt) -> bool:
    with rt.session() as session:
        return not any(
            session.exec(select(model)).first() for model in (InboundMessage, Subscriber, DeliveryEvent)
        )


@pytest.mark.parametrize("path", ["/twilio/inbound", "/twilio/status"])
def test_a_missing_signature_is_refused_and_nothing_is_written(twilio_app, path):
    app, rt = twilio_app
    response = app.test_client().post(path, data={**FORM, "MessageStatus": "delivered"})
    assert response.status_code == 403
    assert _nothing_written(rt)


@pytest.mark.parametrize("path", ["/twilio/inbound", "/twilio/status"])
def test_a_forged_signature_is_refused_and_nothing_is_written(twilio_app, path):
    app, rt = twilio_app
    form = {**FORM, "MessageStatus": "delivered"}
    forged = signed_post(app.test_client(), path, form, base=BASE, token="not-the-real-token")
    assert forged.status_code == 403
    # Signed for another URL (a replay against a different host) is refused too.
    elsewhere = signed_post(app.test_client(), path, form, base="https://evil.example")
    assert elsewhere.status_code == 403
    assert _nothing_written(rt)


def test_a_correctly_signed_text_is_answered(twilio_app):
    app, rt = twilio_app
    response = signed_post(app.test_client(), "/twilio/inbound", FORM, base=BASE)
    assert response.status_code == 200
    assert "you're in" in reply_text(response)


def test_on_twilio_sms_stop_is_recorded_without_a_second_reply(twilio_app):
    app, rt = twilio_app
    client = app.test_client()
    signed_post(client, "/twilio/inbound", FORM, base=BASE)
    stop = signed_post(client, "/twilio/inbound", {**FORM, "Body": "STOP", "MessageSid": "SM2"}, base=BASE)
    assert stop.status_code == 200 and reply_text(stop) == ""
    with rt.session() as session:
        assert session.exec(select(Subscriber.status)).one() == "stopped"


def test_on_whatsapp_stop_is_answered_by_the_service(twilio_app):
    app, rt = twilio_app
    client = app.test_client()
    whatsapp = {**FORM, "From": "whatsapp:+447911123456", "To": "whatsapp:+15005550006"}
    signed_post(client, "/twilio/inbound", whatsapp, base=BASE)
    stop = signed_post(
        client, "/twilio/inbound", {**whatsapp, "Body": "stop", "MessageSid": "SM2"}, base=BASE
    )
    assert "unsubscribed" in reply_text(stop)


def test_on_twilio_sms_texts_twilio_does_not_answer_get_our_answer(twilio_app):
    app, rt = twilio_app
    client = app.test_client()
    signed_post(client, "/twilio/inbound", FORM, base=BASE)
    # Twilio's own handling only matches a lone keyword; these reach us unanswered.
    again = signed_post(client, "/twilio/inbound", {**FORM, "MessageSid": "SM2"}, base=BASE)
    assert "already on the list" in reply_text(again)
    helped = signed_post(
        client, "/twilio/inbound", {**FORM, "Body": "help me please", "MessageSid": "SM3"}, base=BASE
    )
    assert "STOP" in reply_text(helped)
    stop = signed_post(
        client, "/twilio/inbound", {**FORM, "Body": "Stop please", "MessageSid": "SM4"}, base=BASE
    )
    assert "unsubscribed" in reply_text(stop)
    lone = signed_post(client, "/twilio/inbound", {**FORM, "Body": "START", "MessageSid": "SM5"}, base=BASE)
    assert "you're in" in reply_text(lone)  # our confirmation says more than Twilio's


@pytest.mark.parametrize("path", ["/twilio/inbound", "/twilio/status"])
def test_an_oversized_body_is_refused_with_413_and_nothing_is_written(twilio_app, path):
    """Twilio's forms are a few kilobytes; a megabyte-sized post is abuse, refused before parsing."""
    app, rt = twilio_app
    flood = {**FORM, "Body": "x" * (2 * 1024 * 1024)}
    assert signed_post(app.test_client(), path, flood).status_code == 413
    with rt.session() as session:
        assert session.exec(select(InboundMessage)).all() == []
        assert session.exec(select(DeliveryEvent)).all() == []


def test_a_replayed_signed_stop_does_not_stop_a_friend_who_joined_again(twilio_app):
    """Twilio's signature has no timestamp, so a captured request stays valid for ever; what makes
    a replay harmless is that each MessageSid is acted on once."""
    app, rt = twilio_app
    client = app.test_client()
    whatsapp = {**FORM, "From": "whatsapp:+447911123456", "To": "whatsapp:+15005550006"}
    signed_post(client, "/twilio/inbound", whatsapp, base=BASE)
    captured = {**whatsapp, "Body": "STOP", "MessageSid": "SM2"}
    assert "unsubscribed" in reply_text(signed_post(client, "/twilio/inbound", captured, base=BASE))
    rejoined = signed_post(client, "/twilio/inbound", {**whatsapp, "MessageSid": "SM3"}, base=BASE)
    assert "you're in" in reply_text(rejoined)
    for _ in range(3):  # the captured STOP, replayed as it was signed
        assert signed_post(client, "/twilio/inbound", captured, base=BASE).status_code == 200
    with rt.session() as session:
        assert session.exec(select(Subscriber.status)).one() == "active"
        assert len(session.exec(select(InboundMessage)).all()) == 3  # each text kept once
