"""What our own bookkeeping costs per message when the provider answers at once.

Not a test (timings depend on the machine): run it and read the figures.

    .venv/bin/python bench/bookkeeping.py [--friends 10000] [--runs 3] [--database-url URL]

Each run builds a fresh migrated database (a SQLite file in a temporary folder, or the
PostgreSQL database named by --database-url, emptied first), puts `--friends` friends on the
list in bulk, and measures, side by side in the same run:

  (a) `send_day`, as `advent send` does, through a provider whose `send` returns at once (the
      simulator with its network step taken out): our bookkeeping alone;
  (b) the simulator's own `send` called once per friend in a bare loop, no database of ours;
  (c) `send_day` through the real simulator (a second day, to the same friends again).
(b) and (c) take the first `--simulated-friends` (1,000) only: the simulator writes each message
to its own SQLite file and 10,000 would take minutes.

Prints messages a second for each, medians over the runs, and the ratio (b) / (c). Targets
(issue 10): (a) at least 1,000 a second on SQLite; (c) within 2x of (b).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advent.config import load_settings  # noqa: E402
from advent.content.posts import load_post  # noqa: E402
from advent.providers.base import OutgoingMessage, SendResult  # noqa: E402
from advent.providers.simulator import Simulator  # noqa: E402
from advent.runtime import build_runtime  # noqa: E402
from advent.sending.days import send_day  # noqa: E402
from advent.sending.dispatch import Sender  # noqa: E402
from advent.store.database import make_engine  # noqa: E402
from advent.store.migrate import upgrade  # noqa: E402
from advent.store.tables import Subscriber  # noqa: E402

DAY = date(2026, 12, 3)
JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SENT_AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class AnswersAtOnce(Simulator):
    """The simulator's bookkeeping-free twin: every send accepted at once, nothing stored."""

    def send(self, message: OutgoingMessage) -> SendResult:
        return SendResult(sid="SM" + uuid.uuid4().hex, status="queued")


def friends_on_the_list(campaign: str, count: int) -> list[dict[str, object]]:
    """`count` SMS friends on the campaign's list, as rows to insert in bulk."""
    return [
        {
            "phone": f"+4479{n:08d}",
            "channel": "sms",
            "campaign": campaign,
            "status": "active",
            "created_at": JOINED,
            "joined_at": JOINED,
        }
        for n in range(count)
    ]


def _fresh_database(folder: Path, database_url: str | None) -> str:
    if database_url is None:
        return f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return database_url


def _one_run(
    friends: int, simulated_friends: int, database_url: str | None, send_at: str | None = None
) -> tuple[float, float, float]:
    """Messages a second: (a) bookkeeping alone, (b) the bare simulator, (c) send_day on it."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "instance").mkdir()
        url = _fresh_database(folder, database_url)
        settings = load_settings(
            _env_file=None,
            ADVENT_INSTANCE_DIR=str(folder / "instance"),
            ADVENT_MESSAGES_DIR=str(ROOT / "messages"),
            ADVENT_SCHEDULES_DIR=str(ROOT / "schedules"),
            ADVENT_SEND_RATE="1000",
            DATABASE_URL=url,
        )
        engine = make_engine(url, settings.instance_dir)
        upgrade(engine)
        provider = AnswersAtOnce(settings.simulator_path, clock=lambda: SENT_AT)
        runtime = build_runtime(settings, provider=provider)
        if send_at:  # the shipped file's `send_at`, or the other way, to compare the two
            runtime.schedules = [s.model_copy(update={"timing": send_at}) for s in runtime.schedules]
        schedule = runtime.schedule()
        people = friends_on_the_list(schedule.campaign, friends)
        with runtime.session() as session:
            session.execute(insert(Subscriber), people)
            session.commit()
        post = load_post(settings.messages_dir, schedule, DAY)

        sender = Sender(runtime.session(), provider, settings, clock=lambda: SENT_AT, sleep=lambda s: None)
        started = time.perf_counter()
        result = send_day(sender, schedule, DAY, post)
        booked = friends / (time.perf_counter() - started)
        assert result.handled == friends, f"sent {result.handled} of {friends}"
        sender.session.close()

        # The simulator writes each message to its own SQLite file: (b) and (c) take the first
        # `simulated_friends` only, so a run stays under two minutes.
        simulator = Simulator(folder / "bare.db", clock=lambda: SENT_AT)
        started = time.perf_counter()
        for person in people[:simulated_friends]:
            simulator.send(OutgoingMessage(reference="0", to=person["phone"], channel="sms", body=post.text))
        bare = simulated_friends / (time.perf_counter() - started)

        # The real simulator behind send_day, on the next day, to the first friends only (the
        # rest are set aside for this day's send).
        with runtime.session() as session:
            session.execute(
                text("UPDATE subscriber SET status = 'removed' WHERE id > :n"), {"n": simulated_friends}
            )
            session.commit()
        later = DAY + timedelta(days=1)
        network = Simulator(folder / "network.db", clock=lambda: SENT_AT + timedelta(days=1))
        sender = Sender(
            runtime.session(),
            network,
            settings,
            clock=lambda: SENT_AT + timedelta(days=1),
            sleep=lambda s: None,
        )
        started = time.perf_counter()
        result = send_day(sender, schedule, later, load_post(settings.messages_dir, schedule, later))
        simulated = simulated_friends / (time.perf_counter() - started)
        assert result.handled == simulated_friends, f"sent {result.handled} of {simulated_friends}"
        sender.session.close()
        runtime.db.dispose()
        engine.dispose()
        return booked, bare, simulated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--friends", type=int, default=10_000)
    parser.add_argument("--simulated-friends", type=int, default=1000, help="for (b) and (c)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", help="a PostgreSQL database to use (emptied first)")
    parser.add_argument(
        "--send-at",
        choices=("friend", "schedule"),
        help="each friend's own morning, or one moment for everyone (default: as the shipped schedule)",
    )
    options = parser.parse_args()
    where = "PostgreSQL" if options.database_url else "SQLite"
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    runs = [
        _one_run(options.friends, options.simulated_friends, options.database_url, options.send_at)
        for _ in range(options.runs)
    ]
    booked, bare, simulated = (statistics.median(r[n] for r in runs) for n in range(3))
    ratio = statistics.median(r[1] / r[2] for r in runs)
    timing = options.send_at or "as shipped"
    print(
        f"{where}, {options.friends} friends ({options.simulated_friends} through the simulator), "
        f"send_at {timing}, median of {options.runs} runs:"
    )
    print(
        f"  (a) send_day, provider answers at once: {booked:,.0f} messages a second "
        f"({1000 / booked:.2f} ms of bookkeeping each; target >= 1,000 a second)"
    )
    print(f"  (b) the simulator in a bare loop:        {bare:,.0f} messages a second")
    print(f"  (c) send_day through the simulator:      {simulated:,.0f} messages a second")
    print(f"  ratio (b) / (c), run by run: {ratio:.2f}x (target: at most 2x)")


if __name__ == "__main__":
    main()
