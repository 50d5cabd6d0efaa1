"""The service's own words: confirmation, STOP, HELP and the rest, kept with the content.

Pure: read `messages/<folder>/replies.toml`, fill in the facts of a schedule, and say which
required parts a reply text is missing. The organiser edits the texts; the code checks them.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path

from advent.content.schedules import Schedule

REPLIES_FILE = "replies.toml"
# Every replies file has these; a file without one is refused at start-up.
REQUIRED_NAMES = (
    "confirmation",
    "already",
    "stopped",
    "not_subscribed",
    "help",
    "thanks",
    "full",
    "ended",
    "invite",
)
# The answers to TIME came later: a replies file written before them still loads, with these
# words, until the organiser writes their own.
TIME_DEFAULTS = {
    "time_changed": (
        "{title}: done, your message now comes at {time} {timezone}. {next_post} Reply STOP to stop."
    ),
    "time_now": (
        "{title}: your message comes at {time} {timezone}. {next_post} To change it, reply TIME "
        "and your city or hour, e.g. TIME Toronto or TIME 7:30."
    ),
    "time_unknown": (
        "{title}: sorry, {problem}, so nothing has changed. Reply TIME and your city or an hour, "
        "e.g. TIME Toronto or TIME 7:30."
    ),
    "time_quiet": (
        "{title}: sorry, {problem}, so nothing has changed. Reply TIME and an earlier hour, e.g. TIME 7:30."
    ),
    "time_fixed": (
        "{title}: everyone gets the message at the same time, {time} {timezone}, so there is "
        "nothing to change. Reply STOP to stop."
    ),
}
# The last day's closing line came later still, with the same grace.
CLOSING_DEFAULT = {
    "closing": (
        "That was the last one: {title} has ended and nothing more will come from us. "
        "Thank you for reading along."
    ),
}
LATER_DEFAULTS = {**TIME_DEFAULTS, **CLOSING_DEFAULT}
NAMES = REQUIRED_NAMES + tuple(LATER_DEFAULTS)

# What each reply must contain, as placeholders or words, so the promise is kept whatever the
# organiser writes: who it is from, how to stop, how to get help.
REQUIRED = {
    "confirmation": (
        "{title}",
        "{organiser}",
        "{time}",
        "{first}",
        "{last}",
        "{count}",
        "{rates}",
        "STOP",
        "HELP",
    ),
    "already": ("{title}", "STOP"),
    "stopped": ("{title}", "{keyword}"),
    "help": ("{title}", "{organiser}", "{contact}", "{days_left}", "STOP", "{support}"),
    "thanks": ("{title}", "STOP"),
    "full": ("{title}", "STOP"),
    "ended": ("{title}",),
    "not_subscribed": ("{title}",),
    "invite": ("{organiser}", "{title}", "{keyword}", "{rates}"),
    "time_changed": ("{title}", "{time}", "{timezone}", "{next_post}", "STOP"),
    "time_now": ("{title}", "{time}", "{timezone}", "{next_post}", "TIME"),
    "time_unknown": ("{title}", "{problem}", "TIME"),
    "time_quiet": ("{title}", "{problem}", "TIME"),
    "time_fixed": ("{title}", "{time}", "{timezone}"),
    # The last word a friend gets: that it was the last one, thanks, and that nothing follows.
    "closing": ("LAST", "THANK", "NOTHING MORE"),
}
# The closing line ends the last day's post, which is content: the same words for every friend,
# filled in from the schedule alone (no organiser's settings, no channel, no friend's morning).
CLOSING_PLACEHOLDERS = frozenset({"title", "keyword", "first", "last", "count"})
# Only where each friend's morning is their own: HELP tells them they can move it.
REQUIRED_FOR_EACH_FRIEND = {"help": ("TIME",)}
RATES = " Msg & data rates may apply."
PLACEHOLDERS = frozenset(
    {
        "title",
        "organiser",
        "contact",
        "time",
        "timezone",
        "first",
        "last",
        "count",
        "days_left",
        "keyword",
        "support",
        "rates",
        "next",
        "next_post",
        "problem",
    }
)


class RepliesError(Exception):
    """A replies file that cannot be used; names the file and the problem."""


# Last-resort answers when the organiser's file breaks while the service runs (it is checked at
# start-up, but can be edited after): plain, honest, and never a silent webhook.
FALLBACKS = {
    "confirmation": "{title}: you're in, one message a day. Reply HELP for help, STOP to stop.",
    "already": "{title}: you're already on the list. Reply STOP to stop.",
    "stopped": "{title}: you're unsubscribed and will get nothing more. Text {keyword} to come back.",
    "not_subscribed": "{title}: this number isn't on our list.",
    "help": "{title}: one positive message a day. Reply STOP to stop, {keyword} to join.",
    "thanks": "{title}: thank you, your message is saved. Reply STOP to stop.",
    "full": "{title}: sorry, the list is full; you're on the waiting list. Reply STOP to be removed.",
    "ended": "{title} has finished for this year, thank you.",
    "invite": "You're invited to {title}: one positive message a day. Reply {keyword} to join.",
    **LATER_DEFAULTS,
}


@dataclass(frozen=True)
class Replies:
    texts: dict[str, str]
    path: Path
    # Texts the file does not have, answered with TIME_DEFAULTS' words.
    defaulted: frozenset[str] = frozenset()

    def render(self, name: str, facts: dict[str, str]) -> str:
        try:
            return self.texts[name].format_map(facts).strip()
        except (KeyError, ValueError, IndexError) as error:
            raise RepliesError(
                f"{self.path}: {name}: unknown or broken placeholder {error}; "
                "see the placeholders listed at the top of the file"
            ) from None


def fallback(name: str, facts: dict[str, str]) -> str:
    return FALLBACKS[name].format_map(facts)


def load_replies(messages_dir: Path, schedule: Schedule) -> Replies:
    """The campaign's reply texts. Read again only when the file changes: every inbound text
    needs them, and the organiser's edits still take effect without a restart."""
    path = Path(messages_dir) / schedule.content / REPLIES_FILE
    try:
        changed = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise RepliesError(f"{path}: missing; every campaign needs its reply texts") from None
    return _read_replies(path, changed)


@lru_cache(maxsize=32)
def _read_replies(path: Path, _changed: int) -> Replies:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RepliesError(f"{path}: missing; every campaign needs its reply texts") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise RepliesError(f"{path}: not valid TOML ({error})") from None
    unknown = sorted(set(raw) - set(NAMES))
    defaulted = frozenset(LATER_DEFAULTS) - set(raw)
    raw = {**LATER_DEFAULTS, **raw}
    missing = [name for name in NAMES if not isinstance(raw.get(name), str) or not raw[name].strip()]
    if unknown or missing:
        parts = [
            f"missing {', '.join(missing)}" if missing else "",
            f"unknown {', '.join(unknown)} (known: {', '.join(NAMES)})" if unknown else "",
        ]
        raise RepliesError(f"{path}: " + "; ".join(p for p in parts if p))
    for name in NAMES:
        wrong = unknown_placeholders(raw[name])
        if wrong:
            raise RepliesError(
                f"{path}: {name}: unknown placeholder {', '.join(wrong)}; use only "
                f"{', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))}"
            )
    wrong = unknown_placeholders(raw["closing"], CLOSING_PLACEHOLDERS)
    if wrong:
        raise RepliesError(
            f"{path}: closing: {', '.join(wrong)} cannot fill in there; the closing line ends the "
            "last post, the same words for everyone, so use only "
            f"{', '.join('{' + p + '}' for p in sorted(CLOSING_PLACEHOLDERS))}"
        )
    return Replies({name: raw[name] for name in NAMES}, path, defaulted)


def unknown_placeholders(text: str, known: frozenset[str] = PLACEHOLDERS) -> list[str]:
    """Placeholders that are not plain known names ({title.upper} or {nobody} would not fill)."""
    try:
        fields = [
            field
            for _, field, spec, conversion in string.Formatter().parse(text)
            if field is not None and (field not in known or spec or conversion)
        ]
    except ValueError as error:  # an unmatched { or }
        return [f"({error}; write {{{{ and }}}} for a literal brace)"]
    return [f"{{{field}}}" for field in fields]


def missing_parts(name: str, text: str, *, for_each_friend: bool = False) -> list[str]:
    """Required parts a reply text lacks (placeholders or words), for `advent content check`;
    `for_each_friend`: the schedule sends at each friend's own time."""
    upper = text.upper()
    required = REQUIRED.get(name, ()) + (REQUIRED_FOR_EACH_FRIEND.get(name, ()) if for_each_friend else ())
    return [part for part in required if (part not in text if part.startswith("{") else part not in upper)]


def _short_date(day: date) -> str:
    return f"{day.day} {day:%b}"


def _days_left(schedule: Schedule, today: date, left: int | None) -> str:
    if today > schedule.last_day:
        return "the calendar has finished"
    if today < schedule.first_day:
        return f"{schedule.number_of_days} days from {_short_date(schedule.first_day)}"
    if left is None:
        left = len([d for d in schedule.days() if d >= today])
    if left == 0:
        return "the last one has gone out"
    return f"{left} day{'s' if left != 1 else ''} left"


def facts(
    schedule: Schedule,
    *,
    channel: str,
    today: date,
    organiser: str,
    contact: str,
    support_line: str,
    next_start: date | None = None,
    starting: date | None = None,
    left: int | None = None,
    zone: str | None = None,
    hour: time | None = None,
    next_post: str = "",
    problem: str = "",
) -> dict[str, str]:
    """The values the placeholders stand for, for one schedule, channel and day.

    `starting`: the first post this person will get (a late joiner's first/count say exactly
    what is still to come, not the whole calendar). `left`: how many posts are still to come
    for this person (today's only if it has not reached them yet); without it, every day from
    today on is counted. `zone` and `hour`: this friend's own morning (their zone, or the one
    guessed from their number), when the schedule sends at each friend's own time.
    `next_post` and `problem`: the sentences the answers to TIME fill in.
    """
    first = max(starting or schedule.first_day, schedule.first_day)
    send = datetime.combine(schedule.first_day, schedule.send_time, tzinfo=schedule.tz)
    days_left = _days_left(schedule, today, left)
    clock, where = schedule.send_time, send.tzname() or schedule.timezone
    if schedule.for_each_friend:
        # An abbreviation means nothing across zones ("GMT" to a friend in Toronto); the zone's
        # own name, said as theirs, does.
        clock, where = hour or schedule.send_time, f"your time ({zone or schedule.timezone})"
    return {
        "title": schedule.title,
        "organiser": organiser,
        # With no contact set, the honest answer: replies here reach the organiser.
        "contact": contact or "reply to this number",
        "time": clock.strftime("%H:%M"),
        "timezone": where,
        "first": _short_date(first),
        "last": _short_date(schedule.last_day),
        "count": str(max((schedule.last_day - first).days + 1, 0)),
        "days_left": days_left,
        "keyword": schedule.join_keyword,
        "support": f" If you need someone to talk to now: {support_line}." if support_line else "",
        "rates": RATES if channel == "sms" else "",
        "next": f" The next one starts {_short_date(next_start)}." if next_start else "",
        "next_post": next_post,
        "problem": problem,
    }


def check_reply_texts(messages_dir: Path, schedule: Schedule) -> None:
    """At start-up: every reply text loads and fills in, or RepliesError says which and why."""
    replies = load_replies(messages_dir, schedule)
    example = facts(
        schedule,
        channel="sms",
        today=schedule.first_day,
        organiser="organiser",
        contact="contact",
        support_line="support",
    )
    for name in NAMES:
        replies.render(name, example)


def closing_line(messages_dir: Path, schedule: Schedule) -> str:
    """The closing line the last day's post ends with. Never raises: a replies file broken
    since start-up gives the built-in words, as every other answer falls back, so the last
    post still says it was the last."""
    values = facts(
        schedule, channel="whatsapp", today=schedule.last_day, organiser="", contact="", support_line=""
    )
    try:
        return load_replies(messages_dir, schedule).render("closing", values)
    except RepliesError:
        return fallback("closing", values).strip()
