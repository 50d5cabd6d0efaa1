"""What a webhook says, made fit to store: cleaned rather than refused.

A text refused is a text lost: the provider stops retrying after a few tries, and the person
never hears back. So every value from a webhook is cleaned here before anything is written:
NUL bytes removed (PostgreSQL refuses them in text), lengths clamped to the columns (PostgreSQL
refuses a value one character too long, SQLite would keep it), numbers bounded.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from advent.providers.base import Inbound, StatusReport
from advent.store.tables import DeliveryEvent, InboundMessage

# A network forwards at most 1,600 characters; anything longer is not a text from a phone.
MAX_BODY = 4000
# The raw form kept beside a receipt: enough to read what Twilio said, never unbounded.
MAX_RAW_FIELDS = 60
MAX_RAW_VALUE = 1000
# Delivery ids are PostgreSQL INTEGERs (32 bits): a larger ?delivery= cannot be one of ours.
MAX_DELIVERY_ID = 2**31 - 1


def _limit(column: object) -> int:
    """A column's declared length, read from the table so the two can never disagree."""
    length = getattr(getattr(column, "type", None), "length", None)
    assert isinstance(length, int), f"{column} has no length"
    return length


SID = _limit(InboundMessage.__table__.c.provider_sid)  # type: ignore[attr-defined]
PHONE = _limit(InboundMessage.__table__.c.phone)  # type: ignore[attr-defined]
PROFILE_NAME = _limit(InboundMessage.__table__.c.profile_name)  # type: ignore[attr-defined]
STATUS = _limit(DeliveryEvent.__table__.c.status)  # type: ignore[attr-defined]
ERROR_CODE = _limit(DeliveryEvent.__table__.c.error_code)  # type: ignore[attr-defined]
TOKEN = _limit(DeliveryEvent.__table__.c.idempotency_token)  # type: ignore[attr-defined]


def text(value: str | None, limit: int) -> str:
    """`value` without NULs or unencodable characters, at most `limit` characters."""
    if not value:
        return ""
    # A lone surrogate cannot be stored as UTF-8 on either database; '?' keeps the rest.
    cleaned = value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return cleaned[:limit]


def identifier(value: str | None, limit: int) -> str | None:
    """An id that must stay unique and stable (a message SID, an idempotency token).

    Cutting two long ids to the same prefix would make the second look like a retry of the
    first and lose it; so an id too long keeps its start and ends in a digest of the whole.
    """
    cleaned = text(value, len(value or "")).strip()
    if not cleaned:
        return None
    if len(cleaned) <= limit:
        return cleaned
    digest = hashlib.sha256(cleaned.encode()).hexdigest()[:24]
    return f"{cleaned[: limit - len(digest) - 1]}~{digest}"


def optional(value: str | None, limit: int) -> str | None:
    cleaned = text(value, limit)
    return cleaned or None


def delivery_reference(value: str | None) -> str | None:
    """Our delivery id echoed back in ?delivery=; anything that cannot be one is dropped."""
    if not value or not value.isascii() or not value.isdigit() or len(value) > 12:
        return None
    return value if 0 < int(value) <= MAX_DELIVERY_ID else None


def inbound(message: Inbound) -> Inbound:
    """An inbound text as it can be stored; the body is kept, only made storable."""
    return replace(
        message,
        # Wide enough for "whatsapp:" and any number; a longer sender is no number anyway.
        sender=text(message.sender, PHONE + len("whatsapp:")),
        to=text(message.to, PHONE),
        body=text(message.body, MAX_BODY),
        message_sid=identifier(message.message_sid, SID),
        num_media=min(max(message.num_media, 0), 100),
        profile_name=optional(message.profile_name, PROFILE_NAME),
        provider_kind=optional(message.provider_kind, 10),
    )


def report(received: StatusReport) -> StatusReport:
    """A receipt as it can be stored; an id too long for the column stays distinct."""
    raw = {
        text(key, 64): text(value, MAX_RAW_VALUE)
        for key, value in list(received.raw.items())[:MAX_RAW_FIELDS]
    }
    return replace(
        received,
        sid=identifier(received.sid, SID) or "unknown",
        # Trimmed before it is cut to the column, so a padded status keeps all it can.
        status=text(received.status, len(received.status or "")).strip().lower()[:STATUS],
        error_code=optional(received.error_code, ERROR_CODE),
        reference=delivery_reference(received.reference),
        idempotency_token=identifier(received.idempotency_token, TOKEN),
        raw=raw,
    )
