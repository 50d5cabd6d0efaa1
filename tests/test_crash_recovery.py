"""A dispatcher that dies mid-day must never cause a second message on restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import select

from advent.content.posts import load_post
from advent.providers.simulator import Simulator
from advent.sending.days import send_day
from advent.sending.dispatch import outgoing
from advent.sending.plan import plan_day
from advent.store.tables import Delivery, Subscriber
from tests.helpers import add_people

# `advent` processes here read the real clock: sent at each friend's own morning, a send
# started in their night would wait for it. Everyone at one moment keeps the test to the hour.
pytestmark = pytest.mark.usefixtures("one_moment_for_everyone")

DAY = date(2026, 12, 3)
JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _crash_after_handover(sender, schedule, post, delivery_id: int, handed_over: bool) -> None:
    """Leave a row as a dispatcher killed at that moment would: claimed, no provider id."""
    session = sender.session
    claimed_at = sender.clock()
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(status="claimed", claim_token="dead-process", claimed_at=claimed_at, attempts=1)
    )
    session.commit()
    if handed_over:
        delivery = session.get(Delivery, delivery_id)
        subscriber = session.get(Subscriber, delivery.subscriber_id)
        sender.provider.send(outgoing(delivery, subscriber, post, schedule, claimed_at))


def test_restart_settles_a_claim_the_provider_already_sent(sender, schedule, runtime, simulator, clock):
    people = add_people(sender.session, schedule, 3, JOINED)
    post = load_post(runtime.settings.messages_dir, schedule, DAY)
    plan_day(sender.session, schedule, DAY, clock())
    first, second = [d.id for d in sender.session.exec(select(Delivery).order_by(Delivery.id))][:2]
    _crash_after_handover(sender, schedule, post, first, handed_over=True)
    _crash_after_handover(sender, schedule, post, second, handed_over=False)
    clock.advance(runtime.settings.claim_timeout_seconds + 1)

    result = send_day(sender, schedule, DAY, post)

    assert result.recovered == {"found": 1, "resend": 1, "unknown": 0}
    assert simulator.posts_received() == {p.phone: 1 for p in people}
    settled = sender.session.get(Delivery, first)
    assert settled.provider_sid and settled.status == "queued"


def test_a_live_claim_is_left_alone_until_it_is_stale(sender, schedule, runtime, simulator, clock):
    add_people(sender.session, schedule, 1, JOINED)
    post = load_post(runtime.settings.messages_dir, schedule, DAY)
    plan_day(sender.session, schedule, DAY, clock())
    only = sender.session.exec(select(Delivery)).one()
    _crash_after_handover(sender, schedule, post, only.id, handed_over=False)
    result = send_day(sender, schedule, DAY, post)  # the other dispatcher may still be sending
    assert result.counts == {"claimed": 1} and simulator.posts_received() == {}
    assert not result.finished


def test_a_claim_taken_over_while_it_waited_for_its_slot_is_not_sent_again(
    runtime, schedule, settings, simulator, clock
):
    """A live dispatcher whose claimed rows wait longer than the claim timeout (a busy machine,
    a long queue for the shared pace) must not send the ones another process's recovery took
    over and sent meanwhile."""
    from advent.sending.dispatch import Sender

    people = add_people(runtime.session(), schedule, 4, JOINED)
    post = load_post(settings.messages_dir, schedule, DAY)
    # Four a second: one claim takes all four rows, each waiting for its own slot.
    paced = settings.model_copy(update={"send_rate_per_second": 40.0})
    other = Sender(runtime.session(), simulator, paced, clock=clock, sleep=lambda s: None)
    interrupted: list[dict[str, int]] = []

    def stalled(seconds: float) -> None:
        # The first wait for a slot outlasts the claim timeout, and another `advent send` runs.
        if not interrupted:
            clock.advance(settings.claim_timeout_seconds + 1)
            interrupted.append(send_day(other, schedule, DAY, post).recovered)

    slow = Sender(runtime.session(), simulator, paced, clock=clock, sleep=stalled)
    send_day(slow, schedule, DAY, post)

    assert interrupted and interrupted[0]["resend"] >= 1, "the other dispatcher took nothing over"
    assert simulator.posts_received() == {p.phone: 1 for p in people}
    with runtime.session() as session:
        assert {d.status for d in session.exec(select(Delivery)).all()} == {"queued"}


class _Blind(Simulator):
    """A network that cannot say what it sent (like a provider whose log is unavailable)."""

    def lookup(self, message, since):  # noqa: ANN001, ANN201
        return None


def test_a_claim_the_provider_cannot_account_for_is_reported_not_resent(runtime, schedule, settings, clock):
    from advent.sending.dispatch import Sender
    from advent.store.tables import OrganiserAlert

    blind = _Blind(settings.simulator_path, clock=clock)
    sender = Sender(runtime.session(), blind, settings, clock=clock, sleep=lambda s: None)
    add_people(sender.session, schedule, 1, JOINED)
    post = load_post(settings.messages_dir, schedule, DAY)
    plan_day(sender.session, schedule, DAY, clock())
    only = sender.session.exec(select(Delivery)).one()
    _crash_after_handover(sender, schedule, post, only.id, handed_over=True)
    clock.advance(settings.claim_timeout_seconds + 1)
    result = send_day(sender, schedule, DAY, post)
    assert result.recovered["unknown"] == 1
    assert blind.posts_received() == {"+447911100000": 1}
    alert = sender.session.exec(select(OrganiserAlert)).one()
    assert "not re-sent" in alert.message


def _advent(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    # cwd: the test's own folder, so a developer's .env is never read.
    return subprocess.Popen(
        [sys.executable, "-m", "advent.cli", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_sigkilled_dispatcher_restarted_leaves_everyone_with_exactly_one(runtime, schedule, settings):
    people = add_people(runtime.session(), schedule, 40, JOINED)
    env = {
        **os.environ,
        "ADVENT_INSTANCE_DIR": str(settings.instance_dir),
        "DATABASE_URL": settings.database_url,
        "ADVENT_MESSAGES_DIR": str(settings.messages_dir),
        "ADVENT_SCHEDULES_DIR": str(settings.schedules_dir),
        "ADVENT_SIMULATOR_PATH": str(settings.simulator_path),
        "ADVENT_SEND_RATE": "25",
        "ADVENT_PROVIDER": "simulator",
        "PYTHONPATH": str(Path(__file__).parent.parent),
    }
    network = Simulator(settings.simulator_path)
    here = settings.instance_dir
    victim = _advent(["send", "--date", DAY.isoformat()], env, here)
    deadline = time.monotonic() + 60
    while sum(network.posts_received().values()) < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    sent_before_kill = sum(network.posts_received().values())
    assert 10 <= sent_before_kill < 40, "the kill must land in the middle of the day"

    # The restarted dispatcher treats the dead one's claim as stale at once.
    restart = _advent(["send", "--date", DAY.isoformat()], {**env, "ADVENT_CLAIM_TIMEOUT_SECONDS": "0"}, here)
    output, _ = restart.communicate(timeout=120)
    assert restart.returncode == 0, output
    assert network.posts_received() == {p.phone: 1 for p in people}
    with runtime.session() as session:
        statuses = {d.status for d in session.exec(select(Delivery)).all()}
    assert statuses <= {"queued", "sent", "delivered"}


def test_a_receipt_naming_the_send_while_the_provider_is_asked_prevents_a_resend(
    runtime, schedule, settings, clock
):
    """Timeout after Twilio took the message; its list lags, but the receipt says it went."""
    from advent.providers.base import ErrorAction, ProviderError, StatusReport
    from advent.receipts import record_receipt
    from advent.sending.dispatch import Sender

    class SlowToList(Simulator):
        def send(self, message):  # noqa: ANN001, ANN201
            super().send(message)  # accepted by the network...
            raise ProviderError("read timeout", action=ErrorAction.RETRY, maybe_sent=True)

        def lookup(self, message, since):  # noqa: ANN001, ANN201
            sent = super().lookup(message, since)
            with runtime.session() as session:  # ...whose receipt lands while we ask
                record_receipt(
                    session,
                    StatusReport(sid=sent[0].sid, status="sent", reference=message.reference),
                    source="test",
                    explain=self.explain,
                    now=clock(),
                )
                session.commit()
            return []  # and the provider's list has not caught up yet

    network = SlowToList(settings.simulator_path, clock=clock)
    sender = Sender(runtime.session(), network, settings, clock=clock, sleep=lambda s: clock.advance(s))
    people = add_people(sender.session, schedule, 1, JOINED)
    send_day(sender, schedule, DAY, load_post(settings.messages_dir, schedule, DAY))
    assert network.posts_received() == {people[0].phone: 1}
    with runtime.session() as session:
        assert session.exec(select(Delivery.status)).one() == "sent"
