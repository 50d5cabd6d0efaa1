"""Phone numbers: normalised to E.164 with phonenumbers, and masked wherever people may see them.

Pure; used by the domain, the providers and the pages alike.
"""

from __future__ import annotations

import re

import phonenumbers


class InvalidNumber(ValueError):
    """A phone number that cannot be used; the message says why."""


# Ofcom keeps 07700 900000 to 900999 for drama: never anyone's phone, and the numbers a
# tester types first. phonenumbers calls them invalid, as they are on a real network.
DRAMA_NUMBERS = re.compile(r"^\+447700900\d{3}$")


def is_drama_number(e164: str) -> bool:
    return bool(DRAMA_NUMBERS.match(e164))


def normalise_number(
    raw: str, region: str = "GB", *, strict: bool = True, allow_drama_numbers: bool = False
) -> str:
    """E.164 for a number typed by a person or sent by a provider ("whatsapp:+44...").

    `strict` (numbers the organiser types) asks phonenumbers whether the number is assigned;
    numbers the network hands us only need to be possible, because a new range a friend's
    carrier uses may be newer than phonenumbers' metadata. `allow_drama_numbers` accepts the
    UK's drama range too: only for a provider that reaches no real phone (the simulator).
    """
    text = (raw or "").strip().removeprefix("whatsapp:").strip()
    if not text:
        raise InvalidNumber("no phone number given")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise InvalidNumber(f"{text!r} is not a phone number ({error}); use the +44... form") from None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if allow_drama_numbers and is_drama_number(e164):
        return e164
    usable = phonenumbers.is_valid_number if strict else phonenumbers.is_possible_number
    if not usable(parsed):
        raise InvalidNumber(
            f"{text!r} is not a valid phone number for region {region}; "
            "check the digits or write it with its country code, e.g. +447911123456"
        )
    return e164


def mask(phone: str) -> str:
    """+447911123456 -> +44•••••••456: enough to tell people apart, not enough to misuse."""
    if len(phone) <= 6:
        return "•" * len(phone)
    return phone[:3] + "•" * (len(phone) - 6) + phone[-3:]


# Anything that looks like a phone number inside free text (a provider's error message, say).
_NUMBER_IN_TEXT = re.compile(r"\+?\d[\d ()-]{6,}\d")


def redact_numbers(text: str) -> str:
    """Mask every phone-number-like run in `text`, so an error reason can be shown or logged."""
    return _NUMBER_IN_TEXT.sub(lambda m: mask(re.sub(r"[^\d+]", "", m.group(0))), text)


def address(phone: str, channel: str) -> str:
    return f"whatsapp:{phone}" if channel == "whatsapp" else phone
