"""Replies that need a human: the campaign's `care.toml` (the phrases that may signal distress,
the kind answer, the support line), or the built-in one when a campaign has none. Pure.

A campaign without the file is still protected: the built-in list and answer are used, and
`advent content check` says so. A file broken while the service runs is never a reason to miss
someone: the built-in list answers meanwhile and the organiser is told (advent.people.care).
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from advent.content.distress import DEFAULT_PHRASES, distress_phrase, plain_words
from advent.content.schedules import Schedule

CARE_FILE = "care.toml"
# A free line that answers day and night; the organiser's ADVENT_SUPPORT_LINE comes first.
DEFAULT_SUPPORT_LINE = "Samaritans, free, day or night, on 116 123"
# Warm and short; asks nothing of them; says a person now knows and will reach out; gives the line.
DEFAULT_ANSWER = (
    "{title}: thank you for telling us. That sounds really hard, and you don't have to face it "
    "alone. {organiser} has been told and will be in touch. To talk to someone now: "
    "{support_line}. If you are in danger, call the emergency services."
)
PLACEHOLDERS = frozenset({"title", "organiser", "support_line"})
KEYS = ("phrases", "answer", "support_line")


class CareError(Exception):
    """A care file that cannot be used; names the file and the problem."""


@dataclass(frozen=True)
class Care:
    phrases: tuple[str, ...]
    answer: str
    support_line: str
    path: Path
    # No care.toml: the built-in phrases, answer and line.
    built_in: bool = False
    # Keys the file leaves out, answered with the built-in words.
    defaulted: frozenset[str] = frozenset()

    def phrase_in(self, text: str) -> str | None:
        """The phrase that makes this text one for a human, or None."""
        return distress_phrase(text, self.phrases)

    def render(self, *, title: str, organiser: str, support_line: str) -> str:
        """The answer, with `support_line` the line to give (see `line_to_give`)."""
        return self.answer.format_map(
            {"title": title, "organiser": organiser, "support_line": support_line}
        ).strip()


def line_to_give(configured: str, care: Care) -> str:
    """The support line the care answer gives: the organiser's ADVENT_SUPPORT_LINE when set,
    else the campaign's care.toml, else the built-in free 24-hour line."""
    return configured.strip() or care.support_line or DEFAULT_SUPPORT_LINE


def built_in(path: Path) -> Care:
    return Care(DEFAULT_PHRASES, DEFAULT_ANSWER, DEFAULT_SUPPORT_LINE, path, built_in=True)


def care_path(messages_dir: Path, schedule: Schedule) -> Path:
    return Path(messages_dir) / schedule.content / CARE_FILE


def load_care(messages_dir: Path, schedule: Schedule) -> Care:
    """The campaign's care file, or the built-in one when it has none; CareError when broken.
    Read again only when the file changes, so the organiser's edits apply without a restart."""
    path = care_path(messages_dir, schedule)
    try:
        changed = path.stat().st_mtime_ns
    except FileNotFoundError:
        return built_in(path)
    return _read_care(path, changed)


@lru_cache(maxsize=32)
def _read_care(path: Path, _changed: int) -> Care:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return built_in(path)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CareError(f"{path}: not valid TOML ({error})") from None
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise CareError(f"{path}: unknown {', '.join(unknown)} (known: {', '.join(KEYS)})")
    phrases = _phrases(path, raw.get("phrases"))
    answer = _text(path, raw, "answer", DEFAULT_ANSWER)
    line = _text(path, raw, "support_line", DEFAULT_SUPPORT_LINE)
    wrong = unknown_placeholders(answer)
    if wrong:
        raise CareError(
            f"{path}: answer: unknown placeholder {', '.join(wrong)}; use only "
            f"{', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))}"
        )
    if "{support_line}" not in answer and line not in answer:
        raise CareError(
            f"{path}: answer: lacks {{support_line}}; the answer must give the support line every time"
        )
    defaulted = frozenset(key for key in ("answer", "support_line") if key not in raw)
    return Care(phrases, answer, line, path, defaulted=defaulted)


def _phrases(path: Path, raw: object) -> tuple[str, ...]:
    if raw is None:
        raise CareError(
            f'{path}: no phrases; write phrases = ["can\'t cope", ...], or delete the file '
            "to use the built-in list"
        )
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise CareError(f"{path}: phrases must be a list of words in quotes")
    empty = [p for p in raw if not plain_words(p)]
    if empty:
        raise CareError(f"{path}: phrases: {', '.join(repr(p) for p in empty)} has no words to look for")
    if not raw:
        # An empty list would switch the safety net off without a word; refused.
        raise CareError(
            f"{path}: phrases is empty; a campaign always needs the list (the built-in one "
            "is used if you delete the file)"
        )
    return tuple(raw)


def _text(path: Path, raw: dict, key: str, default: str) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise CareError(
            f"{path}: {key} is empty; write it in quotes, or leave the line out for the built-in one"
        )
    return value


def unknown_placeholders(text: str) -> list[str]:
    try:
        fields = [
            field
            for _, field, spec, conversion in string.Formatter().parse(text)
            if field is not None and (field not in PLACEHOLDERS or spec or conversion)
        ]
    except ValueError as error:  # an unmatched { or }
        return [f"({error}; write {{{{ and }}}} for a literal brace)"]
    return [f"{{{field}}}" for field in fields]
