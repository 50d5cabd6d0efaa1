"""An engine for webhooks: a write that cannot finish within the budget fails fast.

Twilio waits 15 s for a webhook's answer; a write that waited out ADVENT_DB_LOCK_SECONDS could
miss it, and the text would be lost. With this engine a webhook's write gives up after
ADVENT_WEBHOOK_WRITE_SECONDS, and the request goes to the journal instead.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

from advent.store.database import make_engine


def budget_engine(database_url: str, instance_dir: Path, seconds: float) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        # busy_timeout is the whole wait: BEGIN IMMEDIATE takes the write lock up front.
        return make_engine(database_url, instance_dir, seconds)
    if "connect_timeout" not in url.query:
        # A server that does not answer at all (a dropped packet, not a refusal) is waited for
        # no longer than the budget either; psycopg takes whole seconds, at least 2.
        url = url.update_query_dict({"connect_timeout": str(max(2, round(seconds)))})
    engine = make_engine(url.render_as_string(hide_password=False), instance_dir, seconds)
    milliseconds = round(seconds * 1000)

    @event.listens_for(engine, "begin")
    def _budget(connection) -> None:  # type: ignore[no-untyped-def]
        # SET LOCAL lasts for this transaction only, so a pooled connection carries nothing over.
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {milliseconds}")
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds}")

    return engine
