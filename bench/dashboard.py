"""How fast the calendar, a day page and /api/stats answer with 10,000 friends and 24 sent days.

Not a test (timings depend on the machine): run it and read the figures.

    .venv/bin/python bench/dashboard.py [--friends 10000] [--runs 21]

Builds a migrated SQLite file in a temporary folder, fills it in bulk in one transaction
(executemany: 10,000 friends, 24 days of posts, 240,000 deliveries and every status report they
would have had, a few failures and replies), then asks for GET /, GET /days/<campaign>/<day> and
GET /api/stats through the Flask test client, signed in, and prints the median and p95 of
several runs of each, wall and CPU (the process's own time, which a busy machine disturbs
less). Issue 10's target: p95 under 200 ms each.

The counts read the index ix_delivery_counts (migration 0008) instead of all 240,000 rows.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advent import create_app  # noqa: E402
from advent.config import load_settings  # noqa: E402
from advent.organiser import accounts  # noqa: E402
from advent.providers.simulator import Simulator  # noqa: E402
from advent.runtime import build_runtime  # noqa: E402
from advent.store.database import make_engine  # noqa: E402
from advent.store.migrate import upgrade  # noqa: E402
from advent.store.tables import DayRun, Delivery, DeliveryEvent, InboundMessage, Subscriber  # noqa: E402

PASSWORD = "benchmarks are not tests"
JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
# Out of every hundred posts: three come back undelivered, one is still only "sent".
UNDELIVERED, ONLY_SENT = 3, 1


def _people(count: int) -> list[dict]:
    # A third on WhatsApp, as a mixed list would be.
    return [
        {
            "id": n + 1,
            "phone": f"+447911{100000 + n:06d}",
            "channel": "whatsapp" if n % 3 == 0 else "sms",
            "campaign": "advent-2026",
            "status": "active",
            "name": f"Friend {n + 1}" if n % 2 else None,
            "created_at": JOINED,
            "joined_at": JOINED,
        }
        for n in range(count)
    ]


def _day(session: Session, schedule, day, people: list[dict], first_id: int, rng: random.Random) -> int:
    """One sent day: a delivery per friend and the events it would have had; returns the next id."""
    at = schedule.send_at(day).astimezone(UTC)
    rows, events, replies = [], [], []
    for n, person in enumerate(people):
        did = first_id + n
        sid = f"SM{did:032x}"
        whatsapp = person["channel"] == "whatsapp"
        roll = rng.randrange(100)
        steps = ["claimed", "queued", "sent"]
        if roll < UNDELIVERED:
            steps.append("undelivered")
        elif roll >= UNDELIVERED + ONLY_SENT:
            steps += ["delivered", "read"] if whatsapp and roll % 2 else ["delivered"]
        status = steps[-1]
        rows.append(
            {
                "id": did,
                "subscriber_id": person["id"],
                "campaign": "advent-2026",
                "day": day,
                "kind": "post",
                "channel": person["channel"],
                "address": ("whatsapp:" if whatsapp else "") + person["phone"],
                "status": status,
                "attempts": 1,
                "provider_sid": sid,
                "error_code": "30003" if status == "undelivered" else None,
                "error_reason": "the phone was switched off or out of signal"
                if status == "undelivered"
                else None,
                "created_at": at,
                "updated_at": at,
                "handed_over_at": at,
            }
        )
        for step, name in enumerate(steps):
            events.append(
                {
                    "delivery_id": did,
                    "provider_sid": sid,
                    "status": name,
                    "source": "simulator",
                    "applied": True,
                    "received_at": at + timedelta(seconds=2 * step),
                }
            )
        if roll % 10 == 0:  # one friend in ten writes back
            replies.append(
                {
                    "phone": person["phone"],
                    "channel": person["channel"],
                    "body": "Did it today, thank you!",
                    "kind": "reply",
                    "subscriber_id": person["id"],
                    "campaign": "advent-2026",
                    "in_reply_to_day": day,
                    "received_at": at + timedelta(hours=1),
                }
            )
    session.execute(insert(Delivery), rows)
    session.execute(insert(DeliveryEvent), events)
    if replies:  # an empty list would insert one row of defaults
        session.execute(insert(InboundMessage), replies)
    session.execute(
        insert(DayRun),
        [
            {
                "campaign": "advent-2026",
                "day": day,
                "status": "sent",
                "due_at": at,
                "started_at": at,
                "finished_at": at,
            }
        ],
    )
    return first_id + len(people)


def build(folder: Path, friends: int):  # type: ignore[no-untyped-def]
    settings = load_settings(
        _env_file=None,
        ADVENT_INSTANCE_DIR=str(folder),
        ADVENT_MESSAGES_DIR=str(ROOT / "messages"),
        ADVENT_SCHEDULES_DIR=str(ROOT / "schedules"),
        ADVENT_ORGANISER_NAME="Sam",
        ADVENT_ORGANISER_CONTACT="sam@example.org",
        ADVENT_SUPPORT_LINE="Samaritans, 116 123",
    )
    engine = make_engine(settings.database_url, settings.instance_dir)
    upgrade(engine)
    engine.dispose()
    # The last day, at noon: all 24 days sent, the last one today.
    now = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)
    runtime = build_runtime(settings, provider=Simulator(settings.simulator_path, clock=lambda: now))
    runtime.clock = lambda: now
    schedule = runtime.schedule()
    rng = random.Random(24)
    people = _people(friends)
    started = time.perf_counter()
    with runtime.session() as session:
        session.execute(insert(Subscriber), people)
        next_id = 1
        for day in schedule.days():
            next_id = _day(session, schedule, day, people, next_id, rng)
        accounts.create(session, "bench", PASSWORD, now)
        session.commit()
    print(f"built {friends} friends, {next_id - 1} deliveries in {time.perf_counter() - started:.1f} s")
    return runtime


def sign_in(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "no CSRF token on the sign-in page"
    answer = client.post("/login", data={"csrf_token": token.group(1), "name": "bench", "password": PASSWORD})
    assert answer.status_code == 302, "could not sign in"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(client, path: str, runs: int) -> str:  # type: ignore[no-untyped-def]
    """Median and p95 of `runs` answers, wall and CPU, in ms."""
    assert client.get(path).status_code == 200, path  # warm up: templates compiled, caches full
    wall, cpu = [], []
    for _ in range(runs):
        started, used = time.perf_counter(), time.process_time()
        answer = client.get(path)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
        assert answer.status_code == 200, path
    return (
        f"wall median {statistics.median(wall):.0f} ms, p95 {p95(wall):.0f} ms; "
        f"CPU median {statistics.median(cpu):.0f} ms, p95 {p95(cpu):.0f} ms ({runs} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--friends", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        runtime = build(Path(folder), args.friends)
        app = create_app(runtime=runtime)
        client = app.test_client()
        sign_in(client)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        print(f"load average {' '.join(f'{n:.1f}' for n in os.getloadavg())}")
        for path in ("/", "/days/advent-2026/2026-12-24", "/days/advent-2026/2026-12-01", "/api/stats"):
            print(f"GET {path}: {timed(client, path, args.runs)}")


if __name__ == "__main__":
    main()
