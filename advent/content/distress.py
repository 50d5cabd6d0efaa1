"""Words that may signal distress, and whether a text contains one. Pure; no files, no database.

A safety net, not a diagnosis: the list errs on the side of caution, because a false alarm
costs one kind message and a miss may cost far more. The organiser edits the list in
`messages/<campaign>/care.toml` (advent.content.care); `DEFAULT_PHRASES` protects a campaign
without one, and is the list that file ships with.

Matching is on whole words, case-insensitive, and forgiving of how people type on a phone:
punctuation and emoji are ignored, apostrophes may be straight, curly or missing ("can't",
"can’t", "cant"), spaces may be doubled, and a few spellings count as one ("cannot" and
"can not" are "can't", "wanna" is "want to", "2" is "to"). So "can't cope" in the list also
catches "CANNOT cope!!" and "cant  cope".

What is deliberately not matched, because no phrase below is part of it: "I'm dying to see
tomorrow's one", "this killed me 😂", "dead tired", "I could kill for a coffee", "hopelessly
devoted", "no pointe shoes". Whole words only, so "skms" is not "kms".
"""

from __future__ import annotations

import re
import unicodedata

# Ships in messages/advent-2026/care.toml too (a test keeps the two the same).
DEFAULT_PHRASES: tuple[str, ...] = (
    # Suicide, said plainly or in the words people text.
    "suicide",
    "suicidal",
    "sucide",
    "suicde",
    "sucidal",
    "suicidle",
    "kill myself",
    "killing myself",
    "kil myself",
    "kms",
    "end my life",
    "ending my life",
    "end it all",
    "end it",
    "ending it",
    "take my own life",
    "take my life",
    "unalive",
    "unalive myself",
    "want to die",
    "wanting to die",
    "wish I was dead",
    "wish I were dead",
    "wish I wasn't here",
    "better off dead",
    "better off without me",
    "don't want to live",
    "don't want to be alive",
    "don't want to be here",
    "don't want to wake up",
    "never wake up",
    "no reason to live",
    "nothing to live for",
    "give up on life",
    "giving up on life",
    "given up on life",
    # Not wanting to go on.
    "can't go on",
    "don't want to go on",
    "can't do this anymore",
    "can't take it anymore",
    "can't take this anymore",
    "can't cope",
    "not coping",
    "no way out",
    "no point",
    "what's the point",
    "life is pointless",
    "everything is pointless",
    "hopeless",
    "feel worthless",
    "I'm worthless",
    "I'm a burden",
    # Self-harm.
    "hurt myself",
    "hurting myself",
    "harm myself",
    "harming myself",
    "self harm",
    "selfharm",
    "cut myself",
    "cutting myself",
    "overdose",
    # Not safe, now or at home.
    "not safe",
    "don't feel safe",
    "unsafe",
    "in danger",
    "scared for my life",
    "hurting me",
    "he hits me",
    "she hits me",
    "they hit me",
    "abusing me",
)

# Spellings that mean the same, so one phrase in the list catches them all. Applied to the
# phrases and to the text alike, after apostrophes are dropped.
_SAME_WORDS = (
    (re.compile(r"\bcan not\b"), "cant"),
    (re.compile(r"\bcannot\b"), "cant"),
    (re.compile(r"\bdo not\b"), "dont"),
    (re.compile(r"\bi am\b"), "im"),
    (re.compile(r"\bwanna\b"), "want to"),
    (re.compile(r"\b2\b"), "to"),
    (re.compile(r"\bmy self\b"), "myself"),
    (re.compile(r"\bany more\b"), "anymore"),
    (re.compile(r"\bwhat is\b"), "whats"),
)
_APOSTROPHES = re.compile(r"['‘’ʼ`´]")
_NOT_A_WORD = re.compile(r"[^\w]+|_+")


def plain_words(text: str) -> str:
    """The text as the matcher sees it: lower case, no apostrophes or punctuation, single
    spaces, common spellings made one ("I CAN’T  cope!!" -> "i cant cope")."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    folded = _NOT_A_WORD.sub(" ", _APOSTROPHES.sub("", folded)).strip()
    folded = " ".join(folded.split())
    for spelling, same in _SAME_WORDS:
        folded = spelling.sub(same, folded)
    return folded


def distress_phrase(text: str, phrases: tuple[str, ...] | list[str]) -> str | None:
    """The first phrase from `phrases` found in `text` as whole words, or None."""
    padded = f" {plain_words(text)} "
    for phrase in phrases:
        wanted = plain_words(phrase)
        if wanted and f" {wanted} " in padded:
            return phrase
    return None
