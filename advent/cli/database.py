"""`advent db`: the database schema."""

from __future__ import annotations

import click

from advent.config import load_settings
from advent.store.database import make_engine
from advent.store.migrate import current_and_head, upgrade


@click.group(help="Manage the database schema (Alembic migrations).")
def db() -> None:
    pass


@db.command("upgrade", help="Apply every pending migration; safe to run at every start.")
def upgrade_command() -> None:
    settings = load_settings()
    engine = make_engine(settings.database_url)
    before, head = current_and_head(engine)
    upgrade(engine)
    if before == head:
        click.echo(f"Database already at revision {head}.")
    else:
        click.echo(f"Database upgraded from {before or 'empty'} to {head}.")


@db.command("current", help="Show the schema revision of the database and of the code.")
def current_command() -> None:
    engine = make_engine(load_settings().database_url)
    current, head = current_and_head(engine)
    state = "up to date" if current == head else "out of date: run `advent db upgrade`"
    click.echo(f"database: {current or 'empty'}; code: {head} ({state})")
