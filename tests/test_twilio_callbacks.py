"""What a failure reported later, in a signed status callback, does beyond the one message."""

from __future__ import annotations

from pathlib import Path

import responses
from sqlmodel import select

from advent import create_app
from advent.sending.sweep import sweep
from advent.store.tables import ConsentEvent, Delivery, OrganiserAlert, Subscriber
from tests.conftest import Clock
from tests.test_twilio_provider import (
    TEMPLATE,
    accepted,
    add_friend,
    send_today,
    sent_forms,
)
from tests.twilio_double import TwilioSetup, twilio_setup
from tests.webhook_helpers import signed_post


def _fail(tw: TwilioSetup, delivery: Delivery, sid: str, code: str) -> Delivery:
    client = create_app(runtime=tw.runtime).test_client()
    form = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": code}
    assert signed_post(client, f"/twilio/status?delivery={delivery.id}", form).status_code == 200
    tw.sender.session.expire_all()
    found = tw.sender.session.get(Delivery, delivery.id)
    tw.sender.session.commit()
    return found


def test_opted_out_at_the_carrier_stops_the_friend_with_a_consent_record(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    add_friend(tw)
    accepted(twilio_api, sid="SMout")
    _fail(tw, send_today(tw), "SMout", "21610")
    with tw.runtime.session() as session:
        friend = session.exec(select(Subscriber)).one()
        consent = session.exec(select(ConsentEvent).where(ConsentEvent.kind == "opt_out")).one()
    assert friend.status == "stopped" and consent.method == "provider_error"


def test_filtered_content_tells_the_organiser(tw: TwilioSetup, twilio_api: responses.RequestsMock) -> None:
    add_friend(tw)
    accepted(twilio_api, sid="SMspam")
    delivery = _fail(tw, send_today(tw), "SMspam", "30007")
    assert delivery.status == "undelivered"
    with tw.runtime.session() as session:
        alert = session.exec(select(OrganiserAlert)).one()
    assert alert.kind == "content_alert" and "2026-12-03" in alert.message


def test_whatsapp_refusing_free_form_later_is_sent_once_more_as_the_template(
    project: Path, clock: Clock, twilio_api: responses.RequestsMock
) -> None:
    schedule_file = project / "schedules" / "advent-2026.toml"
    schedule_file.write_text(schedule_file.read_text() + f'whatsapp_template_sid = "{TEMPLATE}"\n')
    setup = twilio_setup(project, clock)
    add_friend(setup, "whatsapp", wrote_hours_ago=2)
    accepted(twilio_api, sid="SMfree")
    accepted(twilio_api, sid="SMtemplate")
    delivery = _fail(setup, send_today(setup), "SMfree", "63016")
    assert (delivery.status, delivery.template_only, delivery.provider_sid) == ("pending", True, None)
    sweep(setup.sender, setup.runtime.schedules, setup.settings.messages_dir)
    setup.sender.session.expire_all()
    delivery = setup.sender.session.get(Delivery, delivery.id)
    setup.sender.session.commit()
    assert (delivery.status, delivery.provider_sid, delivery.used_template) == ("queued", "SMtemplate", True)
    free, template = sent_forms(twilio_api)
    assert "Body" in free and template["ContentSid"] == [TEMPLATE] and "Body" not in template
    # A second refusal is final: no third message.
    again = _fail(setup, delivery, "SMtemplate", "63016")
    assert again.status == "undelivered"
