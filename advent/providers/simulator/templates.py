"""WhatsApp templates on the simulated network: made, submitted, and approved (or not) by a
simulated Meta on the simulator's clock, so a rehearsal waits for approval as a live list would.

The simulated reviewer applies the format rules Meta states (docs/twilio-reference.md, section
10) before the configured verdict: a template that would be rejected for real is rejected here too.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from advent.providers.base import ProviderError, TemplateDraft, TemplateState

SCHEMA = """
CREATE TABLE IF NOT EXISTS template (
    sid TEXT PRIMARY KEY, friendly_name TEXT NOT NULL, language TEXT NOT NULL, body TEXT NOT NULL,
    samples TEXT NOT NULL, quick_reply TEXT, name TEXT, category TEXT, approval TEXT NOT NULL,
    rejection_reason TEXT, created_at TEXT NOT NULL, submitted_at TEXT
);
"""

# Twilio's "resource not found" for a Content SID the account does not have.
NOT_FOUND = "20404"
CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
# WhatsApp's template names: lowercase letters, digits and underscores.
NAME = re.compile(r"^[a-z0-9_]{1,512}$")
WAITING = ("received", "pending")


@dataclass(frozen=True)
class Approval:
    """How the simulated Meta decides: after `seconds` on the simulator's clock, `verdict`."""

    seconds: float = 60.0
    verdict: str = "approve"  # or "reject"
    reason: str = "the template is too generic: say more about what the friend receives and why"


@dataclass(frozen=True)
class StoredTemplate:
    """What the network needs to send a template: its text, samples, button and approval now."""

    sid: str
    body: str
    samples: dict[str, str]
    quick_reply: str | None
    approval: str
    rejection_reason: str | None

    def render(self, variables: dict[str, str]) -> str:
        """The text the friend sees: each placeholder filled with its value, else its sample
        (Twilio falls back to the template's default values when a variable is not sent)."""
        return PLACEHOLDER.sub(
            lambda m: variables.get(m.group(1), self.samples.get(m.group(1), "")), self.body
        )

    def empty_values(self, variables: dict[str, str]) -> list[str]:
        return [
            key
            for key in PLACEHOLDER.findall(self.body)
            if not variables.get(key, self.samples.get(key, "")).strip()
        ]


def format_problem(body: str, samples: dict[str, str]) -> str | None:
    """Why Meta would reject this body's placeholders, in its own terms; None when it would not."""
    text = body.strip()
    if PLACEHOLDER.match(text) or re.search(PLACEHOLDER.pattern + "$", text):
        return "a variable is at the start or the end of the body; put fixed words before and after it"
    if re.search(r"\}\}\s*\{\{", text):
        return "two variables are next to each other; put fixed words between them"
    missing = [key for key in PLACEHOLDER.findall(text) if not samples.get(key, "").strip()]
    if missing:
        return f"variable {{{{{missing[0]}}}}} has no sample value; WhatsApp needs one to review it"
    return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def new_sid() -> str:
    return "HX" + uuid.uuid4().hex  # the shape of a Twilio Content SID: HX + 32 hex


class SimulatedTemplates:
    """The `Templates` protocol on the simulated network, kept in its own SQLite record."""

    def __init__(
        self, connect: Callable[[], sqlite3.Connection], clock: Callable[[], datetime], approval: Approval
    ) -> None:
        self._connect = connect
        self._clock = clock
        self.approval = approval
        with closing(connect()) as db:
            db.executescript(SCHEMA)

    def create(self, draft: TemplateDraft) -> TemplateState:
        if not draft.friendly_name.strip():
            raise ProviderError("a template needs a friendly name; give it one and create it again")
        if not draft.body.strip():
            raise ProviderError("a template needs a body; write its text and create it again")
        if not re.fullmatch(r"[a-z]{2}([_-][A-Za-z]{2})?", draft.language):
            raise ProviderError(
                f"{draft.language!r} is not a language code WhatsApp knows; use one like en or en_GB"
            )
        sid = new_sid()
        with closing(self._connect()) as db:
            db.execute(
                "INSERT INTO template (sid, friendly_name, language, body, samples, quick_reply,"
                " approval, created_at) VALUES (?, ?, ?, ?, ?, ?, 'not_submitted', ?)",
                (
                    sid,
                    draft.friendly_name,
                    draft.language,
                    draft.body,
                    json.dumps(draft.samples),
                    draft.quick_reply,
                    _iso(self._clock()),
                ),
            )
        return self.status(sid)

    def submit(self, sid: str, name: str, category: str) -> TemplateState:
        if not NAME.match(name):
            raise ProviderError(
                f"{name!r} cannot be a WhatsApp template name: use lowercase letters, digits and "
                "underscores only, e.g. advent_2026_daily"
            )
        if category not in CATEGORIES:
            raise ProviderError(
                f"{category!r} is not a WhatsApp category; choose one of {', '.join(CATEGORIES)}"
            )
        row = self._row(sid)
        if row["approval"] != "not_submitted":
            return self.status(sid)  # already with WhatsApp: asking again changes nothing
        with closing(self._connect()) as db:
            db.execute(
                "UPDATE template SET name = ?, category = ?, approval = 'received', submitted_at = ?"
                " WHERE sid = ?",
                (name, category, _iso(self._clock()), sid),
            )
        return self.status(sid)

    def status(self, sid: str) -> TemplateState:
        row = self._decide(self._row(sid))
        return TemplateState(
            sid=row["sid"],
            friendly_name=row["friendly_name"],
            approval=row["approval"],
            rejection_reason=row["rejection_reason"],
            category=row["category"],
        )

    def find(self, sid: str) -> StoredTemplate | None:
        """The template as the network sends it, with its approval as of now; None if unknown."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT * FROM template WHERE sid = ?", (sid,)).fetchone()
        if row is None:
            return None
        row = self._decide(row)
        return StoredTemplate(
            sid=row["sid"],
            body=row["body"],
            samples=json.loads(row["samples"]),
            quick_reply=row["quick_reply"],
            approval=row["approval"],
            rejection_reason=row["rejection_reason"],
        )

    def _row(self, sid: str) -> sqlite3.Row:
        with closing(self._connect()) as db:
            row = db.execute("SELECT * FROM template WHERE sid = ?", (sid,)).fetchone()
        if row is None:
            raise ProviderError(
                f"the simulated network has no WhatsApp template {sid}; check the SID "
                "(HX and 32 hex characters) or create the template first",
                code=NOT_FOUND,
            )
        return row

    def _decide(self, row: sqlite3.Row) -> sqlite3.Row:
        """Move a submitted template on, once, as the simulated reviewer's time has passed."""
        if row["approval"] not in WAITING:
            return row
        now = self._clock()
        submitted = datetime.fromisoformat(row["submitted_at"])
        if now < submitted + timedelta(seconds=self.approval.seconds):
            approval, reason = ("pending" if now > submitted else "received"), None
        else:
            reason = format_problem(row["body"], json.loads(row["samples"]))
            if reason is None and self.approval.verdict == "reject":
                reason = self.approval.reason
            approval = "rejected" if reason else "approved"
        with closing(self._connect()) as db:
            db.execute(
                "UPDATE template SET approval = ?, rejection_reason = ? WHERE sid = ?",
                (approval, reason, row["sid"]),
            )
            return db.execute("SELECT * FROM template WHERE sid = ?", (row["sid"],)).fetchone()
