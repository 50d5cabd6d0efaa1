"""WhatsApp's rules as the simulated network keeps them: the 24-hour window, and templates.

Free-form text goes only to someone who wrote in the last 24 hours, as the network itself saw it
(note_inbound); outside that window only an approved template goes. A refusal carries Twilio's own
code, so the service takes the same path as live: a retry as the template, or needs_template.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from advent.providers.base import ErrorAction, OutgoingMessage, ProviderError
from advent.providers.simulator.templates import NOT_FOUND, SimulatedTemplates, StoredTemplate

SCHEMA = """
CREATE TABLE IF NOT EXISTS inbound (
    number TEXT NOT NULL, channel TEXT NOT NULL, last_at TEXT NOT NULL,
    PRIMARY KEY (number, channel)
);
"""

WINDOW = timedelta(hours=24)
# Twilio's codes (docs/twilio-reference.md; twilio.com/docs/api/errors/<code>).
OUTSIDE_WINDOW = "63016"  # free-form, or a template not approved, outside the 24-hour window
UNKNOWN_CONTENT = "21655"  # the ContentSid is not a template of this account
EMPTY_VARIABLE = "63013"  # a template variable's value is empty
CODES = {
    OUTSIDE_WINDOW: (
        ErrorAction.NEEDS_TEMPLATE,
        "WhatsApp refused free-form text outside the friend's 24-hour window; "
        "only an approved template may be sent",
    ),
    UNKNOWN_CONTENT: (
        ErrorAction.CAMPAIGN_ALERT,
        "the WhatsApp template's SID is not one this account has; check the SID in the schedule or post",
    ),
    EMPTY_VARIABLE: (ErrorAction.GIVE_UP, "a WhatsApp template variable was empty; give it a value"),
    NOT_FOUND: (ErrorAction.GIVE_UP, "no such WhatsApp template on the simulated network"),
}
IN_WORDS = {
    "not_submitted": "not yet submitted for approval",
    "received": "still waiting for WhatsApp's approval",
    "pending": "still waiting for WhatsApp's approval",
    "paused": "paused by WhatsApp",
    "disabled": "disabled by WhatsApp",
}


@dataclass(frozen=True)
class Content:
    """What the network hands to the phone: the text as the friend reads it."""

    body: str
    media_url: str | None = None
    template_sid: str | None = None
    quick_reply: str | None = None


def _refusal(code: str, reason: str | None = None) -> ProviderError:
    action, plain = CODES[code]
    return ProviderError(reason or plain, code=code, action=action)


class WhatsAppRules:
    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        templates: SimulatedTemplates,
    ) -> None:
        self._connect = connect
        self.templates = templates
        with closing(connect()) as db:
            db.executescript(SCHEMA)

    def note_inbound(self, number: str, channel: str, at: datetime) -> None:
        moment = at.astimezone(UTC).isoformat()
        with closing(self._connect()) as db:
            # Kept as the latest: a text noted late (a retried webhook) never shortens the window.
            db.execute(
                "INSERT INTO inbound (number, channel, last_at) VALUES (?, ?, ?)"
                " ON CONFLICT (number, channel) DO UPDATE SET last_at = MAX(last_at, excluded.last_at)",
                (number, channel, moment),
            )

    def window_open(self, number: str, now: datetime) -> bool:
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT last_at FROM inbound WHERE number = ? AND channel = 'whatsapp'", (number,)
            ).fetchone()
        return row is not None and now - datetime.fromisoformat(row["last_at"]) < WINDOW

    def content(self, message: OutgoingMessage, now: datetime) -> Content:
        """What goes to the phone for this WhatsApp message, or the refusal WhatsApp gives.

        The choice of free-form or template is the Twilio provider's: the template when the
        service says the window is closed, else free-form, and the template once more when the
        network refuses free-form (its window is the one that counts).
        """
        is_open = self.window_open(message.to, now)
        if message.in_session_window and is_open:
            return Content(body=message.body, media_url=message.media_url)
        if not message.template_sid:
            raise _refusal(OUTSIDE_WINDOW)
        return self._template(message, is_open)

    def _template(self, message: OutgoingMessage, is_open: bool) -> Content:
        assert message.template_sid is not None
        template = self.templates.find(message.template_sid)
        if template is None:
            raise _refusal(
                UNKNOWN_CONTENT,
                f"WhatsApp template {message.template_sid} does not exist on this account (the "
                "simulated one); check the SID in the schedule or the post",
            )
        # Inside the window a template needs no approval (it is a reply); outside, it must have it.
        if template.approval != "approved" and not is_open:
            raise _refusal(OUTSIDE_WINDOW, _not_approved(template))
        if template.empty_values(message.template_variables):
            raise _refusal(EMPTY_VARIABLE)
        return Content(
            body=template.render(message.template_variables),
            template_sid=template.sid,
            quick_reply=template.quick_reply,
        )


def _not_approved(template: StoredTemplate) -> str:
    if template.approval == "rejected":
        state = f"rejected by WhatsApp: {template.rejection_reason or 'no reason given'}"
    else:
        state = IN_WORDS.get(template.approval, template.approval)
    return (
        f"WhatsApp refused template {template.sid}: it is {state}, and outside the friend's "
        "24-hour window only an approved template may be sent"
    )
