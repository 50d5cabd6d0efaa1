"""Exactly once under SIGKILL, proved with real processes: `advent send` killed again and again
at random moments (two at once on half the rounds), then run to the end.

What counts is what the phone network was handed (the simulator's own record of every message
it accepted), not what our database believes.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from advent.people.subscriptions import stop_subscriber
from advent.providers.simulator import Simulator
from advent.states.deliveries import DeliveryStatus
from advent.states.subscribers import SubscriberStatus
from advent.store.tables import DayRun, Delivery, Subscriber
from tests.helpers import add_people, simulator_env

# `advent` processes here read the real clock: sent at each friend's own morning, a send
# started in their night would wait for it. Everyone at one moment keeps the test to the hour.
pytestmark = pytest.mark.usefixtures("one_moment_for_everyone")

DAY = date(2026, 12, 3)
JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
# 300 people join a list capped at 256: the last 44 wait for a place and must get nothing.
JOINING = 300
STOPPED_BEFORE = 12  # said STOP before the day: planned for nobody, sent nothing
STOPPED_DURING = 10  # say STOP between two rounds: nothing more after that
KILLS = 20
SEED = 20261203
# A round's few messages take well under a second at this rate, and a kill that comes late
# still leaves most of the day for the rounds after it.
RATE = "50"
# A claim older than this is taken for a dead dispatcher's and settled by the next one to start.
# Kept short so that later rounds settle what earlier ones left (the restarts come quickly); a
# live dispatcher renews a claim a quarter of this old before it sends, so a busy machine's
# stalls must pass 1.5 s at one exact moment to defeat that.
CLAIM_TIMEOUT = "2"


def _env(settings, claim_timeout: str, rate: str = RATE) -> dict[str, str]:  # noqa: ANN001
    return {
        **os.environ,
        **simulator_env(settings),
        "ADVENT_SEND_RATE": rate,
        "ADVENT_CLAIM_TIMEOUT_SECONDS": claim_timeout,
        "PYTHONPATH": str(Path(__file__).parent.parent),
    }


def _dispatcher(env: dict[str, str], cwd: Path) -> subprocess.Popen:
    # cwd: the test's own folder, so a developer's .env is never read.
    return subprocess.Popen(
        [sys.executable, "-m", "advent.cli", "send", "--date", DAY.isoformat()],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _handed_over(network: Simulator) -> int:
    return sum(network.posts_received().values())


def _kill_at_a_random_point(
    victims: list[subprocess.Popen], network: Simulator, rng: random.Random
) -> tuple[int, int]:
    """SIGKILL each victim at a seeded random moment; returns (killed while running, sent meanwhile).

    Half the moments are a plain delay from the start (they can land while a dispatcher is
    still starting or settling the last round's claims); the rest wait until a random number of
    messages has gone, so the kill lands in the middle of sending.
    """
    before = _handed_over(network)
    if rng.random() < 0.5:
        time.sleep(rng.uniform(0.0, 1.0))
    else:
        wanted, deadline = rng.randint(1, 6), time.monotonic() + 20
        while _handed_over(network) - before < wanted and time.monotonic() < deadline:
            if all(v.poll() is not None for v in victims):
                break
            time.sleep(0.005)
    killed = 0
    for victim in victims:
        time.sleep(rng.uniform(0.0, 0.03))
        if victim.poll() is None:
            victim.send_signal(signal.SIGKILL)
            killed += 1
        victim.wait()
    return killed, _handed_over(network) - before


def test_sigkill_loop_leaves_every_active_friend_with_exactly_one_post(runtime, schedule, settings):
    with runtime.session() as session:
        people = add_people(session, schedule, JOINING, JOINED)
        listed = [p for p in people if p.status == SubscriberStatus.ACTIVE]
        waiting = [p.phone for p in people if p.status == SubscriberStatus.WAITING]
        for person in listed[-STOPPED_BEFORE - STOPPED_DURING : -STOPPED_DURING]:
            stop_subscriber(session, person, method="keyword", now=JOINED)
        session.commit()
        phones = [p.phone for p in listed]
    active = phones[: -STOPPED_BEFORE - STOPPED_DURING]
    stopped_before = phones[-STOPPED_BEFORE - STOPPED_DURING : -STOPPED_DURING]
    stopped_during = phones[-STOPPED_DURING:]
    assert len(active) > 200 and waiting
    network = Simulator(settings.simulator_path)
    env, here = _env(settings, CLAIM_TIMEOUT), settings.instance_dir
    rng = random.Random(SEED)

    kills = rounds = mid_send = 0
    at_stop: dict[str, int] = {}
    while kills < KILLS:
        rounds += 1
        if rounds == KILLS // 2:
            at_stop = _stop_midway(runtime, schedule, stopped_during, network)
        victims = [_dispatcher(env, here) for _ in range(2 if rounds % 2 == 0 else 1)]
        killed, sent = _kill_at_a_random_point(victims, network, rng)
        kills += killed
        mid_send += bool(killed and sent)
        assert rounds < 4 * KILLS, "the dispatchers keep finishing before they can be killed"

    # Nothing else runs now, so every claim left behind is a dead process's: settle them at once.
    left = len(active) - _handed_over(network)
    final = _dispatcher(_env(settings, "0", rate="1000"), here)  # no kills: no need to go slowly
    assert final.wait(timeout=120) == 0

    received = network.posts_received()
    duplicates = sum(n - 1 for n in received.values() if n > 1)
    missed = [p for p in active if received.get(p, 0) == 0]
    print(
        f"\nkill loop on {_database(settings)}: {kills} SIGKILLs in {rounds} rounds "
        f"({mid_send} mid-send), {len(active)} friends ({left} left for the final run), "
        f"{duplicates} duplicates, {len(missed)} missed"
    )
    assert {p: received.get(p, 0) for p in active} == dict.fromkeys(active, 1)
    assert not any(received.get(p) for p in stopped_before + waiting)
    assert set(received) <= set(phones)
    assert {p: received.get(p, 0) for p in stopped_during} == at_stop
    assert mid_send >= KILLS // 4, "too few kills landed while posts were going out"
    _assert_the_database_agrees(runtime, schedule)


def _stop_midway(runtime, schedule, phones: list[str], network: Simulator) -> dict[str, int]:  # noqa: ANN001
    """Between two rounds (nothing is running), some friends say STOP; returns what each had."""
    now = datetime(2026, 12, 3, 8, 5, tzinfo=UTC)
    with runtime.session() as session:
        for phone in phones:
            person = session.exec(select(Subscriber).where(Subscriber.phone == phone)).one()
            stop_subscriber(session, person, method="keyword", now=now)
        session.commit()
    received = network.posts_received()
    return {p: received.get(p, 0) for p in phones}


def _assert_the_database_agrees(runtime, schedule) -> None:  # noqa: ANN001
    with runtime.session() as session:
        rows = session.exec(select(Delivery).where(Delivery.day == DAY)).all()
        run = session.exec(select(DayRun).where(DayRun.day == DAY)).one()
    unsettled = [d for d in rows if d.status in (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED)]
    assert unsettled == []
    handed = [d for d in rows if d.status in ("queued", "sent", "delivered")]
    assert all(d.provider_sid for d in handed)
    assert len(handed) + sum(d.status == "cancelled" for d in rows) == len(rows)
    assert run.status == "sent"


def _database(settings) -> str:  # noqa: ANN001
    return "PostgreSQL" if settings.database_url.startswith("postgresql") else "SQLite"
