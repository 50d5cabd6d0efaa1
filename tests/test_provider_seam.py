"""The provider seam is closed: only `advent/providers/` knows Twilio or the simulator."""

from __future__ import annotations

import re
from pathlib import Path

import responses

from advent import create_app
from advent.providers.base import Inbound
from advent.providers.twilio.provider import TwilioProvider
from advent.store.tables import Delivery
from tests.test_twilio_provider import accepted, add_friend, send_today
from tests.twilio_double import TwilioSetup
from tests.webhook_helpers import signed_post

PACKAGE = Path(__file__).resolve().parent.parent / "advent"
# config.py is left out: it declares each provider's settings (ADVENT_PROVIDER, TWILIO_*),
# as the README lists them per provider.
# Code that would mean a module outside providers/ knows which provider it is talking to.
LEAKS = re.compile(
    r"^\s*(from|import) twilio\b|advent\.providers\.(twilio|simulator)|"
    r"(provider|settings\.provider)(\.name)? *[!=]= *[\"'](twilio|simulator)|"
    r"getattr\([^)]*provider|\b(TwilioProvider|Simulator)\b",
    re.MULTILINE,
)


def test_nothing_outside_providers_names_twilio_or_the_simulator_in_code() -> None:
    leaks = [
        f"{path.relative_to(PACKAGE)}: {match.group(0).strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if "providers" not in path.relative_to(PACKAGE).parts and path.name != "config.py"
        for match in LEAKS.finditer(path.read_text())
    ]
    assert leaks == []


def test_twilio_canceled_arrives_in_our_spelling(tw: TwilioSetup) -> None:
    report = tw.provider.read_status({"MessageSid": "SM1", "MessageStatus": "canceled"}, "7", {})
    assert report is not None and (report.status, report.reference) == ("cancelled", "7")


def test_a_canceled_callback_leaves_the_delivery_cancelled(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    add_friend(tw)
    accepted(twilio_api, sid="SMc")
    delivery = send_today(tw)
    client = create_app(runtime=tw.runtime).test_client()
    form = {"MessageSid": "SMc", "MessageStatus": "canceled"}
    assert signed_post(client, f"/twilio/status?delivery={delivery.id}", form).status_code == 200
    with tw.runtime.session() as session:
        assert session.get(Delivery, delivery.id).status == "cancelled"


def test_twilio_answers_a_lone_opt_out_word_itself_on_sms_only(tw: TwilioSetup) -> None:
    provider: TwilioProvider = tw.provider
    assert provider.answers_itself(Inbound(sender="+447911123456", body=" stop "))
    assert not provider.answers_itself(Inbound(sender="+447911123456", body="Stop please"))
    assert not provider.answers_itself(Inbound(sender="whatsapp:+447911123456", body="STOP"))
    advanced = Inbound(sender="+447911123456", body="Stop please", provider_kind="stop")
    assert provider.answers_itself(advanced)  # Advanced Opt-Out said so itself


def test_the_simulator_never_answers_for_the_service(simulator) -> None:
    assert not simulator.answers_itself(Inbound(sender="+447911123456", body="STOP"))
    assert simulator.phone is not None
