"""The simulator is a phone network, not a no-op: ids, delayed receipts, failures, memory."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from advent.providers.base import ErrorAction, OutgoingMessage, ProviderError
from advent.providers.simulator import Simulator

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _message(reference: str = "1", channel: str = "sms") -> OutgoingMessage:
    return OutgoingMessage(
        reference=reference, to="+447911123456", channel=channel, body="Hello from day one"
    )


def test_receipts_come_later_in_order_until_acknowledged(tmp_path):
    now = [START]
    sim = Simulator(tmp_path / "net.db", delay_seconds=5, clock=lambda: now[0])
    sim.note_inbound("+447911123456", "whatsapp", START)  # they wrote: free-form text may go
    result = sim.send(_message(channel="whatsapp"))
    assert result.sid.startswith("SM") and result.status == "queued"
    assert sim.collect_receipts(START) == []
    due = sim.collect_receipts(START + timedelta(seconds=11))
    assert [r.status for r in due] == ["sent", "delivered"]
    # Not yet stored by the service (say it crashed): handed over again, never lost.
    assert sim.collect_receipts(START + timedelta(seconds=11)) == due
    sim.acknowledge_receipts(due)
    later = sim.collect_receipts(START + timedelta(seconds=60))
    assert [r.status for r in later] == ["read"]
    sim.acknowledge_receipts(later)
    assert sim.collect_receipts(START + timedelta(hours=1)) == []


def test_sms_has_no_read_receipt(tmp_path):
    sim = Simulator(tmp_path / "net.db", delay_seconds=1, clock=lambda: START)
    sim.send(_message())
    assert [r.status for r in sim.collect_receipts(START + timedelta(minutes=1))] == ["sent", "delivered"]


def test_a_failure_rate_ends_messages_undelivered_with_an_explained_code(tmp_path):
    sim = Simulator(tmp_path / "net.db", delay_seconds=1, failure_rate=1.0, clock=lambda: START)
    sim.send(_message())
    last = sim.collect_receipts(START + timedelta(minutes=1))[-1]
    assert last.status == "undelivered"
    action, reason = sim.explain(last.error_code)
    assert action is ErrorAction.GIVE_UP and "switched off" in reason


def test_an_error_rate_refuses_sends_as_retryable(tmp_path):
    sim = Simulator(tmp_path / "net.db", error_rate=1.0, rng=random.Random(1))
    try:
        sim.send(_message())
    except ProviderError as error:
        assert error.action is ErrorAction.RETRY and not error.permanent
    else:
        raise AssertionError("expected a busy network")
    assert sim.posts_received() == {}


def test_it_remembers_what_it_sent_across_restarts(tmp_path):
    Simulator(tmp_path / "net.db", clock=lambda: START).send(_message("42"))
    again = Simulator(tmp_path / "net.db")
    found = again.lookup(_message("42"), since=START)
    assert len(found) == 1 and found[0].to == "+447911123456"
    assert again.lookup(_message("43"), since=START) == []
    assert again.received_by("+447911123456")[0]["body"] == "Hello from day one"
