"""What the commands share: the runtime, a sender for sending days, dates from options."""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from datetime import date, datetime

import click

from advent.content.schedules import Schedule
from advent.runtime import Runtime, build_runtime
from advent.sending.dispatch import Sender


def now() -> datetime:
    """The runtime's clock (the real one, except in tests)."""
    return runtime().clock()


def runtime() -> Runtime:
    ctx = click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        root.obj = build_runtime()
        for warning in root.obj.warnings:
            click.echo(f"advent: warning: {warning}", err=True)
    return root.obj


def show_progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        # \r keeps a long send to one updating line instead of hundreds.
        click.echo(f"\r  handed over {done} of {total}", nl=done >= total, err=True)
    elif done == total or done % 25 == 0:
        click.echo(f"  handed over {done} of {total}", err=True)


def sender_for(rt: Runtime, *, progress: bool = False) -> Sender:
    return Sender(
        rt.session(),
        rt.provider,
        rt.settings,
        clock=rt.clock,
        rng=random.Random(),
        progress=show_progress if progress else None,
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
