"""End to end: the service sends a day through a local Twilio-compatible double (via
TWILIO_API_BASE_URL) and receives its signed status callbacks on the real web app."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from sqlmodel import select

from advent.content.posts import load_post
from advent.people.subscriptions import join
from advent.sending.days import send_day
from advent.store.tables import Delivery
from tests.conftest import Clock
from tests.twilio_double import LocalServer, TwilioDouble, TwilioSetup

DAY = date(2026, 12, 3)


@pytest.fixture
def tw(tw_over_http: TwilioSetup) -> TwilioSetup:
    return tw_over_http


def statuses(tw: TwilioSetup) -> list[str]:
    with tw.runtime.session() as session:
        return list(session.exec(select(Delivery.status).order_by(Delivery.id)).all())


def wait_for(condition, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_day_sent_through_the_double_ends_delivered_by_signed_callbacks(
    tw: TwilioSetup, double: TwilioDouble, web: LocalServer, clock: Clock
) -> None:
    session, schedule = tw.sender.session, tw.runtime.schedule()
    join(session, schedule, phone="+447700900123", channel="sms", method="keyword", now=clock())
    on_whatsapp = join(
        session, schedule, phone="+447700900456", channel="whatsapp", method="keyword", now=clock()
    ).subscriber
    on_whatsapp.last_inbound_at = clock() - timedelta(hours=1)
    session.commit()

    result = send_day(tw.sender, schedule, DAY, load_post(tw.settings.messages_dir, schedule, DAY))
    assert result.handled == 2

    assert wait_for(lambda: statuses(tw) == ["delivered", "delivered"]), statuses(tw)
    assert sorted(form["To"] for form in double.created) == ["+447700900123", "whatsapp:+447700900456"]
    for form in double.created:
        assert form["StatusCallback"].startswith(f"{web.base_url}/twilio/status?delivery=")
    assert wait_for(lambda: len(double.callbacks) == 4)
    assert {answer for _sid, _status, answer in double.callbacks} == {200}
