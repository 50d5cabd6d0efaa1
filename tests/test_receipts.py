"""Status receipts: stored every time, applied forward only, never lost when early."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from advent.content.posts import load_post
from advent.sending.days import send_day
from advent.sending.plan import plan_day
from advent.states.deliveries import next_status
from advent.store.tables import Delivery, DeliveryEvent
from tests.helpers import add_people

DAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    "current, reported, expected",
    [
        ("queued", "sent", "sent"),
        ("sent", "delivered", "delivered"),
        ("delivered", "sent", None),
        ("delivered", "read", "read"),
        ("read", "delivered", None),
        ("failed", "sent", None),
        ("undelivered", "delivered", None),
        ("sent", "undelivered", "undelivered"),
        ("delivered", "undelivered", None),
        ("queued", "receiving", None),
        ("cancelled", "sent", None),
    ],
)
def test_status_only_moves_forward_and_failures_are_final(current, reported, expected):
    assert next_status(current, reported) == expected


@pytest.fixture
def sent(sender, schedule, runtime):
    add_people(sender.session, schedule, 1, datetime(2026, 11, 30, tzinfo=UTC))
    send_day(sender, schedule, DAY, load_post(runtime.settings.messages_dir, schedule, DAY))
    delivery = sender.session.exec(select(Delivery)).one()
    sender.session.commit()  # release the database for the webhook
    return delivery


def _status(client, sid: str, status: str, token: str | None = None, **extra: str):
    headers = {"I-Twilio-Idempotency-Token": token} if token else {}
    return client.post(
        "/twilio/status", data={"MessageSid": sid, "MessageStatus": status, **extra}, headers=headers
    )


def _delivery(runtime) -> Delivery:
    with runtime.session() as session:
        return session.exec(select(Delivery)).one()


def test_out_of_order_callbacks_never_move_a_delivery_back(client, runtime, sent):
    for status in ("delivered", "sending", "sent", "queued"):
        assert _status(client, sent.provider_sid, status).status_code == 200
    assert _delivery(runtime).status == "delivered"
    assert _status(client, sent.provider_sid, "read").status_code == 200
    assert _delivery(runtime).status == "read"


def test_a_failure_is_final_and_a_late_sent_does_not_hide_it(client, runtime, sent):
    _status(client, sent.provider_sid, "undelivered", ErrorCode="30003")
    _status(client, sent.provider_sid, "sent")
    delivery = _delivery(runtime)
    assert delivery.status == "undelivered" and delivery.error_code == "30003"


def test_duplicated_callbacks_change_nothing_and_are_stored_once(client, runtime, sent):
    for _ in range(3):
        _status(client, sent.provider_sid, "delivered", token="tok-1")
    _status(client, sent.provider_sid, "delivered", token="tok-2")  # same sid and status
    with runtime.session() as session:
        events = session.exec(select(DeliveryEvent).where(DeliveryEvent.status == "delivered")).all()
    assert len(events) == 1


def test_a_receipt_before_the_send_is_stored_is_applied_once_the_id_is_known(
    client, runtime, sender, schedule
):
    add_people(sender.session, schedule, 1, datetime(2026, 11, 30, tzinfo=UTC))
    plan_day(sender.session, schedule, DAY, sender.clock())
    _status(client, "SMearly", "delivered")  # neither the id nor the delivery known yet
    with runtime.session() as session:
        kept = session.exec(select(DeliveryEvent)).one()
    assert kept.applied is False and kept.delivery_id is None
    from advent.providers.base import SendResult
    from advent.sending.dispatch import record_handover

    delivery = sender.session.exec(select(Delivery)).one()
    delivery.status = "claimed"
    record_handover(sender, delivery, SendResult("SMearly", "queued"), sender.clock())
    assert _delivery(runtime).status == "delivered"


def test_a_receipt_carrying_the_delivery_id_settles_a_send_whose_answer_was_lost(
    client, runtime, sender, schedule
):
    add_people(sender.session, schedule, 1, datetime(2026, 11, 30, tzinfo=UTC))
    plan_day(sender.session, schedule, DAY, sender.clock())
    delivery = sender.session.exec(select(Delivery)).one()
    delivery.status = "claimed"  # handed over by a dispatcher that died before storing the id
    sender.session.add(delivery)
    sender.session.commit()
    response = client.post(
        f"/twilio/status?delivery={delivery.id}", data={"MessageSid": "SMlost", "MessageStatus": "sent"}
    )
    assert response.status_code == 200
    found = _delivery(runtime)
    assert (found.provider_sid, found.status) == ("SMlost", "sent")


def test_a_status_for_a_message_that_does_not_exist_is_answered_200(client, runtime):
    assert _status(client, "SMnothing", "delivered").status_code == 200
    assert client.post("/twilio/status", data={}).status_code == 200
    assert client.post("/twilio/status", data={"MessageSid": "x"}).status_code == 200


def test_a_receipt_naming_a_row_never_handed_over_is_kept_but_not_applied(client, runtime, sender, schedule):
    add_people(sender.session, schedule, 1, datetime(2026, 11, 30, tzinfo=UTC))
    plan_day(sender.session, schedule, DAY, sender.clock())
    delivery = sender.session.exec(select(Delivery)).one()
    sender.session.commit()
    client.post(
        f"/twilio/status?delivery={delivery.id}",
        data={"MessageSid": "SMforged", "MessageStatus": "delivered"},
    )
    found = _delivery(runtime)
    assert (found.provider_sid, found.status) == (None, "pending")


def _claimed(sender, schedule) -> Delivery:
    add_people(sender.session, schedule, 1, datetime(2026, 11, 30, tzinfo=UTC))
    plan_day(sender.session, schedule, DAY, sender.clock())
    delivery = sender.session.exec(select(Delivery)).one()
    delivery.status = "claimed"  # a dispatcher is waiting for the provider's answer
    sender.session.add(delivery)
    sender.session.commit()
    return delivery


def test_a_receipt_that_beats_the_send_answer_is_not_overwritten_by_it(client, runtime, sender, schedule):
    from advent.providers.base import SendResult
    from advent.sending.dispatch import record_handover

    delivery = _claimed(sender, schedule)
    client.post(
        f"/twilio/status?delivery={delivery.id}", data={"MessageSid": "SMfast", "MessageStatus": "delivered"}
    )
    record_handover(sender, delivery, SendResult("SMfast", "queued"), sender.clock())
    found = _delivery(runtime)
    assert (found.provider_sid, found.status) == ("SMfast", "delivered")


def test_a_late_receipt_for_an_earlier_attempt_does_not_claim_the_new_one(client, runtime, sender, schedule):
    delivery = _claimed(sender, schedule)
    sender.session.add(
        DeliveryEvent(
            delivery_id=delivery.id,
            provider_sid="SMrefused",
            status="queued",
            source="sender",
            applied=True,
            received_at=sender.clock(),
        )
    )
    sender.session.commit()  # the free-form attempt WhatsApp refused; the template is on its way
    client.post(
        f"/twilio/status?delivery={delivery.id}", data={"MessageSid": "SMrefused", "MessageStatus": "sent"}
    )
    found = _delivery(runtime)
    assert (found.provider_sid, found.status) == (None, "claimed")
