"""The content check: every post of a campaign, counted and checked before December.

Pure and never raising for a bad post: each problem becomes an error (the post cannot be
sent) or a warning (it can, but costs more or reaches fewer people than it might).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advent.content.posts import (
    MAX_TEMPLATE_VARIABLES,
    Post,
    PostFile,
    day_mismatch,
    post_file_name,
    post_path,
    read_day_file,
)
from advent.content.promises import broken_promises
from advent.content.schedules import Schedule
from advent.content.segments import Encoding, count_segments
from advent.content.whatsapp import closing_as_variable, post_as_variable, variables_problems

# Beyond two segments an SMS costs more per friend than most of the calendar's days need.
SEGMENT_BUDGET = 2
POST_FILE = re.compile(r"^(\d+)\.md$")
# A WhatsApp template numbers its placeholders {{1}}, {{2}}, ...; ContentVariables keys are
# those numbers as text.
PLACEHOLDER_KEY = re.compile(r"^[1-9][0-9]*$")

# Look-alikes that editors slip in and that have a GSM-7 twin; swapping them keeps the
# whole SMS at 160 characters a segment instead of 70.
PLAIN_ALTERNATIVES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": "a plain space",
    "\u2022": "-",
    "\u00e7": "c",
}


@dataclass
class PostReport:
    """The check's verdict on one day of one campaign."""

    campaign: str
    day: int
    path: Path
    encoding: Encoding | None = None
    segments: int = 0
    characters: int = 0
    unicode_characters: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reply: str | None = None  # set for a reply text (confirmation, help, ...) instead of a post

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "day": self.day,
            "reply": self.reply,
            "path": str(self.path),
            "encoding": self.encoding,
            "segments": self.segments,
            "characters": self.characters,
            "unicode_characters": list(self.unicode_characters),
            "errors": list(self.errors),
            "warnings": list(self.warnings),
        }


def describe_character(char: str) -> str:
    """`’ (U+2019 RIGHT SINGLE QUOTATION MARK)`, with the plain twin when there is one."""
    name = unicodedata.name(char, "unnamed character")
    described = f"{char} (U+{ord(char):04X} {name})"
    plain = PLAIN_ALTERNATIVES.get(char)
    if plain is None:
        return described
    return f"{described}, use {plain if ' ' in plain else repr(plain)} instead"


def _sms_warnings(report: PostReport) -> list[str]:
    warnings = []
    if report.segments > SEGMENT_BUDGET:
        warnings.append(f"costs {report.segments} segments per SMS; keep within {SEGMENT_BUDGET} if you can")
    if report.encoding == "UCS-2":
        forcing = "; ".join(describe_character(c) for c in report.unicode_characters)
        warnings.append(f"sent as UCS-2 (70 characters a segment, not 160) because of: {forcing}")
    return warnings


def _count(report: PostReport, text: str | None, schedule: Schedule) -> None:
    if not text:
        return
    count = count_segments(text)
    report.encoding = count.encoding
    report.segments = count.segments
    report.characters = count.characters
    report.unicode_characters = list(count.unicode_characters)
    # Segments only cost money on SMS; a WhatsApp-only campaign need not fuss over them.
    if "sms" in schedule.channels:
        report.warnings.extend(_sms_warnings(report))


def template_variable_problems(variables: dict[str, str], name: str) -> list[str]:
    """What Twilio's ContentVariables would refuse in `variables`, each naming the key."""
    problems = []
    if len(variables) > MAX_TEMPLATE_VARIABLES:
        problems.append(f"{name}: {len(variables)} variables; Twilio takes at most {MAX_TEMPLATE_VARIABLES}")
    numbers = set()
    for key, value in variables.items():
        if not PLACEHOLDER_KEY.match(key):
            problems.append(
                f'{name}: key "{key}" is not a placeholder number; templates number their '
                'placeholders {{1}}, {{2}}, ..., so use the keys "1", "2", ...'
            )
            continue
        numbers.add(int(key))
        problems.extend(variables_problems({key: value}, name))
    missing = [str(n) for n in range(1, max(numbers, default=0) + 1) if n not in numbers]
    if missing:
        problems.append(
            f"{name}: no {', '.join(repr(key) for key in missing)}; number the variables "
            "1, 2, 3, ... with no gaps, as the template's placeholders are"
        )
    return problems


def _unused_variables(post: Post, schedule: Schedule) -> list[str]:
    """Variables the engine would not send the way the author seems to expect."""
    if post.template_variables and not post.template_sid and not schedule.whatsapp_template_sid:
        return [
            "template_variables are unused: neither this post (template_sid) nor the schedule "
            "(whatsapp_template_sid) names a WhatsApp template"
        ]
    if post.template_sid and not post.template_variables and schedule.whatsapp_template_variables:
        # The engine never mixes: a post's own template goes out with the post's variables only.
        return [
            "template_sid without template_variables: this post's template is sent with no "
            "variables, not the schedule's whatsapp_template_variables; add "
            "template_variables if the template has placeholders"
        ]
    return []


def _check_template(report: PostReport, found: PostFile, schedule: Schedule) -> None:
    post = found.post
    if "whatsapp" not in schedule.channels or post is None:
        return
    if not (post.template_sid or schedule.whatsapp_template_sid):
        report.warnings.append(
            "no WhatsApp template: people outside the 24-hour window cannot receive this day"
        )
    report.errors.extend(template_variable_problems(post.template_variables, "template_variables"))
    report.warnings.extend(_unused_variables(post, schedule))
    if not post.template_sid:
        # Without its own template the post itself is the daily template's variable.
        report.warnings.extend(post_as_variable(post.own_text))
        if post.closing:
            report.warnings.extend(closing_as_variable(post.own_text, post.closing))
    if post.closing and (post.template_sid or schedule.whatsapp_template_sid):
        report.warnings.append(
            "the closing line cannot ride in the WhatsApp template named for this day, whose "
            "words are fixed: friends outside the 24-hour window get the template without it; "
            "put the closing words in that template, or leave it to the approved one `advent "
            "templates create` makes"
        )


def check_schedule_templates(schedule: Schedule, path: Path) -> list[PostReport]:
    """A report on the schedule file when its WhatsApp template variables would be refused."""
    if "whatsapp" not in schedule.channels:
        return []
    problems = template_variable_problems(schedule.whatsapp_template_variables, "whatsapp_template_variables")
    return [PostReport(schedule.campaign, 0, path, errors=problems)] if problems else []


def _report_file(
    name_day: int, found: PostFile, claims: dict[int, list[Path]], schedule: Schedule
) -> PostReport:
    report = PostReport(schedule.campaign, name_day, found.path)
    if found.path.name != post_file_name(name_day):
        report.errors.append(f"file name should be two digits: rename it to {post_file_name(name_day)}")
    if not 1 <= name_day <= schedule.number_of_days:
        report.errors.append(
            f"day {name_day} is outside {schedule.campaign}, which runs "
            f"{schedule.number_of_days} days ({schedule.first_day} to {schedule.last_day}); "
            "remove the file or change the schedule's last_day"
        )
    report.errors.extend(found.problems)
    claimed = found.day if found.day is not None else name_day
    if claimed != name_day:
        report.errors.append(day_mismatch(claimed, found.path.name, name_day))
    others = [path.name for path in claims[claimed] if path != found.path]
    if others:
        report.errors.append(f"duplicate: day {claimed} is also claimed by {', '.join(others)}")
    _count(report, found.text, schedule)
    report.warnings.extend(broken_promises(found.text or ""))
    _check_template(report, found, schedule)
    return report


def _post_files(folder: Path) -> tuple[dict[Path, int], list[Path]]:
    """Post files (NN.md) with the day their name gives, and other .md files to mention."""
    named: dict[Path, int] = {}
    stray: list[Path] = []
    if folder.is_dir():
        for path in sorted(folder.glob("*.md")):
            match = POST_FILE.match(path.name)
            if match:
                named[path] = int(match.group(1))
            else:
                stray.append(path)
    return named, stray


def check_campaign(messages_dir: Path, schedule: Schedule) -> list[PostReport]:
    """One report per day of the schedule, and one per file that is not a day of it."""
    folder = messages_dir / schedule.content
    named, stray = _post_files(folder)
    # The last day's file is read with the closing line it goes out with.
    found = {path: read_day_file(messages_dir, schedule, path, named[path]) for path in named}
    claims: dict[int, list[Path]] = defaultdict(list)
    for path, name_day in named.items():
        day = found[path].day
        claims[day if day is not None else name_day].append(path)
    reports = [_report_file(named[path], found[path], claims, schedule) for path in named]
    covered = {report.day for report in reports}
    for number in range(1, schedule.number_of_days + 1):
        if number not in covered:
            expected = post_path(messages_dir, schedule, number)
            reports.append(
                PostReport(schedule.campaign, number, expected, errors=[f"no post: expected {expected}"])
            )
    for path in stray:
        reports.append(
            PostReport(
                schedule.campaign,
                0,
                path,
                warnings=["ignored: not a post file; posts are named by day number, such as 03.md"],
            )
        )
    return sorted(reports, key=lambda report: (report.day == 0, report.day, str(report.path)))
