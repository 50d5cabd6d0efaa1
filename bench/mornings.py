"""What the clock's work at each friend's own morning costs with a long list.

    .venv/bin/python bench/mornings.py [--friends 10000] [--runs 5]

A schedule with `send_at = "friend"` has the clock run a pass every 30 s (the sweep) and at each
friend's morning, and work out its next wake after each: on a fresh SQLite database in a
temporary folder, --friends friends in eight timezones, at 23:00 UTC on 3 December (mornings
passing in the east, nobody else due), after a first pass has sent what was due. Prints the
median time of a pass that finds nothing to send and of working out the next wake. A
benchmark, not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from advent.config import load_settings  # noqa: E402
from advent.providers.simulator import Simulator  # noqa: E402
from advent.runtime import build_runtime  # noqa: E402
from advent.sending.catch_up import sender_at  # noqa: E402
from advent.sending.each_morning import send_due_posts  # noqa: E402
from advent.sending.friend_days import next_wake  # noqa: E402
from advent.store.database import make_engine  # noqa: E402
from advent.store.migrate import upgrade  # noqa: E402
from advent.store.tables import Subscriber  # noqa: E402

ZONES = [
    "Europe/London", "America/Toronto", "Australia/Sydney", "Africa/Lagos",
    "Asia/Kolkata", "America/Los_Angeles", "Europe/Paris", "Pacific/Auckland",
]  # fmt: skip
NOW = datetime(2026, 12, 3, 23, 0, tzinfo=UTC)
JOINED = datetime(2026, 11, 30, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--friends", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "instance").mkdir()
        settings = load_settings(
            _env_file=None,
            ADVENT_INSTANCE_DIR=str(folder / "instance"),
            ADVENT_MESSAGES_DIR=str(ROOT / "messages"),
            ADVENT_SCHEDULES_DIR=str(ROOT / "schedules"),
            ADVENT_SEND_RATE="1000",
        )
        upgrade(make_engine(settings.database_url, settings.instance_dir))
        runtime = build_runtime(settings, provider=Simulator(settings.simulator_path, clock=lambda: NOW))
        schedule = runtime.schedule().model_copy(update={"timing": "friend"})
        friends = [
            dict(phone=f"+447911{n:06d}", channel="sms", campaign=schedule.campaign, status="active",
                 timezone=ZONES[n % len(ZONES)], created_at=JOINED, joined_at=JOINED)
            for n in range(options.friends)
        ]  # fmt: skip
        with runtime.session() as session:
            session.execute(insert(Subscriber), friends)
            session.commit()
        passes, wakes = [], []
        for run in range(options.runs + 1):
            started = time.perf_counter()
            with runtime.session() as session:
                send_due_posts(
                    sender_at(session, runtime.provider, settings, NOW), schedule, settings.messages_dir
                )
            passed = time.perf_counter() - started
            started = time.perf_counter()
            with runtime.session() as session:
                next_wake(session, schedule, NOW)
            woke = time.perf_counter() - started
            if run:  # the first pass sends what is due at 23:00 UTC; the rest find nothing
                passes.append(passed)
                wakes.append(woke)
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"SQLite, {options.friends:,} friends in {len(ZONES)} timezones, median of {options.runs} runs: "
        f"a pass with nothing to send {1000 * statistics.median(passes):.0f} ms, "
        f"the next wake {1000 * statistics.median(wakes):.0f} ms"
    )


if __name__ == "__main__":
    main()
