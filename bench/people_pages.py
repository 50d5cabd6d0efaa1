"""How fast the Replies and People pages answer with 1,000 friends and 24 sent days.

    .venv/bin/python bench/people_pages.py

Builds a throw-away database (1,000 people, 24,000 deliveries with an event each, a reply from
every friend every day: 24,000 replies), signs in with the Flask test client and times each
page (median of 20). Rows are written with plain INSERTs to build the data quickly; the pages
read them through the same code as always. Not a test: figures depend on the machine.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from advent import create_app  # noqa: E402
from advent.config import load_settings  # noqa: E402
from advent.runtime import build_runtime  # noqa: E402
from advent.store.database import make_engine  # noqa: E402
from advent.store.migrate import upgrade  # noqa: E402
from advent.store.tables import ConsentEvent, Delivery, DeliveryEvent, InboundMessage, Subscriber  # noqa: E402
from tests.dashboard_helpers import make_organiser, sign_in  # noqa: E402

FRIENDS, DAYS = 1000, 24
START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def build(runtime) -> None:  # type: ignore[no-untyped-def]
    joined = START - timedelta(days=3)
    with runtime.db.begin() as db:
        db.execute(
            insert(Subscriber),
            [
                dict(
                    id=n,
                    phone=f"+447911{n:06d}",
                    channel="sms",
                    campaign="advent-2026",
                    status="active",
                    created_at=joined,
                    joined_at=joined,
                )
                for n in range(1, FRIENDS + 1)
            ],
        )
        db.execute(
            insert(ConsentEvent),
            [
                dict(
                    subscriber_id=n,
                    phone=f"+447911{n:06d}",
                    channel="sms",
                    campaign="advent-2026",
                    kind="opt_in",
                    method="keyword",
                    text_received="HAPPY",
                    created_at=joined,
                )
                for n in range(1, FRIENDS + 1)
            ],
        )
        for d in range(DAYS):
            at = START + timedelta(days=d)
            rows = [
                dict(
                    id=d * FRIENDS + n,
                    subscriber_id=n,
                    campaign="advent-2026",
                    day=at.date(),
                    kind="post",
                    channel="sms",
                    address=f"+447911{n:06d}",
                    status="read",
                    attempts=1,
                    provider_sid=f"SM{d:02d}{n:06d}",
                    created_at=at,
                    updated_at=at,
                )
                for n in range(1, FRIENDS + 1)
            ]
            db.execute(insert(Delivery), rows)
            db.execute(
                insert(DeliveryEvent),
                [
                    dict(delivery_id=r["id"], status="read", source="simulator", applied=True, received_at=at)
                    for r in rows
                ],
            )
            db.execute(
                insert(InboundMessage),
                [
                    dict(
                        phone=f"+447911{n:06d}",
                        channel="sms",
                        body=f"Thank you for day {d + 1}",
                        kind="reply",
                        subscriber_id=n,
                        campaign="advent-2026",
                        in_reply_to_day=at.date(),
                        received_at=at + timedelta(hours=2, seconds=n),
                    )
                    for n in range(1, FRIENDS + 1)
                ],
            )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        settings = load_settings(
            _env_file=None,
            ADVENT_INSTANCE_DIR=str(instance),
            ADVENT_MESSAGES_DIR=str(ROOT / "messages"),
            ADVENT_SCHEDULES_DIR=str(ROOT / "schedules"),
        )
        upgrade(make_engine(settings.database_url, settings.instance_dir))
        runtime = build_runtime(settings)
        runtime.clock = lambda: START + timedelta(days=DAYS)
        build(runtime)
        make_organiser(runtime)
        app = create_app(runtime=runtime)
        client = app.test_client()
        sign_in(client)
        for path in (
            "/replies",
            "/replies?day=2026-12-12",
            "/replies?unread=1&page=3",
            "/people",
            "/people?status=active&page=10",
            "/people/500",
        ):
            times = []
            for _ in range(20):
                began = time.perf_counter()
                answer = client.get(path)
                times.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200, (path, answer.status_code)
            print(f"{path:32} median {statistics.median(times):6.1f} ms   max {max(times):6.1f} ms")


if __name__ == "__main__":
    main()
