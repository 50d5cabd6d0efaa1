"""Twilio: SMS and WhatsApp through the official `twilio` library.

Every way a call to Twilio can fail comes out as a ProviderError (see twilio_errors.py); a send
that may have reached Twilio says so (`maybe_sent`), and `lookup` can then tell whether it did.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from requests.adapters import HTTPAdapter
from twilio.base import values
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from advent.config import Settings
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
)
from advent.providers.twilio import webhooks
from advent.providers.twilio.errors import NO_TEMPLATE, TWILIO_FAILURES, explain, provider_error
from advent.providers.twilio.templates import TwilioTemplates

TWILIO_API = "https://api.twilio.com"
# One page of the newest messages to a number. A friend gets one post a day, so a full page
# means far more traffic than a campaign makes: then lookup says it cannot tell.
LOOKUP_LIMIT = 100
# Twilio's clock and ours differ a little; a day's posts are a day apart, so this is safe.
CLOCK_SLACK = timedelta(minutes=2)


# As many as the sender may have in flight (advent.sending.in_flight.MOST_IN_FLIGHT).
CONNECTIONS = 32


class TwilioApiClient(TwilioHttpClient):
    """The library's HTTP client with a timeout, aimed at TWILIO_API_BASE_URL.

    twilio-python 9 hard-codes https://api.twilio.com in its generated domain classes and
    `Client` has no base-URL option (TWILIO_EDGE/REGION only change the host inside twilio.com).
    Every request, paging included, ends up here as a full URL, so swapping the prefix here is
    the one small place that lets a local Twilio-compatible double stand in.
    """

    def __init__(self, base_url: str = TWILIO_API, timeout: float | None = None) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")
        # A connection kept open for every call a send may have in flight: the library keeps
        # min(32, cores + 4) for https (6 on two cores) and requests' default 10 for http (the
        # local double), and each call beyond them opens a new connection (a TLS handshake on
        # the way to Twilio) and closes it after, which cost the 80-a-second send 8% of its time.
        assert self.session is not None  # the library pools connections by default
        for scheme in ("https://", "http://"):
            self.session.mount(scheme, HTTPAdapter(pool_connections=4, pool_maxsize=CONNECTIONS))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self.base_url != TWILIO_API and url.startswith(TWILIO_API + "/"):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def make_client(settings: Settings, *, use_auth_token: bool = False) -> Client:
    """A Client for the account: the API key when there is one, else the Auth Token."""
    # The library logs every request's URL and parameters at INFO, phone numbers included, in
    # any process whose logging shows INFO (the scheduler's does); only its warnings are kept.
    # urllib3 does the same at DEBUG (a lookup's URL carries the number): never below INFO.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)
    http = TwilioApiClient(settings.twilio_api_base_url, settings.twilio_timeout_seconds)
    if settings.twilio_api_key and settings.twilio_api_secret and not use_auth_token:
        username, password = settings.twilio_api_key, settings.twilio_api_secret
    else:
        username, password = settings.twilio_account_sid, settings.twilio_auth_token
    return Client(username, password, settings.twilio_account_sid, http_client=http)


def _words(text: str | None) -> str:
    """Letters and digits only: Twilio may swap quotes or spaces (smart encoding) in a body."""
    return re.sub(r"\W+", "", (text or "").casefold())


class TwilioProvider:
    name = "twilio"
    phone: Phone | None = None  # friends text from their own phones
    enforces_whatsapp_window = True
    rehearsal = False
    # Each call is one HTTP request on the library's session (urllib3's pool is thread-safe).
    sends_in_parallel = True
    # The Content API (create, submit, status) is built on its own branch; declared here so the
    # provider still meets the protocol.
    templates: Templates

    def __init__(
        self,
        client: Client,
        *,
        public_base_url: str,
        sms_from: str = "",
        whatsapp_from: str = "",
        messaging_service_sid: str = "",
        auth_token: str = "",
        handles_sms_opt_out: bool = True,
    ) -> None:
        self.client = client
        self.auth_token = auth_token  # signs webhooks, even when an API key sends
        self.handles_sms_opt_out = handles_sms_opt_out
        self.public_base_url = public_base_url.rstrip("/")
        self.sms_from = sms_from
        self.whatsapp_from = whatsapp_from
        self.messaging_service_sid = messaging_service_sid
        self.templates: Templates = TwilioTemplates(client)
        # The twilio library loads its Messages API modules on first use; load them now, so the
        # first paced send does not arrive late and land in the next slot (no request is made).
        _ = client.messages

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioProvider:
        return cls(
            make_client(settings),
            public_base_url=settings.public_base_url,
            sms_from=settings.twilio_from,
            whatsapp_from=settings.twilio_whatsapp_from,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            auth_token=settings.twilio_auth_token,
            handles_sms_opt_out=settings.twilio_handles_sms_opt_out,
        )

    def address(self, message: OutgoingMessage) -> str:
        return f"whatsapp:{message.to}" if message.channel == "whatsapp" else message.to

    def sender(self, channel: str) -> str:
        """The From address for a channel; "" when a Messaging Service picks it."""
        if self.messaging_service_sid:
            return ""
        sender = self.whatsapp_from if channel == "whatsapp" else self.sms_from
        if not sender:
            setting = "TWILIO_WHATSAPP_FROM" if channel == "whatsapp" else "TWILIO_FROM"
            raise ProviderError(
                f"no {channel} sender is set up: set {setting} or TWILIO_MESSAGING_SERVICE_SID",
                action=ErrorAction.CAMPAIGN_ALERT,
            )
        return sender

    def status_callback(self, message: OutgoingMessage) -> str:
        # The delivery id rides along, so a callback that beats the send's answer still matches.
        return f"{self.public_base_url}/twilio/status?delivery={quote(message.reference)}"

    def _fields(self, message: OutgoingMessage, template: bool) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "to": self.address(message),
            "status_callback": self.status_callback(message),
        }
        sender = self.sender(message.channel)
        if sender:
            fields["from_"] = sender
        else:
            fields["messaging_service_sid"] = self.messaging_service_sid
        if template:
            # Meta refuses a Body outside the window: only the template and its variables go.
            fields["content_sid"] = message.template_sid
            if message.template_variables:
                fields["content_variables"] = json.dumps(message.template_variables)
        else:
            fields["body"] = message.body
            if message.media_url:
                fields["media_url"] = [message.media_url]
        return fields

    def _create(self, message: OutgoingMessage, template: bool) -> SendResult:
        try:
            created = self.client.messages.create(**self._fields(message, template))
        except TWILIO_FAILURES as error:
            raise provider_error(error) from None
        return SendResult(sid=created.sid or "", status=created.status or "queued", used_template=template)

    def send(self, message: OutgoingMessage) -> SendResult:
        if message.channel == "whatsapp" and not message.in_session_window:
            if not message.template_sid:
                raise ProviderError(NO_TEMPLATE, action=ErrorAction.NEEDS_TEMPLATE)
            return self._create(message, template=True)
        try:
            return self._create(message, template=False)
        except ProviderError as error:
            # Our idea of the window can be wrong (it is Meta's clock that counts): use the
            # template once instead of giving up on the day.
            if error.code == "63016" and message.channel == "whatsapp" and message.template_sid:
                return self._create(message, template=True)
            raise

    def _is_ours(self, found: Any, message: OutgoingMessage, since: datetime) -> bool:
        if found.direction not in (None, "outbound-api"):
            return False  # replies (outbound-reply) and inbound texts are not posts
        created = found.date_created or found.date_sent
        if created is not None and created < since - CLOCK_SLACK:
            return False
        # Contained, not equal: a trial account puts "Sent from your Twilio trial account - "
        # in front of every body.
        ours = _words(message.body)
        if ours and ours in _words(found.body):
            return True
        # A template's body is Twilio's rendering of it, so it cannot be matched word for word.
        return message.channel == "whatsapp" and bool(message.template_sid)

    def lookup(self, message: OutgoingMessage, since: datetime) -> list[SentRecord] | None:
        """What Twilio accepted for this message since `since`; None when it cannot tell.

        No DateSent filter: it matches by date only, and a message still queued has no
        DateSent yet, so filtering on it could hide the very send we are looking for.
        """
        try:
            sender = self.sender(message.channel)
            listed = self.client.messages.list(
                to=self.address(message),
                from_=sender or values.unset,
                limit=LOOKUP_LIMIT,
                page_size=LOOKUP_LIMIT,
            )
        except (ProviderError, *TWILIO_FAILURES):
            return None
        ours = [m for m in listed if self._is_ours(m, message, since)]
        if not ours and len(listed) >= LOOKUP_LIMIT:
            return None
        ours.sort(key=lambda m: m.date_created or since)
        return [
            SentRecord(sid=m.sid, status=m.status or "queued", to=m.to or message.to, sent_at=m.date_created)
            for m in ours
        ]

    def fetch_status(self, sid: str) -> StatusReport | None:
        try:
            found = self.client.messages(sid).fetch()
        except TWILIO_FAILURES:
            return None
        code = str(found.error_code) if found.error_code else None
        status = found.status or "queued"
        return StatusReport(sid=sid, status=webhooks.OUR_STATUS.get(status, status), error_code=code)

    def collect_receipts(self, now: datetime) -> list[StatusReport]:
        return []  # Twilio pushes status callbacks to /twilio/status

    def acknowledge_receipts(self, reports: list[StatusReport]) -> None:
        """Nothing to do: a callback is acknowledged by the webhook's 200."""

    def explain(self, code: str | None) -> tuple[ErrorAction, str]:
        return explain(code)

    def answers_itself(self, inbound: Inbound) -> bool:
        return webhooks.answers_itself(inbound, handles_sms_opt_out=self.handles_sms_opt_out)

    def note_inbound(self, number: str, channel: str, at: datetime) -> None:
        """Nothing to do: Twilio (and Meta) see every inbound text themselves."""

    def setup_findings(self, settings: Settings) -> list[Finding]:
        # Imported here: the REST checks are only for `advent doctor`, never for a send.
        from advent.providers.twilio.checks import twilio_findings

        return twilio_findings(settings, self.client)

    def verify_webhook(
        self,
        url: str,
        form: Mapping[str, str],
        headers: Mapping[str, str],
        *,
        sender_address: str | None = None,  # Twilio's requests prove themselves by signature only
    ) -> bool:
        return webhooks.signature_ok(self.auth_token, url, form, headers)

    def read_inbound(self, form: Mapping[str, str]) -> Inbound:
        return webhooks.inbound_from_form(form)

    def read_status(
        self, form: Mapping[str, str], reference: str | None, headers: Mapping[str, str]
    ) -> StatusReport | None:
        return webhooks.status_from_form(form, reference, headers)

    def webhook_answer(self, text: str | None) -> tuple[str, str]:
        return webhooks.twiml(text)
