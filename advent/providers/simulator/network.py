"""The built-in phone network: a real provider that delivers to simulated phones.

It keeps its own record in a small SQLite file (the "network's" memory, separate from ours), so
that it survives our crashes exactly as Twilio would: after a restart it can still say what it
sent. Receipts become due after a delay and are collected by the service through the same code
that handles Twilio's status callbacks.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import uuid
from collections.abc import Callable, Mapping
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from advent.config import Settings, local_secret_key
from advent.providers.base import (
    ErrorAction,
    Finding,
    Inbound,
    OutgoingMessage,
    Phone,
    ProviderError,
    SendResult,
    SentRecord,
    StatusReport,
    Templates,
    ok,
)
from advent.providers.simulator.phone import SimulatedPhone
from advent.providers.simulator.templates import Approval, SimulatedTemplates
from advent.providers.simulator.webhooks import LocalWebhooks
from advent.providers.simulator.whatsapp import CODES as WHATSAPP_CODES
from advent.providers.simulator.whatsapp import Content, WhatsAppRules
from advent.providers.twilio import webhooks

SCHEMA = """
CREATE TABLE IF NOT EXISTS sent (
    sid TEXT PRIMARY KEY, reference TEXT, to_number TEXT NOT NULL, channel TEXT NOT NULL,
    kind TEXT NOT NULL, body TEXT NOT NULL, media_url TEXT, template_sid TEXT,
    sent_at TEXT NOT NULL, quick_reply TEXT
);
CREATE INDEX IF NOT EXISTS sent_by_reference ON sent (reference);
CREATE INDEX IF NOT EXISTS sent_by_number ON sent (to_number);
CREATE TABLE IF NOT EXISTS receipt (
    id INTEGER PRIMARY KEY, sid TEXT NOT NULL, reference TEXT, status TEXT NOT NULL,
    error_code TEXT, due_at TEXT NOT NULL, collected INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS receipt_due ON receipt (collected, due_at);
"""

# The simulator's own error codes, explained the way a provider's table would.
UNREACHABLE = "SIM-30003"
BUSY = "SIM-BUSY"
CODES = {
    UNREACHABLE: (ErrorAction.GIVE_UP, "the simulated phone was switched off or out of signal"),
    BUSY: (ErrorAction.RETRY, "the simulated network was busy; try again shortly"),
    **WHATSAPP_CODES,
}


class _KeptOpen(sqlite3.Connection):
    """A connection the simulator keeps for its thread: opening one a message (with its WAL
    setup) cost more than the message. Closing it only ends a transaction left open (an error
    between BEGIN and COMMIT), so the next use starts clean and holds no lock."""

    def close(self) -> None:
        if self.in_transaction:
            self.rollback()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _add_quick_reply(db: sqlite3.Connection) -> None:
    """A network record made before templates carried buttons gets the column it lacks."""
    columns = {row["name"] for row in db.execute("PRAGMA table_info(sent)")}
    if "quick_reply" not in columns:
        db.execute("ALTER TABLE sent ADD COLUMN quick_reply TEXT")


class Simulator:
    name = "simulator"
    # WhatsApp's 24-hour rule holds here as live: a rehearsal that skips it would promise days
    # that never arrive once the list goes live.
    enforces_whatsapp_window = True
    rehearsal = True  # nobody real is texted: drama numbers are fine, data stays out of a live list
    # One call at a time: it answers in microseconds anyway, and its seeded random failures must
    # fall on the same friends in every run (rehearsals and tests compare them).
    sends_in_parallel = False

    def __init__(
        self,
        path: Path,
        *,
        delay_seconds: float = 2.0,
        failure_rate: float = 0.0,
        error_rate: float = 0.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
        approval: Approval | None = None,
        webhook_check: LocalWebhooks | None = None,
    ) -> None:
        self.path = Path(path)
        self.delay = timedelta(seconds=delay_seconds)
        self.failure_rate = failure_rate
        self.error_rate = error_rate
        self.clock = clock
        self.rng = rng or random.Random()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._kept = threading.local()
        with closing(self._connect()) as db:
            db.executescript(SCHEMA)
            _add_quick_reply(db)
        self.phone: Phone | None = SimulatedPhone(self._connect, lambda: self.clock())
        made = SimulatedTemplates(self._connect, lambda: self.clock(), approval or Approval())
        self.templates: Templates = made
        self.whatsapp = WhatsAppRules(self._connect, made)
        self.webhook_check = webhook_check or LocalWebhooks()  # loopback only, unless given a secret

    @classmethod
    def from_settings(cls, settings: Settings) -> Simulator:
        assert settings.simulator_path is not None  # Settings fills it in from the instance folder
        return cls(
            settings.simulator_path,
            delay_seconds=settings.simulator_delay_seconds,
            failure_rate=settings.simulator_failure_rate,
            error_rate=settings.simulator_error_rate,
            approval=Approval(
                seconds=settings.simulator_approval_seconds,
                verdict=settings.simulator_template_verdict,
                reason=settings.simulator_rejection_reason,
            ),
            webhook_check=LocalWebhooks(
                lambda: local_secret_key(settings), trusted_proxies=settings.trusted_proxies
            ),
        )

    def _connect(self) -> sqlite3.Connection:
        """This thread's connection to the network's file, opened once and kept (see _KeptOpen)."""
        kept = getattr(self._kept, "db", None)
        if kept is None or self._kept.pid != os.getpid():  # a forked process opens its own
            kept = sqlite3.connect(self.path, timeout=30, isolation_level=None, factory=_KeptOpen)
            kept.execute("PRAGMA journal_mode=WAL")
            # Survives any crash of ours (SIGKILL included), as Twilio's record would; only a
            # power cut could lose the last messages, which no rehearsal needs to survive.
            kept.execute("PRAGMA synchronous=NORMAL")
            kept.row_factory = sqlite3.Row
            self._kept.db, self._kept.pid = kept, os.getpid()
        return kept

    def send(self, message: OutgoingMessage) -> SendResult:
        if self.error_rate and self.rng.random() < self.error_rate:
            raise ProviderError(CODES[BUSY][1], code=BUSY, action=ErrorAction.RETRY)
        now = self.clock()
        content = (
            self.whatsapp.content(message, now)
            if message.channel == "whatsapp"
            else Content(body=message.body, media_url=message.media_url)
        )
        sid = "SM" + uuid.uuid4().hex
        fails = self.failure_rate and self.rng.random() < self.failure_rate
        steps = ["sent", "undelivered"] if fails else ["sent", "delivered"]
        if message.channel == "whatsapp" and not fails:
            steps.append("read")  # WhatsApp has read receipts; SMS does not
        db = self._connect()
        try:
            # One transaction: the message and its future receipts are recorded together or not at all.
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT INTO sent (sid, reference, to_number, channel, kind, body, media_url,"
                " template_sid, sent_at, quick_reply) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sid,
                    message.reference,
                    message.to,
                    message.channel,
                    message.kind,
                    content.body,
                    content.media_url,
                    content.template_sid,
                    _iso(now),
                    content.quick_reply,
                ),
            )
            for n, status in enumerate(steps, start=1):
                db.execute(
                    "INSERT INTO receipt (sid, reference, status, error_code, due_at) VALUES (?, ?, ?, ?, ?)",
                    (
                        sid,
                        message.reference,
                        status,
                        UNREACHABLE if status == "undelivered" else None,
                        _iso(now + self.delay * n),
                    ),
                )
            db.execute("COMMIT")
        finally:
            db.close()
        return SendResult(sid=sid, status="queued", used_template=content.template_sid is not None)

    def lookup(self, message: OutgoingMessage, since: datetime) -> list[SentRecord] | None:
        # The network remembers everything it accepted, so the answer is always definite.
        db = self._connect()
        try:
            rows = db.execute(
                "SELECT sid, to_number, sent_at FROM sent WHERE reference = ? ORDER BY sent_at",
                (message.reference,),
            ).fetchall()
        finally:
            db.close()
        return [
            SentRecord(
                sid=r["sid"], status="queued", to=r["to_number"], sent_at=datetime.fromisoformat(r["sent_at"])
            )
            for r in rows
        ]

    def fetch_status(self, sid: str) -> StatusReport | None:
        db = self._connect()
        try:
            row = db.execute(
                "SELECT status, error_code, reference FROM receipt WHERE sid = ? AND due_at <= ?"
                " ORDER BY due_at DESC LIMIT 1",
                (sid, _iso(self.clock())),
            ).fetchone()
            known = db.execute("SELECT 1 FROM sent WHERE sid = ?", (sid,)).fetchone()
        finally:
            db.close()
        if row:
            return StatusReport(
                sid=sid, status=row["status"], error_code=row["error_code"], reference=row["reference"]
            )
        return StatusReport(sid=sid, status="queued") if known else None

    def collect_receipts(self, now: datetime) -> list[StatusReport]:
        # Not marked collected here: only once the service has stored them (acknowledge), so a
        # crash in between hands the same receipts over again (their tokens make that harmless).
        db = self._connect()
        try:
            rows = db.execute(
                "SELECT id, sid, reference, status, error_code FROM receipt"
                " WHERE collected = 0 AND due_at <= ? ORDER BY due_at, id",
                (_iso(now),),
            ).fetchall()
        finally:
            db.close()
        return [
            StatusReport(
                sid=r["sid"],
                status=r["status"],
                error_code=r["error_code"],
                reference=r["reference"],
                idempotency_token=f"sim-receipt-{r['id']}",
            )
            for r in rows
        ]

    def acknowledge_receipts(self, reports: list[StatusReport]) -> None:
        ids = [
            (int(r.idempotency_token.removeprefix("sim-receipt-")),)
            for r in reports
            if r.idempotency_token and r.idempotency_token.startswith("sim-receipt-")
        ]
        with closing(self._connect()) as db:
            db.executemany("UPDATE receipt SET collected = 1 WHERE id = ?", ids)

    def explain(self, code: str | None) -> tuple[ErrorAction, str]:
        return CODES.get(code or "", (ErrorAction.GIVE_UP, f"simulated network error {code}"))

    def answers_itself(self, inbound: Inbound) -> bool:
        return False  # the simulated network has no opt-out handling of its own

    def note_inbound(self, number: str, channel: str, at: datetime) -> None:
        self.whatsapp.note_inbound(number, channel, at)

    def setup_findings(self, settings: Settings) -> list[Finding]:
        return [
            ok(
                f"provider: the built-in simulator (ADVENT_PROVIDER=simulator) keeps its "
                f"network in {self.path}; nothing reaches a real phone"
            )
        ]

    # Webhooks: the simulator delivers receipts itself (collect_receipts), but its webhooks take
    # the same form fields as Twilio's, so a rehearsal can post to them from this machine.
    def verify_webhook(
        self,
        url: str,
        form: Mapping[str, str],
        headers: Mapping[str, str],
        *,
        sender_address: str | None = None,
    ) -> bool:
        return self.webhook_check.accepts(url, form, headers, sender_address)

    def read_inbound(self, form: Mapping[str, str]) -> Inbound:
        return webhooks.inbound_from_form(form)

    def read_status(
        self, form: Mapping[str, str], reference: str | None, headers: Mapping[str, str]
    ) -> StatusReport | None:
        return webhooks.status_from_form(form, reference, headers)

    def webhook_answer(self, text: str | None) -> tuple[str, str]:
        return webhooks.twiml(text)

    # What each simulated phone received (tests and the exactly-once proof read these).
    def received_by(self, number: str) -> list[dict[str, str]]:
        db = self._connect()
        try:
            rows = db.execute(
                "SELECT sid, reference, kind, channel, body, media_url, template_sid, quick_reply,"
                " sent_at FROM sent"
                " WHERE to_number = ? ORDER BY sent_at, rowid",
                (number,),
            ).fetchall()
        finally:
            db.close()
        return [dict(r) for r in rows]

    def posts_received(self) -> dict[str, int]:
        """How many posts each number received (for proving exactly-once)."""
        db = self._connect()
        try:
            rows = db.execute(
                "SELECT to_number, COUNT(*) AS n FROM sent WHERE kind = 'post' GROUP BY to_number"
            ).fetchall()
        finally:
            db.close()
        return {r["to_number"]: r["n"] for r in rows}
