"""`advent db`: the database schema, and which kind of provider the database belongs to."""

from __future__ import annotations

import click
from sqlalchemy import Engine
from sqlmodel import Session

from advent.config import load_settings
from advent.store.database import describe_location, make_engine, require_reachable
from advent.store.migrate import current_and_head, upgrade
from advent.store.stamps import KINDS, set_kind, stamped_kind
from advent.store.tables import utcnow


@click.group(help="Manage the database schema (Alembic migrations).")
def db() -> None:
    pass


def _engine() -> Engine:
    settings = load_settings()
    engine = make_engine(settings.database_url, settings.instance_dir, settings.db_lock_seconds)
    require_reachable(engine)
    return engine


@db.command("upgrade", help="Apply every pending migration; safe to run at every start.")
def upgrade_command() -> None:
    engine = _engine()
    before, head = current_and_head(engine)
    upgrade(engine)
    where = describe_location(engine.url)
    if before == head:
        click.echo(f"Database {where} already at revision {head}.")
    else:
        click.echo(f"Database {where} upgraded from {before or 'empty'} to {head}.")


@db.command("current", help="Show the schema revision of the database and of the code.")
def current_command() -> None:
    engine = _engine()
    current, head = current_and_head(engine)
    state = "up to date" if current == head else "out of date: run `advent db upgrade`"
    click.echo(f"database: {current or 'empty'}; code: {head} ({state})")


@db.command(
    "belongs-to",
    help="Record once that a database made before advent kept this record is "
    "a live list (live) or a rehearsal on the simulator (rehearsal).",
)
@click.argument("kind", type=click.Choice(KINDS))
def belongs_to_command(kind: str) -> None:
    engine = _engine()
    where = describe_location(engine.url)
    with Session(engine) as session:
        before = stamped_kind(session)
        kept = set_kind(session, kind, utcnow())
    if kept != kind:
        # Changing it would undo the protection; a fresh database is the honest way over.
        click.echo(
            f"{where} already belongs to a {kept} list; to start over deliberately, delete "
            "this database and run `advent db upgrade`.",
            err=True,
        )
        raise click.exceptions.Exit(1)
    click.echo(f"{where} {'already belonged' if before == kind else 'now belongs'} to a {kind} list.")
