"""How fast /api/stats, /stats and /alerts answer with 1,000 friends and 24 sent days.

    .venv/bin/python bench/stats_pages.py [--friends 1000] [--days 24] [--runs 20]

Builds a throwaway SQLite database (migrated as in production) in a temporary folder: the
friends join through the real code, then each day's deliveries and their receipts (sent,
delivered, and read for the WhatsApp third) are written in bulk, as a finished December would
leave them, with a few failures. Then it signs in with the Flask test client and prints the
median and worst time of each page over the runs. A benchmark, not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advent import create_app  # noqa: E402
from advent.config import load_settings  # noqa: E402
from advent.organiser import accounts  # noqa: E402
from advent.people.subscriptions import join  # noqa: E402
from advent.runtime import build_runtime  # noqa: E402
from advent.store.database import make_engine  # noqa: E402
from advent.store.migrate import upgrade  # noqa: E402
from advent.store.tables import Delivery, DeliveryEvent, InboundMessage, Subscriber  # noqa: E402

NOW = datetime(2026, 12, 25, 9, 0, tzinfo=UTC)


def seed(runtime, friends: int, days: int) -> None:  # type: ignore[no-untyped-def]
    schedule = runtime.schedule()
    with runtime.session() as session:
        for n in range(friends):
            channel = "whatsapp" if n % 3 == 0 else "sms"
            join(session, schedule, phone=f"+447911{n:06d}", channel=channel, method="keyword",
                 now=datetime(2026, 11, 20, tzinfo=UTC) + timedelta(minutes=n), text="JOIN")  # fmt: skip
        session.commit()
        people = session.execute(select(Subscriber.id, Subscriber.phone, Subscriber.channel)).all()
        for offset in range(days):
            day = date(2026, 12, 1) + timedelta(days=offset)
            at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=8)
            rows, final = [], {}
            for n, (sid, phone, channel) in enumerate(people):
                # Bulk rows as a finished day leaves them (the benchmark's data, not a status change).
                status = "undelivered" if n % 97 == 0 else "read" if channel == "whatsapp" else "delivered"
                final[sid] = status
                rows.append({"subscriber_id": sid, "campaign": schedule.campaign, "day": day, "kind": "post",
                             "channel": channel, "address": phone, "status": status, "attempts": 1,
                             "provider_sid": f"SM{offset:02d}{sid:08d}", "created_at": at, "updated_at": at,
                             "handed_over_at": at})  # fmt: skip
            session.execute(insert(Delivery), rows)
            ids = session.execute(
                select(Delivery.id, Delivery.subscriber_id).where(Delivery.day == day)
            ).all()
            events = []
            for did, sid in ids:
                steps = {"undelivered": ["sent", "undelivered"], "delivered": ["sent", "delivered"]}
                for k, step in enumerate(steps.get(final[sid], ["sent", "delivered", "read"])):
                    events.append({"delivery_id": did, "status": step, "source": "simulator", "applied": True,
                                   "received_at": at + timedelta(seconds=2 * (k + 1))})  # fmt: skip
            session.execute(insert(DeliveryEvent), events)
            # One friend in twenty writes back each day.
            replies = [
                {"phone": p, "channel": c, "body": "Thank you", "kind": "reply", "subscriber_id": s,
                 "campaign": schedule.campaign, "in_reply_to_day": day,
                 "received_at": at + timedelta(hours=1)}
                for s, p, c in people[: friends // 20]
            ]  # fmt: skip
            session.execute(insert(InboundMessage), replies)
        accounts.create(session, "bench", "bench password here", NOW)
        session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--friends", type=int, default=1000)
    parser.add_argument("--days", type=int, default=24)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            _env_file=None,
            ADVENT_INSTANCE_DIR=folder,
            ADVENT_MESSAGES_DIR=str(ROOT / "messages"),
            ADVENT_SCHEDULES_DIR=str(ROOT / "schedules"),
            ADVENT_API_TOKEN="bench-token",
        )
        upgrade(make_engine(settings.database_url))
        runtime = build_runtime(settings)
        runtime.clock = lambda: NOW
        started = time.perf_counter()
        seed(runtime, args.friends, args.days)
        print(f"seeded {args.friends} friends x {args.days} days in {time.perf_counter() - started:.1f} s")
        app = create_app(runtime=runtime)
        client = app.test_client()
        token = {"Authorization": "Bearer bench-token"}
        for path, headers in (("/api/stats", token), ("/stats", None), ("/alerts", None)):
            if headers is None and path == "/stats":
                app.config["WTF_CSRF_ENABLED"] = False
                client.post("/login", data={"name": "bench", "password": "bench password here"})
            timings = []
            for _ in range(args.runs + 1):
                t0 = time.perf_counter()
                answer = client.get(path, headers=headers)
                timings.append((time.perf_counter() - t0) * 1000)
                assert answer.status_code == 200, (path, answer.status_code)
            timings = timings[1:]  # the first warms caches (templates, SQL compilation)
            print(f"GET {path:<11} median {statistics.median(timings):6.1f} ms, worst {max(timings):6.1f} ms")


if __name__ == "__main__":
    main()
