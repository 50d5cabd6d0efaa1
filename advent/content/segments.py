"""How many SMS segments a text costs, following GSM 03.38.

Pure: no Twilio, no database. Each segment of a long SMS is billed as one message, so
the organiser sees the count for every post before it goes out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import regex

Encoding = Literal["GSM-7", "UCS-2"]

# The GSM 03.38 default alphabet: each of these costs one 7-bit septet.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

# The extension table: reached through an escape septet, so each costs two.
GSM7_EXTENSION = frozenset("^{}\\[]~|€\f")

GSM7_SINGLE, GSM7_PER_PART = 160, 153
# A concatenated message spends 6 bytes of each segment on the header that reassembles it:
# that is why 160 septets (or 70 UCS-2 units) shrink to 153 (or 67) once a text needs two.
UCS2_SINGLE, UCS2_PER_PART = 70, 67

# One extended grapheme cluster (Unicode UAX #29): what a reader sees as one character, such as
# an emoji with a skin tone, a family joined by zero-width joiners, a flag or a keycap.
GRAPHEME = regex.compile(r"\X")


@dataclass(frozen=True)
class SegmentCount:
    """What one SMS costs.

    `characters` is what a reader would count: grapheme clusters, so a family emoji made of
    seven code points is one character. `units` is what the network counts: septets for
    GSM-7, UTF-16 code units for UCS-2. `unicode_characters` lists the code points (not
    clusters) that forced UCS-2, so each can be named and looked up.
    """

    encoding: Encoding
    segments: int
    characters: int
    units: int
    unicode_characters: list[str] = field(default_factory=list)


def _is_gsm7(char: str) -> bool:
    return char in GSM7_BASIC or char in GSM7_EXTENSION


def _septets(char: str) -> int:
    return 2 if char in GSM7_EXTENSION else 1


def _utf16_units(text: str) -> int:
    # Code points beyond the Basic Multilingual Plane (most emoji) need a surrogate pair.
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def graphemes(text: str) -> list[str]:
    """`text` split into user-perceived characters (extended grapheme clusters)."""
    return GRAPHEME.findall(text)


def _ucs2_costs(clusters: list[str]) -> list[int]:
    """The UTF-16 units of each piece that must stay within one segment."""
    costs = []
    for cluster in clusters:
        units = _utf16_units(cluster)
        if units <= UCS2_PER_PART:
            costs.append(units)
        else:
            # A cluster longer than a whole segment cannot move whole, so it is split between
            # code points; a surrogate pair still stays together.
            costs.extend(_utf16_units(char) for char in cluster)
    return costs


def _pack(costs: list[int], single: int, per_part: int) -> int:
    """Segments needed when no character's units may be split between two segments."""
    total = sum(costs)
    if total <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            # An escape pair, or every unit of an emoji sequence, moves whole into the next
            # segment, leaving the end of this one empty: a phone shows a character split
            # between two segments as two broken ones.
            segments, used = segments + 1, 0
        used += cost
    return segments


def count_segments(text: str) -> SegmentCount:
    """The encoding, segments and units Twilio will bill for `text` sent as one SMS.

    An empty text counts as 0 segments: Twilio refuses an SMS with no body and no media,
    so nothing is sent and nothing is billed. The content check reports empty posts as
    errors before this matters.
    """
    if not text:
        return SegmentCount(encoding="GSM-7", segments=0, characters=0, units=0)
    clusters = graphemes(text)
    forcing = list(dict.fromkeys(char for char in text if not _is_gsm7(char)))
    if not forcing:
        # GSM-7 texts have no multi-part characters but CR LF, which may safely be split.
        costs = [_septets(char) for char in text]
        segments = _pack(costs, GSM7_SINGLE, GSM7_PER_PART)
        return SegmentCount("GSM-7", segments, len(clusters), sum(costs))
    # One character outside GSM-7 (an emoji, a curly quote) switches the whole SMS to
    # UCS-2: 70 characters a segment instead of 160.
    costs = _ucs2_costs(clusters)
    segments = _pack(costs, UCS2_SINGLE, UCS2_PER_PART)
    return SegmentCount("UCS-2", segments, len(clusters), sum(costs), forcing)
