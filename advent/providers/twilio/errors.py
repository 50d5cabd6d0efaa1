"""Twilio's error codes and what advent does about each: the one table.

Codes come back two ways: at once, when Twilio refuses to create a message (21xxx, 20429,
HTTP 429/5xx), and later in a status callback's ErrorCode (30xxx, 63xxx). Both are read from
this table, so a code means the same thing wherever it turns up. The README shows the
table as `markdown_table()` renders it, and a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import requests
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from urllib3.exceptions import MaxRetryError, NewConnectionError

from advent.people.phones import redact_numbers
from advent.providers.base import ErrorAction, ProviderError

NO_TEMPLATE = (
    "outside WhatsApp's 24-hour window and no approved template: add template_sid to the post "
    "or whatsapp_template_sid to the schedule"
)


@dataclass(frozen=True)
class TwilioError:
    code: str  # Twilio's code, or a transport case such as "HTTP 429"
    action: ErrorAction
    reason: str  # plain English for the organiser: what happened and what to do
    retry: str  # when, if ever, advent tries again


def _row(code: str, action: ErrorAction, reason: str, retry: str) -> TwilioError:
    return TwilioError(code, action, reason, retry)


A = ErrorAction
AGAIN = "yes, with backoff and jitter, up to ADVENT_SEND_MAX_ATTEMPTS"
# These mostly come in status callbacks, after Twilio took the message: nothing is re-sent then
# (a callback's failure is final under the forward-only status rule).
LATER = "yes if Twilio refuses at once; from a status callback it is recorded, not re-sent"
NEVER = "no"
ROWS = [
    _row(
        "20003",
        A.CAMPAIGN_ALERT,
        "Twilio refused the account credentials; check "
        "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or the API key) and run `advent doctor`",
        "no: fix the settings, then send again",
    ),
    _row("20429", A.RETRY, "Twilio was handling too many requests at once", AGAIN),
    _row("20500", A.RETRY, "Twilio had an internal error", AGAIN + ", after checking it was not sent"),
    _row("20503", A.RETRY, "Twilio was temporarily unavailable", AGAIN + ", after checking it was not sent"),
    _row(
        "21211",
        A.INVALID_NUMBER,
        "the number is not a valid phone number; the friend is "
        "marked invalid until the organiser corrects it",
        NEVER,
    ),
    _row(
        "21212",
        A.CAMPAIGN_ALERT,
        "the sender number (TWILIO_FROM) is not a valid phone number",
        "no: fix TWILIO_FROM",
    ),
    _row(
        "21408",
        A.CAMPAIGN_ALERT,
        "sending to this country is not enabled on the Twilio account; "
        "turn it on in the Twilio console under Messaging > Settings > Geo permissions",
        "no: enable the region, then send again",
    ),
    _row(
        "21606",
        A.CAMPAIGN_ALERT,
        "the sender number (TWILIO_FROM) is not a number of this "
        "Twilio account that can send texts; run `advent doctor`",
        "no: fix TWILIO_FROM",
    ),
    _row(
        "21610",
        A.OPTED_OUT,
        "the friend replied STOP to this number, so Twilio will not deliver "
        "to them; they are marked stopped and can rejoin by texting START",
        NEVER,
    ),
    _row("21611", A.RETRY, "the sender's queue at Twilio is full (hours of messages waiting)", AGAIN),
    _row("21612", A.GIVE_UP, "Twilio cannot carry a message from this sender to this number", NEVER),
    _row(
        "21614",
        A.INVALID_NUMBER,
        "the number is not a mobile (a landline, say) and cannot "
        "receive texts; the friend is marked invalid until given a mobile number",
        NEVER,
    ),
    _row("30001", A.RETRY, "the sender's queue at Twilio overflowed", LATER),
    _row("30003", A.RETRY, "the phone was switched off or out of signal", LATER),
    _row("30004", A.GIVE_UP, "the message was blocked, by the friend or their carrier", NEVER),
    _row("30005", A.GIVE_UP, "the number is unknown or no longer in use", NEVER),
    _row("30006", A.GIVE_UP, "the number is a landline or its carrier cannot be reached", NEVER),
    _row(
        "30007",
        A.CONTENT_ALERT,
        "the carrier filtered the message as spam; reword the post or "
        "register the sender (A2P 10DLC, toll-free verification)",
        "no: fix the content first",
    ),
    _row("30008", A.RETRY, "the carrier reported an unknown error", LATER),
    _row(
        "63003",
        A.INVALID_NUMBER,
        "the number is not on WhatsApp; the friend is marked invalid and can rejoin by SMS",
        NEVER,
    ),
    _row(
        "63007",
        A.CAMPAIGN_ALERT,
        "the WhatsApp sender (TWILIO_WHATSAPP_FROM) is not set up on "
        "this Twilio account; run `advent doctor`",
        "no: fix TWILIO_WHATSAPP_FROM",
    ),
    _row(
        "21655",
        A.CAMPAIGN_ALERT,
        "the WhatsApp template (ContentSid) is not on this account; run "
        "`advent templates status` and make one with `advent templates create`",
        "no: fix the template",
    ),
    _row(
        "63015",
        A.GIVE_UP,
        "the friend has not joined the WhatsApp sandbox, or their 3-day "
        "sandbox session ended; ask them to send the join code again",
        NEVER,
    ),
    _row(
        "63016",
        A.NEEDS_TEMPLATE,
        "WhatsApp refused free-form text outside the friend's 24-hour "
        "window; only an approved template may be sent",
        "once, as the approved template (post or schedule), whether Twilio refuses at once or "
        "in a receipt; without a template the delivery is recorded as needs_template",
    ),
    _row("63018", A.RETRY, "WhatsApp's rate or messaging limit for this sender was reached", LATER),
    _row("63024", A.INVALID_NUMBER, "WhatsApp says this is not a valid recipient", NEVER),
    _row("HTTP 429", A.RETRY, "Twilio asked us to slow down", AGAIN),
    _row(
        "HTTP 5xx", A.RETRY, "Twilio answered with a server error", AGAIN + ", after checking it was not sent"
    ),
    _row(
        "timeout",
        A.RETRY,
        "Twilio did not answer in time (TWILIO_TIMEOUT_SECONDS)",
        AGAIN + ", after checking it was not sent",
    ),
    _row("no connection", A.RETRY, "advent could not reach Twilio (network or DNS)", AGAIN),
]
TABLE: dict[str, TwilioError] = {row.code: row for row in ROWS}


def unknown_code(code: str | None) -> TwilioError:
    if not code:
        return _row("", A.GIVE_UP, "Twilio reported a failure without an error code", NEVER)
    return _row(
        code,
        A.GIVE_UP,
        f"Twilio error {code}, which advent does not know; see https://www.twilio.com/docs/errors/{code}",
        NEVER,
    )


def explain(code: str | int | None) -> tuple[ErrorAction, str]:
    """The action and plain reason for a code from a status callback or a refused send."""
    text = str(code).strip() if code is not None else ""
    row = TABLE.get(text) or unknown_code(text)
    return row.action, row.reason


def markdown_table() -> str:
    """The table as the README shows it."""
    lines = ["| Code | What it means | What advent does | Tried again? |", "|---|---|---|---|"]
    lines += [f"| {r.code} | {r.reason} | {r.action.value} | {r.retry} |" for r in ROWS]
    return "\n".join(lines)


# Twilio's refusals: the classic error body, or the RFC 9457 one some newer APIs send.
Refusal: TypeAlias = TwilioRestException | TwilioServiceException


def _rest_row(error: Refusal) -> TwilioError:
    # With no code in the body the library puts the HTTP status in `code`; read it as one.
    code = str(error.code) if error.code not in (None, error.status) else ""
    if code in TABLE:
        return TABLE[code]
    if error.status == 401:
        return TABLE["20003"]
    if error.status == 429:
        return TABLE["HTTP 429"]
    if error.status >= 500:
        return TABLE["HTTP 5xx"]
    return unknown_code(code or f"HTTP {error.status}")


def _refused_before_sending(error: requests.ConnectionError) -> bool:
    """True when the request never left us (no connection was made), so nothing was sent."""
    if isinstance(error, requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    cause = error.args[0] if error.args else None
    return isinstance(cause, MaxRetryError) and isinstance(cause.reason, NewConnectionError)


# What a call to Twilio can raise besides a bug of ours: turned into ProviderError below.
TWILIO_FAILURES = (TwilioException, requests.RequestException, ValueError)


def provider_error(error: Exception) -> ProviderError:
    """Any failure talking to Twilio as a ProviderError; nothing Twilio-shaped escapes."""
    if isinstance(error, Refusal):
        row = _rest_row(error)
        said = getattr(error, "msg", None) or getattr(error, "detail", None) or error.status
        # Twilio's own words often quote the friend's number; reasons are shown and logged.
        said = redact_numbers(str(said))
        # A 5xx may come after Twilio queued the message: the engine must look before resending.
        return ProviderError(
            f"{row.reason} (Twilio {row.code}: {said})",
            code=row.code,
            action=row.action,
            maybe_sent=error.status >= 500,
        )
    if isinstance(error, requests.ConnectionError) and _refused_before_sending(error):
        row = TABLE["no connection"]
        return ProviderError(f"{row.reason}: {redact_numbers(str(error))}", code=row.code, action=row.action)
    if isinstance(error, requests.Timeout | requests.ConnectionError):
        # The request may have reached Twilio before the answer was lost.
        row = TABLE["timeout"]
        return ProviderError(
            f"{row.reason}: {redact_numbers(str(error))}", code=row.code, action=row.action, maybe_sent=True
        )
    # Anything else (a garbled answer, say): we cannot know whether Twilio took the message.
    return ProviderError(
        f"unexpected answer from Twilio: {redact_numbers(str(error))}",
        code=None,
        action=ErrorAction.RETRY,
        maybe_sent=True,
    )
