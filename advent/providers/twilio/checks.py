"""Twilio's set-up, checked against its REST API for `advent doctor`.

Most Twilio set-ups fail silently: a number whose "A message comes in" webhook points elsewhere
swallows every STOP and every join, and a WhatsApp day without a template never arrives. Each
check says in plain words what is wrong and how to fix it.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.rest import Client

from advent.config import Settings, twilio_problems
from advent.providers.base import Finding, fail, ok, warn
from advent.providers.twilio.errors import TWILIO_FAILURES
from advent.providers.twilio.provider import make_client

SANDBOX_NUMBER = "whatsapp:+14155238886"
NUMBERS_PAGE = "Phone Numbers > Manage > Active numbers > (the number) > Messaging"


def inbound_url(settings: Settings) -> str:
    return settings.public_base_url + "/twilio/inbound"


def _same_url(found: str | None, wanted: str) -> bool:
    return (found or "").strip().rstrip("/") == wanted.rstrip("/")


def _twilio_trouble(error: Exception) -> str:
    if isinstance(error, TwilioRestException):
        return f"Twilio answered HTTP {error.status} (error {error.code}): {error.msg}"
    if isinstance(error, TwilioServiceException):
        return f"Twilio answered HTTP {error.status} (error {error.code}): {error.detail}"
    return f"could not reach Twilio: {error}"


def public_url_findings(settings: Settings) -> list[Finding]:
    url = settings.public_base_url
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        address = ipaddress.ip_address(host)
        local = address.is_private or address.is_loopback or address.is_unspecified
    except ValueError:
        local = host == "localhost" or host.endswith(".local") or "." not in host
    tunnel = (
        "during development run a tunnel (ngrok, cloudflared) and set PUBLIC_BASE_URL to its https address"
    )
    if local:
        return [
            fail(
                f"public address: PUBLIC_BASE_URL is {url}, which only this machine or "
                f"network can reach, so Twilio's webhooks cannot arrive; {tunnel}"
            )
        ]
    if parts.scheme != "https":
        return [fail(f"public address: PUBLIC_BASE_URL is {url}; Twilio needs https; {tunnel}")]
    return [ok(f"public address {url} is https and public (in principle)")]


def credential_findings(settings: Settings, client: Client) -> tuple[list[Finding], bool]:
    """The findings, and whether the credentials work (nothing else can be asked otherwise)."""
    try:
        account = client.api.v2010.accounts(settings.twilio_account_sid).fetch()
    except TWILIO_FAILURES as error:
        if isinstance(error, TwilioRestException) and error.status in (401, 403):
            keys = (
                "TWILIO_API_KEY and TWILIO_API_SECRET"
                if settings.twilio_api_key
                else "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
            )
            return [
                fail(
                    f"credentials: Twilio refused them (HTTP {error.status}); copy {keys} "
                    "again from the Twilio console (Account Info on the dashboard)"
                )
            ], False
        return [fail(f"credentials: {_twilio_trouble(error)}")], False
    name = account.friendly_name or settings.twilio_account_sid
    if account.status not in (None, "active"):
        return [
            fail(
                f"credentials: account '{name}' is {account.status}; reactivate it in the "
                "Twilio console before anything can be sent"
            )
        ], False
    found = [ok(f"credentials work (account '{name}')")]
    if settings.twilio_api_key:
        found.append(_auth_token_finding(settings))
    return found, True


def _auth_token_finding(settings: Settings) -> Finding:
    # The API key sends; the Auth Token signs webhooks. A wrong token: every callback gets 403.
    try:
        make_client(settings, use_auth_token=True).api.v2010.accounts(settings.twilio_account_sid).fetch()
    except TWILIO_FAILURES as error:
        return fail(
            f"auth token: {_twilio_trouble(error)}; webhook signatures are checked with "
            "TWILIO_AUTH_TOKEN, so Twilio's texts and receipts would all be refused"
        )
    return ok("auth token works (webhook signatures can be checked)")


def number_findings(settings: Settings, client: Client, check_webhook: bool) -> list[Finding]:
    number = settings.twilio_from
    try:
        listed = client.incoming_phone_numbers.list(phone_number=number, limit=20)
    except TWILIO_FAILURES as error:
        return [fail(f"sender: could not look up {number}: {_twilio_trouble(error)}")]
    owned = [n for n in listed if n.phone_number == number]
    if not owned:
        return [
            fail(
                f"sender: {number} (TWILIO_FROM) is not a phone number of this Twilio "
                "account; buy or port it (Phone Numbers > Manage) or correct TWILIO_FROM"
            )
        ]
    found = owned[0]
    capabilities: dict[str, Any] = found.capabilities or {}
    if not capabilities.get("sms"):
        return [fail(f"sender: {number} cannot send SMS; choose an SMS-capable number")]
    findings = [ok(f"sender {number} belongs to the account and can send SMS")]
    if check_webhook:
        findings.append(_number_webhook(settings, found))
    return findings


def _number_webhook(settings: Settings, found: Any) -> Finding:
    number, wanted = found.phone_number, inbound_url(settings)
    fix = f"set it to {wanted} (HTTP POST) in the Twilio console ({NUMBERS_PAGE})"
    if found.sms_application_sid:
        return fail(
            f"inbound webhook: {number} hands texts to TwiML app "
            f"{found.sms_application_sid}, not to advent; choose 'Webhook' and {fix}"
        )
    if not _same_url(found.sms_url, wanted):
        where = found.sms_url or "nowhere (no webhook is set)"
        return fail(f"inbound webhook: {number} sends texts to {where}; {fix}")
    if (found.sms_method or "POST").upper() != "POST":
        return fail(f"inbound webhook: {number} uses HTTP {found.sms_method}; {fix}")
    return ok(f"inbound webhook: {number} sends texts to {wanted}")


def service_findings(settings: Settings, client: Client) -> tuple[list[Finding], bool]:
    """The Messaging Service's findings, and whether its numbers' own webhooks are used."""
    sid = settings.twilio_messaging_service_sid
    try:
        service = client.messaging.v1.services(sid).fetch()
    except TWILIO_FAILURES as error:
        if isinstance(error, TwilioRestException) and error.status == 404:
            return [
                fail(
                    f"sender: {sid} (TWILIO_MESSAGING_SERVICE_SID) is not a Messaging "
                    "Service of this account; copy its SID from Messaging > Services"
                )
            ], False
        return [fail(f"sender: could not look up {sid}: {_twilio_trouble(error)}")], False
    name = service.friendly_name or sid
    findings = [ok(f"sender: Messaging Service '{name}' exists")]
    if service.use_inbound_webhook_on_number:
        return findings, True
    wanted = inbound_url(settings)
    if _same_url(service.inbound_request_url, wanted):
        findings.append(ok(f"inbound webhook: Messaging Service '{name}' sends texts to {wanted}"))
    else:
        where = service.inbound_request_url or "nowhere (no request URL is set)"
        findings.append(
            fail(
                f"inbound webhook: Messaging Service '{name}' sends texts to {where}; choose 'Send a "
                f"webhook' and set the Request URL to {wanted} in the Twilio console "
                f"(Messaging > Services > {name} > Integration)"
            )
        )
    return findings, False


def whatsapp_findings(settings: Settings, client: Client) -> list[Finding]:
    sender, wanted = settings.twilio_whatsapp_from, inbound_url(settings)
    if sender == SANDBOX_NUMBER:
        return [
            warn(
                f"WhatsApp sandbox: Twilio cannot be asked about its settings; in the console "
                f"(Messaging > Try it out > Send a WhatsApp message > Sandbox settings) set 'When a "
                f"message comes in' to {wanted} (POST). Each friend sends 'join <your code>' first, "
                "and again when the sandbox forgets them after 3 days"
            )
        ]
    try:
        senders = client.messaging.v2.channels_senders.list(channel="whatsapp", limit=200)
    except TWILIO_FAILURES as error:
        return [
            warn(
                f"WhatsApp sender: could not list senders ({_twilio_trouble(error)}); check "
                f"{sender} in the console under Messaging > Senders > WhatsApp senders"
            )
        ]
    match = [s for s in senders if s.sender_id == sender]
    if not match:
        return [
            fail(
                f"WhatsApp sender: {sender} (TWILIO_WHATSAPP_FROM) is not a WhatsApp sender "
                "of this account; register it under Messaging > Senders > WhatsApp senders"
            )
        ]
    status = (match[0].status or "").upper()
    if status and status != "ONLINE":
        return [
            fail(
                f"WhatsApp sender: {sender} is {status}, not ONLINE; finish its set-up in "
                "Messaging > Senders > WhatsApp senders"
            )
        ]
    callback = (match[0].webhook or {}).get("callback_url")
    if callback and not _same_url(callback, wanted):
        return [
            fail(
                f"inbound webhook: {sender} sends WhatsApp messages to {callback}; set its "
                f"webhook URL to {wanted} in Messaging > Senders > WhatsApp senders"
            )
        ]
    return [ok(f"WhatsApp sender {sender} is online")]


def twilio_findings(settings: Settings, client: Client) -> list[Finding]:
    problems = twilio_problems(settings)
    if problems:
        return [fail(f"settings: {problem}") for problem in problems]
    checked, works = credential_findings(settings, client)
    findings = public_url_findings(settings) + checked
    if not works:
        return findings + [warn("sender and webhook checks skipped until the credentials work")]
    per_number = True
    if settings.twilio_messaging_service_sid:
        found, per_number = service_findings(settings, client)
        findings += found
    if settings.twilio_from:
        findings += number_findings(settings, client, check_webhook=per_number)
    if settings.twilio_whatsapp_from:
        findings += whatsapp_findings(settings, client)
    return findings
