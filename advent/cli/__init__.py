"""The `advent` command. Thin: each command parses its options and calls the domain."""

from __future__ import annotations

import sys
from typing import Any

import click

from advent.startup import SETUP_ERRORS


class AdventGroup(click.Group):
    """Turns a bad setting, schedule, post or schema into one clear message and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SETUP_ERRORS as error:
            click.echo(f"advent: {error}", err=True)
            sys.exit(2)


@click.group(cls=AdventGroup, help="One kind message a day, by WhatsApp or SMS.")
@click.version_option(package_name="advent")
def main() -> None:
    pass


def _register() -> None:
    from advent.cli import (
        admin,
        alerts,
        backup,
        checks,
        clock,
        content,
        database,
        phone,
        purge,
        replies,
        sending,
        subscribers,
        templates,
    )

    main.add_command(content.content)
    main.add_command(database.db)
    for module in (sending, phone, alerts, clock, checks, admin, replies, backup, purge):
        for command in module.COMMANDS:
            main.add_command(command)
    main.add_command(subscribers.subscribers)
    main.add_command(templates.templates)


_register()
