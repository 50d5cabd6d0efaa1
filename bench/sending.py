"""Rate-limited sending with several messages in flight, through the Twilio provider.

Not a test (timings depend on the machine): run it and read the figures.

    .venv/bin/python bench/sending.py [--messages 1000] [--rates 10,80] [--answer-seconds 0.2]
                                      [--runs 1] [--database-url URL]

For each rate, a fresh migrated database (a SQLite file, or the PostgreSQL database named by
--database-url, emptied first) gets one friend per message, and `send_day` sends the day through
the real Twilio provider to a local Twilio-compatible HTTP double (tests/twilio_double.py, run in
a process of its own by bench/double_process.py, as a carrier is not in the sender's process) that
answers each message `--answer-seconds` after it arrives, serving several requests at once.
Prints the wall time over the ideal (messages / rate; target at most 1.05), the most arrivals
the double saw in any one-second window (target: at most the rate), and how many requests it
was serving at once.

At 10 a second 1,000 messages would take 100 s, so to keep the whole run under two minutes a
rate of 10 a second or less sends `--slow-messages` (300 by default, 30 s) instead.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advent.content.posts import load_post  # noqa: E402
from advent.providers.twilio.provider import TwilioProvider  # noqa: E402
from advent.runtime import build_runtime  # noqa: E402
from advent.sending.days import send_day  # noqa: E402
from advent.sending.dispatch import Sender  # noqa: E402
from advent.store.database import make_engine  # noqa: E402
from advent.store.migrate import upgrade  # noqa: E402
from advent.store.tables import Subscriber  # noqa: E402
from bench.bookkeeping import _fresh_database, friends_on_the_list  # noqa: E402
from bench.double_process import SEEN  # noqa: E402
from tests.twilio_double import twilio_settings  # noqa: E402

DAY = date(2026, 12, 3)
SENT_AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def busiest_second(arrivals: list[float]) -> int:
    """The most arrivals in any one-second window."""
    times = sorted(arrivals)
    return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))


class _Double:
    """The Twilio double in its own process (bench/double_process.py), as a carrier would be."""

    def __init__(self, answer_seconds: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "double_process.py"), str(answer_seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()

    def seen(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.base_url + SEEN, timeout=10) as answer:
            return json.load(answer)

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


def closest_span(arrivals: list[float], count: int) -> float:
    """The shortest time in which `count` arrivals came (over a second for `rate + 1`)."""
    times = sorted(arrivals)
    return min(times[i + count - 1] - times[i] for i in range(len(times) - count + 1))


def _one_run(messages: int, rate: float, answer_seconds: float, database_url: str | None) -> dict[str, float]:
    double = _Double(answer_seconds)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            (folder / "instance").mkdir()
            for name in ("messages", "schedules"):
                (folder / name).symlink_to(ROOT / name)
            url = _fresh_database(folder, database_url)
            settings = twilio_settings(
                folder,
                DATABASE_URL=url,
                ADVENT_SEND_RATE=str(rate),
                TWILIO_API_BASE_URL=double.base_url,
                # The double sends no status callbacks here (nobody listens for them).
                PUBLIC_BASE_URL="http://127.0.0.1:9",
            )
            engine = make_engine(url, settings.instance_dir)
            upgrade(engine)
            provider = TwilioProvider.from_settings(settings)
            runtime = build_runtime(settings, provider=provider)
            schedule = runtime.schedule()
            with runtime.session() as session:
                session.execute(insert(Subscriber), friends_on_the_list(schedule.campaign, messages))
                session.commit()
            post = load_post(settings.messages_dir, schedule, DAY)
            sender = Sender(runtime.session(), provider, settings, clock=lambda: SENT_AT)
            started = time.perf_counter()
            result = send_day(sender, schedule, DAY, post)
            wall = time.perf_counter() - started
            seen = double.seen()
            assert result.handled == messages == seen["created"], (result.handled, seen["created"])
            sender.session.close()
            runtime.db.dispose()
            engine.dispose()
            return {
                "over_ideal": wall / (messages / rate),
                "busiest": busiest_second(seen["arrived"]),
                "closest": closest_span(seen["arrived"], int(rate) + 1),
                "at_once": seen["at_once"],
                "wall": wall,
            }
    finally:
        double.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000, help="messages at rates above 10 a second")
    parser.add_argument(
        "--slow-messages",
        type=int,
        default=300,
        help="messages at 10 a second or less (1,000 would take 100 s)",
    )
    parser.add_argument("--rates", default="10,80", help="messages a second, comma-separated")
    parser.add_argument(
        "--answer-seconds", type=float, default=0.2, help="how long the double takes to answer"
    )
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--database-url", help="a PostgreSQL database to use (emptied first)")
    options = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the double's line per request
    where = "PostgreSQL" if options.database_url else "SQLite"
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{where}; the double answers each message in {options.answer_seconds * 1000:.0f} ms")
    for rate in (float(r) for r in options.rates.split(",")):
        messages = options.slow_messages if rate <= 10 else options.messages
        runs = [
            _one_run(messages, rate, options.answer_seconds, options.database_url)
            for _ in range(options.runs)
        ]
        over = statistics.median(r["over_ideal"] for r in runs)
        busiest = max(r["busiest"] for r in runs)
        at_once = max(r["at_once"] for r in runs)
        wall = statistics.median(r["wall"] for r in runs)
        closest = min(r["closest"] for r in runs)
        print(
            f"  {rate:g} a second, {messages} messages, median of {options.runs}: {wall:.1f} s, "
            f"{over:.3f} x the ideal {messages / rate:.1f} s (target <= 1.05); busiest one-second "
            f"window {busiest} (target <= {rate:g}; the closest {int(rate) + 1} arrivals span "
            f"{closest:.3f} s); at most {at_once} requests at once"
        )


if __name__ == "__main__":
    main()
