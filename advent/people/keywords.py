"""What a text means: join, stop, help, time, or a reply to read. Pure; no database.

Matched on the first word, case-insensitively, ignoring punctuation, and allowing a trailing word
or two ("Stop please", "stop!", " HELP ", WhatsApp's sandbox "join <code>").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

JOIN_WORDS = frozenset({"JOIN", "START", "SUBSCRIBE", "YES", "UNSTOP"})
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
# Words that mean nothing but "stop" count however long the text; everyday words that also
# mean "stop" (cancel, end, quit, revoke) only with a word or two after them, so "Quit smoking
# thanks to you!" is read as the lovely reply it is.
UNMISTAKABLE_STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "OPTOUT"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# "TIME Toronto", "TIME 7:30": when the friend's message comes (advent.people.time_keyword).
TIME_WORDS = frozenset({"TIME"})
# "Yes please" joins; "yes I loved today's one, thank you" is a reply to read.
MAX_TRAILING_WORDS = 2

Kind = Literal["join", "stop", "help", "time", "reply"]
_EDGE_PUNCTUATION = re.compile(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$")


@dataclass(frozen=True)
class Classified:
    kind: Kind
    word: str | None = None  # the keyword as matched, upper case
    campaign_keyword: str | None = None  # a schedule's own join word (e.g. HAPPY), if that matched
    rest: tuple[str, ...] = ()  # the words after the keyword, as written ("7:30", "Toronto")


def classify(text: str, campaign_keywords: frozenset[str] | set[str] = frozenset()) -> Classified:
    words = [_EDGE_PUNCTUATION.sub("", w) for w in (text or "").replace("\x00", " ").split()]
    words = [w for w in words if w]
    if not words:
        return Classified("reply")
    first = words[0].upper()
    keywords = {k.upper() for k in campaign_keywords}
    # An unmistakable STOP is honoured however long the text: a missed STOP is the harm this
    # service exists to avoid, while a mistaken one costs a single "START" to undo.
    if first in UNMISTAKABLE_STOP_WORDS:
        return Classified("stop", first)
    if len(words) > 1 + MAX_TRAILING_WORDS:
        return Classified("reply")
    if first in STOP_WORDS:
        return Classified("stop", first)
    if first in HELP_WORDS:
        return Classified("help", first)
    if first in TIME_WORDS:
        return Classified("time", first, rest=tuple(words[1:]))
    if first in keywords:
        return Classified("join", first, campaign_keyword=first)
    if first in JOIN_WORDS:
        # WhatsApp's sandbox join code ("join lucky-tiger") arrives as JOIN + words.
        second = words[1].upper() if len(words) > 1 else None
        return Classified("join", first, campaign_keyword=second if second in keywords else None)
    return Classified("reply")
