"""`advent reconcile`: stuck deliveries get Twilio's current status; interrupted sends are
settled by what Twilio already accepted, never by sending again."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner
from sqlalchemy import update
from sqlmodel import select

from advent.cli.checks import reconcile
from advent.content.posts import load_post
from advent.people.subscriptions import join
from advent.providers.base import StatusReport
from advent.receipts import record_receipt
from advent.sending.days import send_day
from advent.sending.plan import plan_day
from advent.sending.reconcile import reconcile_deliveries
from advent.store.tables import Delivery, DeliveryEvent
from tests.conftest import Clock
from tests.twilio_double import (
    API,
    MESSAGES_URL,
    TwilioSetup,
    error_json,
    message_json,
    message_page,
    twilio_setup,
)

DAY = date(2026, 12, 3)
FRIEND = "+447700900123"


@pytest.fixture
def tw(project: Path, clock: Clock) -> TwilioSetup:
    made = twilio_setup(project, clock)
    join(
        made.sender.session,
        made.runtime.schedule(),
        phone=FRIEND,
        channel="sms",
        method="keyword",
        now=clock(),
    )
    made.sender.session.commit()
    return made


def the_delivery(tw: TwilioSetup) -> Delivery:
    session = tw.sender.session
    session.expire_all()
    delivery = session.exec(select(Delivery)).one()
    session.commit()  # end the read: SQLite transactions here hold the write lock
    return delivery


def run_reconcile(tw: TwilioSetup):  # type: ignore[no-untyped-def]
    return reconcile_deliveries(tw.sender, tw.runtime.schedules, tw.settings.messages_dir)


def posts(mock: responses.RequestsMock) -> int:
    return sum(1 for c in mock.calls if c.request.method == "POST")


def sent_and_then_silence(tw: TwilioSetup, mock: responses.RequestsMock) -> Delivery:
    """The post went out, Twilio said "sent", and the "delivered" callback never arrived."""
    mock.add(responses.POST, MESSAGES_URL, json=message_json("SMst", FRIEND, "x"), status=201)
    schedule = tw.runtime.schedule()
    send_day(tw.sender, schedule, DAY, load_post(tw.settings.messages_dir, schedule, DAY))
    record_receipt(
        tw.sender.session,
        StatusReport("SMst", "sent"),
        source="twilio",
        explain=tw.provider.explain,
        now=tw.sender.clock(),
    )
    tw.sender.session.commit()
    return the_delivery(tw)


def test_a_delivery_stuck_in_sent_is_fixed_to_delivered(
    tw: TwilioSetup, clock: Clock, twilio_api: responses.RequestsMock
) -> None:
    assert sent_and_then_silence(tw, twilio_api).status == "sent"
    twilio_api.add(
        responses.GET, f"{API}/Messages/SMst.json", json=message_json("SMst", FRIEND, "x", status="delivered")
    )
    clock.advance(31 * 60)
    summary = run_reconcile(tw)
    assert (summary.asked, summary.moved_on) == (1, 1)
    assert the_delivery(tw).status == "delivered"
    sources = tw.sender.session.exec(
        select(DeliveryEvent.source).where(DeliveryEvent.status == "delivered")
    ).all()
    assert sources == ["reconcile"]
    assert summary.lines("twilio")[0] == (
        "asked twilio about 1 deliveries waiting for a receipt: 1 moved on, 0 unchanged, 0 could not be asked"
    )
    assert run_reconcile(tw).asked == 0  # delivered is final: nothing left to ask


def test_a_delivery_is_not_asked_about_before_the_stuck_time(
    tw: TwilioSetup, clock: Clock, twilio_api: responses.RequestsMock
) -> None:
    sent_and_then_silence(tw, twilio_api)
    clock.advance(10 * 60)
    assert run_reconcile(tw).asked == 0
    assert not [c for c in twilio_api.calls if c.request.method == "GET"]


def test_when_twilio_cannot_be_asked_the_status_is_left_alone(
    tw: TwilioSetup, clock: Clock, twilio_api: responses.RequestsMock
) -> None:
    sent_and_then_silence(tw, twilio_api)
    twilio_api.add(responses.GET, f"{API}/Messages/SMst.json", json=error_json(20500, 500), status=500)
    clock.advance(31 * 60)
    assert run_reconcile(tw).unanswered == 1
    assert the_delivery(tw).status == "sent"


def crashed_mid_send(tw: TwilioSetup, clock: Clock, status: str = "claimed") -> None:
    """The sender claimed the row and died before it stored Twilio's message id."""
    session = tw.sender.session
    plan_day(session, tw.runtime.schedule(), DAY, clock())
    session.execute(
        update(Delivery).values(
            status=status, claim_token="dead", attempts=1, claimed_at=clock() - timedelta(minutes=10)
        )
    )
    session.commit()


@pytest.mark.parametrize("status", ["claimed", "unknown"])
def test_an_interrupted_send_is_settled_by_the_message_twilio_already_accepted(
    status: str, tw: TwilioSetup, clock: Clock, twilio_api: responses.RequestsMock
) -> None:
    crashed_mid_send(tw, clock, status)
    text = load_post(tw.settings.messages_dir, tw.runtime.schedule(), DAY).text
    twilio_api.add(
        responses.GET,
        MESSAGES_URL,
        json=message_page(
            [message_json("SMaccepted", FRIEND, text, status="sent", created=clock() - timedelta(minutes=10))]
        ),
    )
    summary = run_reconcile(tw)
    assert summary.lost_sends["found"] == 1
    delivery = the_delivery(tw)
    assert (delivery.status, delivery.provider_sid) == ("sent", "SMaccepted")
    assert posts(twilio_api) == 0


def test_an_interrupted_send_twilio_never_saw_is_handed_back_to_be_sent(
    tw: TwilioSetup, clock: Clock, twilio_api: responses.RequestsMock
) -> None:
    crashed_mid_send(tw, clock)
    twilio_api.add(responses.GET, MESSAGES_URL, json=message_page([]))
    summary = run_reconcile(tw)
    assert summary.lost_sends["resend"] == 1
    assert the_delivery(tw).status == "pending"
    assert "handed back" in "\n".join(summary.lines("twilio"))
    assert posts(twilio_api) == 0


def test_reconcile_command_prints_a_summary(tw: TwilioSetup) -> None:
    result = CliRunner().invoke(reconcile, [], obj=tw.runtime)
    assert result.exit_code == 0, result.output
    assert "asked twilio about 0 deliveries waiting for a receipt" in result.output
    assert "interrupted sends: 0 found at twilio" in result.output
    help_text = " ".join(CliRunner().invoke(reconcile, ["--help"]).output.split())
    assert "Never sends anything twice" in help_text
