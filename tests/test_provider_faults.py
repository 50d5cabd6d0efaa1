"""Twilio misbehaving, over real HTTP: errors, throttling, hangs and dropped connections in
bursts, and an outage longer than the retry bound. Whatever Twilio does, nobody gets the post
twice, every post ends handed over or failed with a reason the organiser can read, and a day the
outage left unfinished shows as such and is finished once Twilio is back.

Counted from the double's record of the messages it created (Twilio's side), not our database.
Waiting for a retry moves the test's clock (tests/twilio_double.py's twilio_setup), so backoffs
take no real time; only a hang waits, just past the provider's HTTP timeout.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from advent import create_app
from advent.content.posts import load_post
from advent.organiser.day import retry_failed
from advent.sending.days import send_day
from advent.sending.reconcile import reconcile_deliveries
from advent.states.deliveries import DeliveryStatus
from advent.store.tables import DayRun, Delivery, OrganiserAlert
from tests.helpers import add_people
from tests.twilio_double import DROP_AFTER_CREATE, FAULTS, OK, TwilioSetup, twilio_setup

DAY = date(2026, 12, 3)
JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
FRIENDS = 12
# The provider gives up on a silent Twilio after this; the double's hang lasts just longer. Not
# shorter: every call (a lookup too) must fit in it on a busy machine, or its outcome is
# "unknown" (not re-sent, by design) and the friend rightly gets nothing. At 0.2 s, CI once saw
# that, with many calls in flight at once.
TIMEOUT = 0.5
HANDED_OVER = {DeliveryStatus.QUEUED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED}


@pytest.fixture
def twilio(project, clock, double, web) -> TwilioSetup:  # noqa: ANN001
    made = twilio_setup(
        project,
        clock,
        PUBLIC_BASE_URL=web.base_url,
        TWILIO_API_BASE_URL=double.base_url,
        TWILIO_TIMEOUT_SECONDS=str(TIMEOUT),
    )
    web.app = create_app(runtime=made.runtime)  # so the double's status callbacks arrive
    double.hang_seconds = TIMEOUT + 0.15
    double.clock = clock  # the messages' dates follow the test's clock, as Twilio's follow ours
    return made


def bursts(fault: str, seed: int) -> list[str]:
    """Runs of one to three faults between runs of successes, seeded: what a bad minute at
    Twilio looks like. Shorter than the retry bound, so every post should still get through."""
    rng, played = random.Random(seed), []
    while len(played) < 2 * FRIENDS:
        played += [fault] * rng.randint(1, 3) + [OK] * rng.randint(0, 2)
    return played


def _send(twilio: TwilioSetup):  # noqa: ANN202
    schedule = twilio.runtime.schedule(None)
    post = load_post(twilio.settings.messages_dir, schedule, DAY)
    return send_day(twilio.sender, schedule, DAY, post)


def _deliveries(twilio: TwilioSetup) -> list[Delivery]:
    with twilio.runtime.session() as session:
        return list(session.exec(select(Delivery).where(Delivery.day == DAY).order_by(Delivery.id)).all())


def _phones(twilio: TwilioSetup) -> list[str]:
    with twilio.runtime.session() as session:
        return [p.phone for p in add_people(session, twilio.runtime.schedule(None), FRIENDS, JOINED)]


def _day_run(twilio: TwilioSetup) -> DayRun:
    with twilio.runtime.session() as session:
        return session.exec(select(DayRun).where(DayRun.day == DAY)).one()


def _open_alerts(twilio: TwilioSetup) -> list[str]:
    with twilio.runtime.session() as session:
        return [a.message for a in session.exec(select(OrganiserAlert)).all() if a.resolved_at is None]


def _summary(pattern: str, double, phones: list[str], rows: list[Delivery]) -> str:  # noqa: ANN001
    received = double.sent_to()
    duplicates = sum(n - 1 for n in received.values() if n > 1)
    faults = sum(f != OK for f in double.faults_played)
    return (
        f"\nprovider fault {pattern!r}: {faults} faults played, {len(phones)} friends, "
        f"{sum(received.get(p, 0) == 1 for p in phones)} got it once, {duplicates} duplicates, "
        f"{sum(r.status == DeliveryStatus.FAILED for r in rows)} failed"
    )


@pytest.mark.parametrize("fault", FAULTS)
def test_bursts_of_faults_never_send_a_post_twice(twilio, double, fault):
    phones = _phones(twilio)
    double.faults = bursts(fault, seed=FAULTS.index(fault))

    result = _send(twilio)

    rows = _deliveries(twilio)
    print(_summary(fault, double, phones, rows))
    assert double.sent_to() == dict.fromkeys(phones, 1)
    assert {r.status for r in rows} <= HANDED_OVER and all(r.provider_sid for r in rows)
    assert result.finished and _day_run(twilio).status == "sent"
    assert sum(f != OK for f in double.faults_played) >= FRIENDS // 2, "the faults were not played"


def test_twilio_sending_but_never_answering_is_found_not_resent(twilio, double):
    """The dangerous one, every time: Twilio creates the message and the answer is lost."""
    phones = _phones(twilio)
    double.faults = [DROP_AFTER_CREATE] * FRIENDS

    _send(twilio)

    rows = _deliveries(twilio)
    print(_summary("drop after create, every time", double, phones, rows))
    assert double.sent_to() == dict.fromkeys(phones, 1)
    assert {r.status for r in rows} <= HANDED_OVER
    assert {r.provider_sid for r in rows} == set(double.messages)


def test_an_outage_past_the_retry_bound_is_shown_and_the_next_run_finishes_the_day(twilio, double, clock):
    """Twilio down, lookups too: nothing can be known, so nothing is re-sent until it can be."""
    phones = _phones(twilio)
    double.outage = True

    _send(twilio)

    rows = _deliveries(twilio)
    assert double.sent_to() == {}
    assert {r.status for r in rows} == {DeliveryStatus.UNKNOWN}
    assert all("Twilio" in (r.error_reason or "") and "advent reconcile" in r.error_reason for r in rows)
    assert f"{FRIENDS} unknown" in (_day_run(twilio).note or "")
    assert any(f"{FRIENDS} friend(s)" in message for message in _open_alerts(twilio))

    clock.advance(600)  # ten minutes later Twilio is back; the organiser runs
    double.outage = False  # what the alert says, then sends
    schedule = twilio.runtime.schedule(None)
    reconcile_deliveries(twilio.sender, [schedule], twilio.settings.messages_dir)
    _send(twilio)

    rows = _deliveries(twilio)
    print(_summary("outage (lookups down too), then back", double, phones, rows))
    assert double.sent_to() == dict.fromkeys(phones, 1)
    assert {r.status for r in rows} <= HANDED_OVER


def test_refusals_past_the_retry_bound_fail_with_a_reason_and_can_be_sent_again(twilio, double):
    """Twilio refuses every send (its lookups still answer) for longer than the retries last."""
    phones = _phones(twilio)
    double.faults = ["500"] * (FRIENDS * twilio.settings.send_max_attempts)

    _send(twilio)

    rows = _deliveries(twilio)
    assert double.sent_to() == {}
    assert {r.status for r in rows} == {DeliveryStatus.FAILED}
    assert all(r.error_reason and r.error_reason.startswith("gave up after") for r in rows)
    assert f"{FRIENDS} failed" in (_day_run(twilio).note or "")

    # Twilio is back: the organiser's "send the failed ones again", then the next send.
    with twilio.runtime.session() as session:
        assert retry_failed(session, "advent-2026", DAY, twilio.sender.clock()) == FRIENDS
    _send(twilio)

    rows = _deliveries(twilio)
    print(_summary("500 past the retry bound, then back", double, phones, rows))
    assert double.sent_to() == dict.fromkeys(phones, 1)
    assert {r.status for r in rows} <= HANDED_OVER
