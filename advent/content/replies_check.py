"""`advent content check` for the reply texts: each says what it must, and what it costs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from advent.content.check import PostReport, _sms_warnings
from advent.content.promises import broken_promises
from advent.content.replies import NAMES, REPLIES_FILE, RepliesError, facts, load_replies, missing_parts
from advent.content.schedules import Schedule
from advent.content.segments import count_segments


def check_replies(messages_dir: Path, schedule: Schedule) -> list[PostReport]:
    """One report per reply text, filled in with example facts and counted as an SMS."""
    path = Path(messages_dir) / schedule.content / REPLIES_FILE
    try:
        replies = load_replies(messages_dir, schedule)
    except RepliesError as error:
        return [PostReport(schedule.campaign, 0, path, errors=[str(error)])]
    first = schedule.first_day
    example = facts(
        schedule,
        channel="sms",
        today=schedule.first_day,
        organiser="Organiser Name",
        contact="organiser@example.org",
        support_line="Support line, 000 000",
        next_start=date(schedule.last_day.year + 1, 12, 1),
        # The longest each is likely to be, so the segment count is not flattering.
        zone="America/Argentina/Buenos_Aires",
        next_post=f"Next one: {first:%a} {first.day} {first:%b}, 07:30.",
        problem='we don\'t know the place "Somewhere over the rainbow"',
    )
    reports = []
    for name in NAMES:
        report = PostReport(schedule.campaign, 0, path, reply=name)
        template = replies.texts[name]
        try:
            text = replies.render(name, example)
        except (KeyError, ValueError, IndexError) as error:
            report.errors.append(
                f"{name}: unknown or broken placeholder {error}; "
                "see the placeholders listed at the top of the file"
            )
            reports.append(report)
            continue
        report.warnings.extend(
            f"{name}: lacks {part}, which this reply must include"
            for part in missing_parts(name, template, for_each_friend=schedule.for_each_friend)
        )
        if name == "closing" and "?" in text:
            report.warnings.append(
                "closing: asks a question; it is the last word of the campaign and nothing "
                "follows it, so it asks nothing"
            )
        if name in replies.defaulted:
            report.warnings.append(f"{name}: not in {REPLIES_FILE}, so the built-in words are used: {text}")
        report.warnings.extend(f"{name}: {w}" for w in broken_promises(text))
        count = count_segments(text)
        report.encoding, report.segments = count.encoding, count.segments
        report.characters, report.unicode_characters = count.characters, list(count.unicode_characters)
        if "sms" in schedule.channels:
            report.warnings.extend(f"{name}: {w}" for w in _sms_warnings(report))
        reports.append(report)
    return reports
