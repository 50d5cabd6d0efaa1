"""Posting to the webhooks as Twilio does: form-encoded, and signed when the provider is Twilio."""

from __future__ import annotations

from twilio.request_validator import RequestValidator

from tests.twilio_double import AUTH_TOKEN

PUBLIC = "https://advent.example.org"  # PUBLIC_BASE_URL in the twilio test settings


def signed_post(
    client,
    path: str,
    form: dict[str, str],
    *,
    base: str = PUBLIC,
    token: str = AUTH_TOKEN,
    headers: dict[str, str] | None = None,
):
    signature = RequestValidator(token).compute_signature(base + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature, **(headers or {})})


def text_from(
    client, number: str, body: str, *, sid: str | None = None, whatsapp: bool = False, **extra: str
):
    sender = f"whatsapp:{number}" if whatsapp else number
    form = {"From": sender, "To": "+15005550006", "Body": body, "NumMedia": "0", **extra}
    if sid:
        form["MessageSid"] = sid
    return client.post("/twilio/inbound", data=form)


def reply_text(response) -> str:
    """The text inside the TwiML <Message>, or '' when the answer is an empty <Response/>."""
    from xml.etree import ElementTree

    root = ElementTree.fromstring(response.data)
    return " ".join(m.text or "" for m in root.iter("Message"))
