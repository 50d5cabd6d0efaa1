"""WhatsApp templates through Twilio's Content API (content.twilio.com), with the official library.

Create makes a Content resource (`client.content.v1.contents.create`), submit asks WhatsApp to
approve it (`contents(sid).approval_create.create`), status reads the approval back
(`contents(sid).approval_fetch().fetch()`). Every failure comes out as a ProviderError whose
reason says what went wrong and what to do; nothing Twilio-shaped escapes.
"""

from __future__ import annotations

import re
from typing import Any

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.rest import Client
from twilio.rest.content.v1.content import ContentList
from twilio.rest.content.v1.content.approval_create import ApprovalCreateList

from advent.people.phones import redact_numbers
from advent.providers.base import ErrorAction, ProviderError, TemplateDraft, TemplateState
from advent.providers.twilio.errors import TWILIO_FAILURES

# Twilio's approval states as advent spells them (Twilio changelog 2024-08-12, the approval object).
APPROVAL_STATES = {"received", "pending", "approved", "rejected", "paused", "disabled"}
CONSOLE = "Messaging > Content Template Builder"


class _ContentRequest(ContentList.ContentCreateRequest):
    """The library's request, sending exactly our JSON.

    The generated `to_dict` lists every content type, the ones we do not use as null; sending
    only what we mean keeps the request the same shape as Twilio's own examples."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload)
        self.payload = payload

    def to_dict(self) -> dict[str, Any]:
        return self.payload


class _ApprovalRequest(ApprovalCreateList.ContentApprovalRequest):
    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload)
        self.payload = payload

    def to_dict(self) -> dict[str, Any]:
        return self.payload


def content_json(draft: TemplateDraft) -> dict[str, Any]:
    """The Content resource for a draft: plain text, or text with one quick-reply button."""
    types: dict[str, Any] = {"twilio/text": {"body": draft.body}}
    if draft.quick_reply:
        # WhatsApp shows the button; a channel without quick replies falls back to the text.
        types["twilio/quick-reply"] = {
            "body": draft.body,
            "actions": [{"title": draft.quick_reply, "id": "thanks"}],
        }
    payload: dict[str, Any] = {
        "friendly_name": draft.friendly_name,
        "language": draft.language,
        "types": types,
    }
    if draft.samples:
        payload["variables"] = dict(draft.samples)
    return payload


def _said(error: Exception) -> str:
    said = str(getattr(error, "msg", None) or getattr(error, "detail", None) or error)
    # The library puts "Unable to create record: " before Twilio's own words.
    said = re.sub(r"^Unable to \w+ record: ", "", said)
    return redact_numbers(said)


def template_error(error: Exception, sid: str | None = None) -> ProviderError:
    """A failed Content API call as a sentence for the organiser."""
    if isinstance(error, TwilioRestException | TwilioServiceException):
        code = str(error.code) if error.code not in (None, error.status) else ""
        if error.status in (401, 403) or code == "20003":
            return ProviderError(
                "Twilio refused the account credentials for its Content API (HTTP "
                f"{error.status}); check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or the API key) "
                "and run `advent doctor`",
                code="20003",
                action=ErrorAction.CAMPAIGN_ALERT,
            )
        if error.status == 404 or code == "20404":
            which = f"template {sid}" if sid else "that template"
            return ProviderError(
                f"Twilio has no {which} on this account: it was deleted in the console "
                f"({CONSOLE}) or made with other credentials; make a new one with "
                "`advent templates create`",
                code="20404",
                action=ErrorAction.GIVE_UP,
            )
        retry = error.status == 429 or error.status >= 500
        return ProviderError(
            f"Twilio refused the template request (HTTP {error.status}"
            f"{', error ' + code if code else ''}: {_said(error)})"
            + ("; try again in a few minutes" if retry else ""),
            code=code or f"HTTP {error.status}",
            action=ErrorAction.RETRY if retry else ErrorAction.GIVE_UP,
        )
    if isinstance(error, requests.Timeout):
        why = "did not answer in time (TWILIO_TIMEOUT_SECONDS)"
    elif isinstance(error, requests.ConnectionError):
        why = "could not be reached"
    else:
        why = f"gave an answer advent cannot read ({_said(error)})"
    return ProviderError(
        f"Twilio's Content API (content.twilio.com) {why}; check the internet connection and try again",
        code="timeout" if isinstance(error, requests.Timeout) else "no connection",
        action=ErrorAction.RETRY,
    )


def _approval(raw: object) -> str:
    said = str(raw or "").strip().lower()
    if not said or said == "unsubmitted":
        return "not_submitted"  # no WhatsApp approval asked for yet
    return said if said in APPROVAL_STATES else "unknown"


def _text(value: object) -> str | None:
    return str(value or "").strip() or None


def approval_state(sid: str, friendly_name: str, whatsapp: dict[str, Any] | None) -> TemplateState:
    """Twilio's `whatsapp` approval object as a TemplateState; none yet means not submitted."""
    found = whatsapp or {}
    category = _text(found.get("category"))
    return TemplateState(
        sid=sid,
        friendly_name=_text(found.get("name")) or friendly_name,
        approval=_approval(found.get("status")),
        rejection_reason=_text(found.get("rejection_reason")),
        category=category.upper() if category else None,
    )


class TwilioTemplates:
    """The `Templates` protocol on Twilio."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def create(self, draft: TemplateDraft) -> TemplateState:
        try:
            made = self.client.content.v1.contents.create(_ContentRequest(content_json(draft)))
        except TWILIO_FAILURES as error:
            raise template_error(error) from None
        return TemplateState(
            sid=made.sid or "",
            friendly_name=made.friendly_name or draft.friendly_name,
            approval="not_submitted",
        )

    def submit(self, sid: str, name: str, category: str) -> TemplateState:
        request = _ApprovalRequest({"name": name, "category": category.upper()})
        try:
            asked = self.client.content.v1.contents(sid).approval_create.create(request)
        except TWILIO_FAILURES as error:
            raise template_error(error, sid) from None
        return TemplateState(
            sid=sid,
            friendly_name=asked.name or name,
            approval=_approval(asked.status or "received"),
            rejection_reason=_text(asked.rejection_reason),
            category=(asked.category or category).upper(),
        )

    def status(self, sid: str) -> TemplateState:
        try:
            found = self.client.content.v1.contents(sid).approval_fetch().fetch()
        except TWILIO_FAILURES as error:
            raise template_error(error, sid) from None
        return approval_state(sid, "", found.whatsapp)
