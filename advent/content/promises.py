"""Promise keeping: the confirmation says nothing will ever be asked of the people on the list.

Pure. Finds wording in a post or reply that would break that promise: a request for money or
donations, a "text GIVE to ..." or premium-rate number, or a link to buy something. These are
warnings for a person to read, not a filter: a post may mention "giving" kindly.
"""

from __future__ import annotations

import re

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(donat(e|es|ion|ions|ing)|fundrais\w*|sponsor (me|us))\b", re.I), "asks for a donation"),
    (
        re.compile(
            r"\b(send|give|pay|transfer|chip in|lend)\b[^.!?]{0,30}"
            r"(money|cash|[£$€]\s?\d|\d+\s?(pounds|dollars|euros|p)\b)",
            re.I,
        ),
        "asks for money",
    ),
    (
        re.compile(r"\b(text|sms|reply)\s+['\"]?[A-Z]{2,}\d*['\"]?\s+to\s+\+?\d{4,}", re.I),
        "asks people to text a keyword to a number (a donation or premium-rate pattern)",
    ),
    # UK premium rate (09..., 118...), 087x/084x service numbers, US 1-900.
    (
        re.compile(r"(?<!\d)(\+44\s?9\d|09\d{2}|118\s?\d{3}|08[47]\d|\+?1[-\s]?900)[\d\s-]{4,}"),
        "names a premium-rate or charged number",
    ),
    (
        re.compile(
            r"\b(buy|order|shop) (now|today|here|online)\b|\b(discount|promo) code\b"
            r"|\b\d{1,2}\s?% off\b|\bcheckout\b",
            re.I,
        ),
        "reads like a sales pitch",
    ),
    (
        re.compile(
            r"https?://\S*(shop|store|buy|checkout|cart|donate|gofundme|paypal|amzn|amazon)"
            r"\S*",
            re.I,
        ),
        "links to a shop or payment page",
    ),
]


def broken_promises(text: str) -> list[str]:
    """One warning per kind of ask found, quoting what was found."""
    found = []
    for pattern, what in _PATTERNS:
        match = pattern.search(text or "")
        if match:
            found.append(
                f'{what} ("{match.group(0).strip()}"): the confirmation promises '
                "nothing will ever be asked of them"
            )
    return found


# A button's title is the whole of what it says, so a bare verb is already an ask: "Donate",
# "Pay", "Sign up" need no money or number beside them to break the promise.
_BUTTON_ASKS = re.compile(
    r"\b(donat\w*|pay|payment|buy|order|shop|purchase|checkout|tip|sponsor|fund\w*|give|"
    r"sign\s?up|register|subscribe|upgrade|book|call|click|visit|download|install|share|forward|"
    r"invite|follow|like|rate|review|vote|support us|tell a friend)\b",
    re.I,
)


def button_asks(title: str) -> str | None:
    """What a quick-reply button's title asks of the friend ("Donate", "sign up"), or None."""
    match = _BUTTON_ASKS.search(title or "")
    if match:
        return match.group(0)
    found = broken_promises(title)
    return found[0].split(":", 1)[0] if found else None
