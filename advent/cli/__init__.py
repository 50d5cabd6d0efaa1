"""The `advent` command. Thin: each command parses its options and calls the domain.

Each command's module is imported only when that command runs (or its help is asked for): the
modules between them pull in Flask, the twilio library, APScheduler, SQLAlchemy and Alembic, and
importing all of them made every command, even `advent --help`, take over a second to start.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import MutableMapping
from typing import Any, NamedTuple

import click


class Entry(NamedTuple):
    module: str
    attribute: str
    # The start of the command's own help, enough for `advent --help`'s one-line summary without
    # importing the module; tests/test_light_imports.py checks it still matches the command.
    summary: str


COMMANDS = {
    "admin": Entry("admin", "admin", "Organiser accounts for the dashboard (sign in at /login)."),
    "alerts": Entry(
        "alerts", "alerts", "Show what needs the organiser's attention: posts not delivered or never"
    ),
    "backup": Entry(
        "backup", "backup", "Copy the database safely while the service runs: on SQLite, a consistent"
    ),
    "content": Entry("content", "content", "Write and check the daily posts in the messages folder."),
    "db": Entry("database", "db", "Manage the database schema (Alembic migrations)."),
    "doctor": Entry(
        "checks", "doctor", "Check the whole loop and say in plain words what is wrong and how to fix"
    ),
    "hold": Entry(
        "holds", "hold", "Hold a day's post (today by default; --date for another): nothing of it goes"
    ),
    "next-day": Entry(
        "sending", "next_day", "Print the next day of the campaign still to be sent (YYYY-MM-DD), from"
    ),
    "phone": Entry(
        "phone", "phone", "Play a text arriving from NUMBER and print the service's reply, as the phone"
    ),
    "purge": Entry(
        "purge", "purge_command", "Some days after a campaign's last day, erase its people's numbers and"
    ),
    "reconcile": Entry(
        "checks", "reconcile", "Settle deliveries left without a final status: ask the provider for the"
    ),
    "release": Entry("holds", "release", "Let a held day's post go out again (today by default; --date for"),
    "replies": Entry(
        "replies", "replies", "List what friends wrote back (every text that was not JOIN, STOP or HELP),"
    ),
    "run": Entry(
        "clock", "run", "Serve the web app and run the scheduler in one process, for a single machine:"
    ),
    "scheduler": Entry(
        "clock", "scheduler", "Run the clock: send each schedule's post at its local send time (correct"
    ),
    "send": Entry(
        "sending", "send", "Send one day's post now (today by default), through the same sender as the"
    ),
    "stats": Entry(
        "sending", "stats", "Deliveries per day and how many are in each status (queued, sent, delivered,"
    ),
    "subscribers": Entry(
        "subscribers", "subscribers", "See who is on the list, invite someone, or take someone off."
    ),
    "templates": Entry(
        "templates", "templates", "WhatsApp templates: make them, submit them for Meta's approval, and check."
    ),
}


def load_command(name: str) -> click.Command:
    entry = COMMANDS[name]
    command = getattr(importlib.import_module(f"advent.cli.{entry.module}"), entry.attribute)
    assert isinstance(command, click.Command)
    return command


class AdventGroup(click.Group):
    """Loads a command when it is used, and turns a bad setting, schedule, post or schema into
    one clear message and exit status 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._loaded: dict[str, click.Command] = {}
        super().__init__(*args, **kwargs)

    # click (and tests/test_cli_docs.py) read `commands` for the full set: all of them, loaded.
    @property
    def commands(self) -> MutableMapping[str, click.Command]:
        for name in COMMANDS:
            self.get_command(click.Context(self), name)
        return self._loaded

    @commands.setter
    def commands(self, value: MutableMapping[str, click.Command]) -> None:
        self._loaded = dict(value)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self._loaded:
            self._loaded[cmd_name] = load_command(cmd_name)
        return self._loaded[cmd_name]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # As click lays the list out, but from the summaries: no command module is imported.
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, click.Command(name, help=COMMANDS[name].summary).get_short_help_str(limit))
            for name in sorted(COMMANDS)
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as error:
            # Imported only now: the error types live beside the database code, which
            # `advent --help` and `advent content check` never need.
            from advent.startup import SETUP_ERRORS

            if not isinstance(error, SETUP_ERRORS):
                raise
            click.echo(f"advent: {error}", err=True)
            sys.exit(2)


@click.group(cls=AdventGroup, help="One kind message a day, by WhatsApp or SMS.")
@click.version_option(package_name="advent")
def main() -> None:
    pass
