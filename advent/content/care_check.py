"""`advent content check` for the care file: it loads, its list is not empty, its answer gives
the support line, and what the answer costs as an SMS."""

from __future__ import annotations

from pathlib import Path

from advent.content.care import CARE_FILE, CareError, care_path, line_to_give, load_care
from advent.content.check import PostReport, _sms_warnings
from advent.content.schedules import Schedule
from advent.content.segments import count_segments

NAME = "care"


def check_care(messages_dir: Path, schedule: Schedule, configured_line: str = "") -> list[PostReport]:
    """One report on the campaign's care answer (reply `care`), counted as an SMS."""
    path = care_path(messages_dir, schedule)
    report = PostReport(schedule.campaign, 0, path, reply=NAME)
    try:
        care = load_care(messages_dir, schedule)
    except CareError as error:
        report.errors.append(str(error))
        return [report]
    if care.built_in:
        report.warnings.append(
            f"no {CARE_FILE}, so the built-in list of {len(care.phrases)} phrases and its answer are "
            f"used; copy messages/advent-2026/{CARE_FILE} to {path} to make them your own"
        )
    for key in sorted(care.defaulted):
        report.warnings.append(f"{key}: not in {CARE_FILE}, so the built-in words are used")
    text = care.render(
        title=schedule.title,
        organiser="Organiser Name",
        support_line=line_to_give(configured_line, care),
    )
    count = count_segments(text)
    report.encoding, report.segments = count.encoding, count.segments
    report.characters, report.unicode_characters = count.characters, list(count.unicode_characters)
    if "sms" in schedule.channels:
        report.warnings.extend(f"{NAME}: {w}" for w in _sms_warnings(report))
    return [report]
