"""What the commands share: the runtime, a sender for sending days, dates from options."""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from advent.content.schedules import Schedule
    from advent.runtime import Runtime
    from advent.sending.dispatch import Sender


def now() -> datetime:
    """The runtime's clock (the real one, except in tests)."""
    return runtime().clock()


def runtime() -> Runtime:
    ctx = click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        from advent.runtime import build_runtime

        root.obj = build_runtime()
        for warning in root.obj.warnings:
            click.echo(f"advent: warning: {warning}", err=True)
    return root.obj


BAR_WIDTH = 24


def _duration(seconds: float) -> str:
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def progress_line(done: int, total: int, elapsed: float, width: int = BAR_WIDTH) -> str:
    """One frame of the terminal's progress bar: how far, and the time left at the pace so far.

    >>> progress_line(30, 120, 60.0)
    '[######..................]  30 of 120 handed over, about 3 min 00 s left'
    """
    total = max(total, done, 1)
    filled = width * done // total
    bar = "#" * filled + "." * (width - filled)
    counts = f"[{bar}]  {done} of {total} handed over"
    if done >= total:
        return f"{counts} in {_duration(elapsed)}"
    if done == 0 or elapsed <= 0:
        return f"{counts}, working out the pace"
    return f"{counts}, about {_duration((total - done) * elapsed / done)} left"


class ProgressBar:
    """The bar on a terminal's stderr, redrawn in place (\r) as each person is handed over."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        # Pace from a monotonic clock: a wall clock set back mid-send would make a nonsense ETA.
        self.clock = clock
        self.started = clock()
        self.width = 0

    def __call__(self, done: int, total: int) -> None:
        line = progress_line(done, total, self.clock() - self.started)
        # Padded to the last frame's width, so a shorter line leaves no stale characters.
        click.echo("\r" + line.ljust(self.width), nl=done >= total, err=True)
        self.width = len(line)


def plain_progress(done: int, total: int) -> None:
    """Not a terminal (a log, a pipe, cron): a line every 25 people and at the end."""
    if done == total or done % 25 == 0:
        click.echo(f"  handed over {done} of {total}", err=True)


def sender_for(rt: Runtime, *, progress: bool = False) -> Sender:
    from advent.sending.dispatch import Sender

    return Sender(
        rt.session(),
        rt.provider,
        rt.settings,
        clock=rt.clock,
        rng=random.Random(),
        progress=(ProgressBar() if sys.stderr.isatty() else plain_progress) if progress else None,
    )


def day_option(schedule: Schedule, value: date | None) -> date:
    """The date asked for, or today where the organiser lives."""
    return value or schedule.local_date(now())


def parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2026-12-01") from None


CAMPAIGN = click.option(
    "--campaign", "-c", default=None, help="Campaign (schedule) name; defaults to the only or default one."
)
DATE = click.option(
    "--date",
    "day",
    default=None,
    callback=parse_date,
    metavar="YYYY-MM-DD",
    help="The calendar date; defaults to today in the schedule's timezone.",
)


def show_rows(rows: list[dict], *, as_json: bool, empty: str, line: Callable[[dict], str]) -> None:
    """A listing the way every command shows one: JSON for scripts, else a line per row."""
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(empty)
    for row in rows:
        click.echo(line(row))
