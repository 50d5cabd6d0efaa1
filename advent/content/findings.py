"""The content check's problems as the organiser reads them: errors first, each repeated one once.

A warning that holds for every day (no WhatsApp template, say) would otherwise be printed 24
times and hide the one error that stops a day from being sent. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from advent.content.check import PostReport


@dataclass(frozen=True)
class Finding:
    """One problem, and every place it was found."""

    severity: str  # "error" or "warning"
    message: str
    places: tuple[PostReport, ...]

    @property
    def count(self) -> int:
        return len(self.places)

    def describe(self) -> str:
        """`warning (24 days): no WhatsApp template ... (advent-2026 days 1-24)`, or one place."""
        if self.count == 1:
            return f"{self.severity}: {place(self.places[0])}: {self.message}"
        all_days = all(_is_post(report) for report in self.places)
        noun = "days" if all_days else "places"
        return f"{self.severity} ({self.count} {noun}): {self.message} ({_where_all(self.places)})"


def place(report: PostReport) -> str:
    """Where a report points: `advent-2026 day 07`, `advent-2026 reply help`, or the file."""
    if report.reply:
        return f"{report.campaign} reply {report.reply}"
    if report.day:
        return f"{report.campaign} day {report.day:02d}"
    return report.path.name


def _is_post(report: PostReport) -> bool:
    return not report.reply and report.day > 0


def day_ranges(days: list[int]) -> str:
    """[1, 2, 3, 5, 7, 8] -> "1-3, 5, 7-8"."""
    ranges: list[list[int]] = []
    for day in sorted(set(days)):
        if ranges and day == ranges[-1][1] + 1:
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


def _where_all(reports: tuple[PostReport, ...]) -> str:
    days: dict[str, list[int]] = {}
    others: list[str] = []
    for report in reports:
        if _is_post(report):
            days.setdefault(report.campaign, []).append(report.day)
        else:
            others.append(place(report))
    parts = [f"{campaign} days {day_ranges(numbers)}" for campaign, numbers in days.items()]
    return "; ".join(parts + list(dict.fromkeys(others)))


def findings(reports: list[PostReport]) -> list[Finding]:
    """Errors, then warnings; a problem with the same words in several places is one finding."""
    grouped: dict[tuple[str, str], list[PostReport]] = {}
    for severity in ("error", "warning"):
        for report in reports:
            for message in report.errors if severity == "error" else report.warnings:
                grouped.setdefault((severity, message), []).append(report)
    return [Finding(severity, message, tuple(places)) for (severity, message), places in grouped.items()]
