"""Twilio's webhooks in our terms: the signature, the forms it posts, and the TwiML answer.

Twilio posts form-encoded fields (From, Body, MessageSid, MessageStatus, ...) and signs them
with the account's Auth Token. Its statuses are its own words; "canceled" becomes our
"cancelled" here, so nothing past the provider knows Twilio's spelling.
"""

from __future__ import annotations

from collections.abc import Mapping

from advent.people.keywords import HELP_WORDS, STOP_WORDS
from advent.providers.base import Inbound, StatusReport

# Twilio's spellings that differ from ours.
OUR_STATUS = {"canceled": "cancelled"}
# Advanced Opt-Out tells us what it made of a text in OptOutType.
OPT_OUT_KINDS = {"STOP": "stop", "START": "join", "HELP": "help"}
# Twilio's default opt-out handling on long codes and toll-free numbers: these single words,
# alone in the message, get Twilio's own automatic reply.
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
DEFAULT_WORDS = STOP_WORDS | HELP_WORDS | OPT_IN_WORDS
MAX_MEDIA = 100  # Twilio sends at most 10; anything more is not Twilio


def signature_ok(auth_token: str, url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> bool:
    # The twilio library is imported here, not at the top: the simulator reads its forms through
    # this module too, and commands such as `advent stats` should not load the library.
    from twilio.request_validator import RequestValidator

    signature = headers.get("X-Twilio-Signature", "")
    return bool(signature) and RequestValidator(auth_token).validate(url, form, signature)


def _count(value: str | None) -> int:
    """A count from a form field; anything unreadable counts as none rather than failing."""
    try:
        return min(max(int(value or 0), 0), MAX_MEDIA)
    except ValueError:
        return 0


def inbound_from_form(form: Mapping[str, str]) -> Inbound:
    return Inbound(
        sender=form.get("From", ""),
        to=form.get("To", ""),
        # A tapped quick-reply button is the friend's answer in the button's words; Twilio names
        # it in ButtonText, and the body may come empty.
        body=form.get("Body") or form.get("ButtonText") or "",
        message_sid=form.get("MessageSid") or None,
        num_media=_count(form.get("NumMedia")),
        profile_name=form.get("ProfileName") or None,
        provider_kind=OPT_OUT_KINDS.get((form.get("OptOutType") or "").upper()),
    )


def status_from_form(
    form: Mapping[str, str], reference: str | None, headers: Mapping[str, str]
) -> StatusReport | None:
    sid = form.get("MessageSid") or form.get("SmsSid")
    state = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not sid or not state:
        return None
    return StatusReport(
        sid=sid,
        status=OUR_STATUS.get(state, state),
        error_code=form.get("ErrorCode") or None,
        reference=reference,
        idempotency_token=headers.get("I-Twilio-Idempotency-Token"),
        raw=dict(form.items()),
    )


def twiml(text: str | None) -> tuple[str, str]:
    from twilio.twiml.messaging_response import MessagingResponse

    reply = MessagingResponse()
    if text:
        reply.message(text)
    return str(reply), "text/xml"


def answers_itself(inbound: Inbound, *, handles_sms_opt_out: bool) -> bool:
    """True when Twilio's own opt-out handling has already replied to this SMS.

    Advanced Opt-Out says so outright (OptOutType); otherwise Twilio matches a keyword only as
    the whole message ("STOP", not "Stop please"): anything else reaches us unanswered.
    WhatsApp has no such handling, so there the answer is always ours.
    """
    if inbound.channel != "sms" or not handles_sms_opt_out:
        return False
    return bool(inbound.provider_kind) or (inbound.body or "").strip().upper() in DEFAULT_WORDS
