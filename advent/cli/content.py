"""`advent content`: look at the posts before they go out. Thin: the checks live in the domain."""

from __future__ import annotations

import json
from pathlib import Path

import click

from advent.config import load_settings
from advent.content.care_check import check_care
from advent.content.check import PostReport, check_campaign, check_schedule_templates
from advent.content.findings import findings, place
from advent.content.replies_check import check_replies
from advent.content.schedules import ScheduleError, load_schedules


@click.group(help="Write and check the daily posts in the messages folder.")
def content() -> None:
    pass


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _headline(report: PostReport) -> str:
    where = place(report)
    if report.encoding is None:
        line = f"{where}  not counted"
    else:
        line = (
            f"{where}  {report.encoding}  {_plural(report.segments, 'segment')}  "
            f"{_plural(report.characters, 'char')}"
        )
    # The problems themselves are listed once, below the table, so a repeated one is one line.
    if report.errors:
        line += f"  ({_plural(len(report.errors), 'error')}, see below)"
    return line


def _print_human(reports: list[PostReport]) -> None:
    for report in reports:
        click.echo(_headline(report))
    found = findings(reports)
    if found:
        click.echo("")
    for finding in found:
        click.echo(finding.describe())
    errors = sum(len(report.errors) for report in reports)
    warnings = sum(len(report.warnings) for report in reports)
    # Reports on a schedule file or a broken replies file are neither posts nor reply texts.
    posts = sum(1 for report in reports if not report.reply and report.path.suffix == ".md")
    replies = sum(1 for report in reports if report.reply)
    click.echo(
        f"{_plural(posts, 'post')} checked ({_plural(replies, 'reply text')} too), "
        f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
    )


def _folders(messages_dir: Path | None, schedules_dir: Path | None) -> tuple[Path, Path]:
    """The folders given as options, else the project's settings (environment, then .env).

    Settings are read only when an option is missing, so an explicit check still runs while an
    unrelated setting is broken; a bad setting raises ConfigError, which `advent` shows and
    turns into exit status 2 like every other command.
    """
    if messages_dir is None or schedules_dir is None:
        settings = load_settings()
        messages_dir = messages_dir or settings.messages_dir
        schedules_dir = schedules_dir or settings.schedules_dir
    return messages_dir, schedules_dir


@content.command(help="Check every campaign's posts: all days present, valid, and SMS cost.")
@click.option(
    "--messages-dir",
    type=click.Path(path_type=Path),
    help="Folder holding one folder of posts per campaign. [default: ADVENT_MESSAGES_DIR "
    "from the environment or .env, else messages]",
)
@click.option(
    "--schedules-dir",
    type=click.Path(path_type=Path),
    help="Folder holding one TOML file per campaign. [default: ADVENT_SCHEDULES_DIR "
    "from the environment or .env, else schedules]",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per post.")
def check(messages_dir: Path | None, schedules_dir: Path | None, as_json: bool) -> None:
    messages_dir, schedules_dir = _folders(messages_dir, schedules_dir)
    try:
        schedules = load_schedules(schedules_dir)
    except ScheduleError as error:
        click.echo(str(error), err=True)
        raise click.exceptions.Exit(1) from None
    if not schedules:
        # Checking nothing and passing would hide a wrong folder, so say so and fail.
        click.echo(f"{schedules_dir}: no schedule files (*.toml); set ADVENT_SCHEDULES_DIR", err=True)
        raise click.exceptions.Exit(1)
    reports = [
        report
        for schedule in schedules
        for report in (
            check_schedule_templates(schedule, schedules_dir / f"{schedule.name}.toml")
            + check_campaign(messages_dir, schedule)
            + check_replies(messages_dir, schedule)
            + check_care(messages_dir, schedule)
        )
    ]
    if as_json:
        click.echo(json.dumps([report.to_json() for report in reports], ensure_ascii=False, indent=2))
    else:
        _print_human(reports)
    if any(report.errors for report in reports):
        raise click.exceptions.Exit(1)
