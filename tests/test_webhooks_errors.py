"""What Twilio gets from the webhooks when something is wrong on our side: never a 500.

The database away: the request is kept in the journal and answered, and stored once the
database is back (Twilio does not retry an inbound text, so a 503 would lose it).
A bug of ours: the text is kept for the organiser, with an empty answer.
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlmodel import select

from advent.content.posts import load_post
from advent.content.schedules import Schedule
from advent.held_webhooks import RECEIVED
from advent.runtime import Runtime
from advent.sending.days import send_day
from advent.sending.dispatch import Sender
from advent.store.tables import Delivery, DeliveryEvent, InboundMessage, Subscriber
from tests.database_template import database_away
from tests.helpers import FRIENDS, replay_all
from tests.webhook_helpers import reply_text, text_from

DAY = date(2026, 12, 3)


@pytest.fixture
def sent_today(sender: Sender, schedule: Schedule, friends: list[str]) -> Delivery:
    """3 December's post, handed to the simulator for the first friend."""
    send_day(sender, schedule, DAY, load_post(sender.settings.messages_dir, schedule, DAY))
    delivery = sender.session.exec(
        select(Delivery).where(Delivery.provider_sid.is_not(None)).order_by(Delivery.id)
    ).first()
    sender.session.commit()  # release the database for the webhook
    assert delivery is not None
    return delivery


def _replays_finished() -> None:
    """Let a replay the webhook started finish before the file comes back: one connecting while
    the file is being moved back would make a new empty database at its path."""
    for thread in threading.enumerate():
        if thread.name == "journal-replay":
            thread.join()


def _inbound(runtime: Runtime) -> list[InboundMessage]:
    with runtime.session() as session:
        return list(session.exec(select(InboundMessage)).all())


@pytest.mark.sqlite_only("replaces the SQLite file with a folder; PostgreSQL down is in test_journal")
def test_a_text_while_the_database_is_away_is_answered_kept_and_stored_once_it_is_back(
    client: FlaskClient, runtime: Runtime, tmp_path: Path
) -> None:
    with database_away(runtime, tmp_path / "aside"):
        response = text_from(client, FRIENDS[0], "HAPPY", sid="SMaway")
        assert response.status_code == 200
        # Honest: the text is safe, but nothing can be promised about the sign-up yet.
        assert reply_text(response) == RECEIVED
        assert len(runtime.journal().waiting()) == 1
        _replays_finished()
    replay_all(runtime)  # what the next request, a starting worker or the clock does
    with runtime.session() as session:
        assert session.exec(select(Subscriber.phone)).all() == [FRIENDS[0]]
        assert session.exec(select(InboundMessage.provider_sid)).all() == ["SMaway"]
    assert runtime.journal().waiting() == []


@pytest.mark.sqlite_only("replaces the SQLite file with a folder; PostgreSQL down is in test_journal")
def test_a_receipt_while_the_database_is_away_is_kept_and_applied_once_it_is_back(
    client: FlaskClient, runtime: Runtime, sent_today: Delivery, tmp_path: Path
) -> None:
    form = {"MessageSid": sent_today.provider_sid or "", "MessageStatus": "delivered"}
    with database_away(runtime, tmp_path / "aside"):
        assert client.post("/twilio/status", data=form).status_code == 200
        _replays_finished()
    # Twilio retried it too: the journal's copy and the retry count once.
    assert client.post("/twilio/status", data=form).status_code == 200
    replay_all(runtime)
    with runtime.session() as session:
        assert session.get_one(Delivery, sent_today.id).status == "delivered"
        stored = session.exec(
            select(DeliveryEvent.status).where(DeliveryEvent.provider_sid == sent_today.provider_sid)
        ).all()
    assert list(stored).count("delivered") == 1


def test_a_text_we_fail_to_answer_is_kept_for_the_organiser_and_twilio_gets_an_empty_answer(
    client: FlaskClient, runtime: Runtime, schedule: Schedule
) -> None:
    # The organiser's reply texts, checked at start-up, replaced afterwards by a folder of the
    # same name: reading them fails in a way the conversation code does not expect.
    replies = runtime.settings.messages_dir / schedule.content / "replies.toml"
    replies.unlink()
    replies.mkdir()
    response = text_from(client, FRIENDS[0], "HAPPY", sid="SMbug")
    assert response.status_code == 200
    assert reply_text(response) == ""
    kept = _inbound(runtime)
    assert [(m.phone, m.body, m.kind, m.provider_sid) for m in kept] == [
        (FRIENDS[0], "HAPPY", "unhandled", "SMbug")
    ]
    with runtime.session() as session:  # half a sign-up is not left behind
        assert session.exec(select(Subscriber)).all() == []
