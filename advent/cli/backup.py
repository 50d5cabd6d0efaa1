"""`advent backup`: a consistent copy of the database, and how to put it back."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from advent.config import load_settings
from advent.store.backup import (
    backup_sqlite,
    default_backup_path,
    is_sqlite,
    pg_dump_command,
    restore_steps,
    sqlite_file,
)


@click.command(
    help="Copy the database safely while the service runs: on SQLite, a consistent copy "
    "(SQLite's online backup API) in the instance folder, named with the date and time, "
    "or at --to; on PostgreSQL, the pg_dump command to run. Says how to restore."
)
@click.option("--to", "target", type=click.Path(path_type=Path), help="Where to write the copy (SQLite).")
def backup(target: Path | None) -> None:
    settings = load_settings()
    now = datetime.now().astimezone()  # the organiser's local time reads best in a file name
    if not is_sqlite(settings.database_url):
        click.echo("This database is PostgreSQL; back it up with pg_dump (it asks for the password):")
        click.echo(f"  {pg_dump_command(settings.database_url, now)}")
        click.echo(
            "Restore into an empty database with pg_restore --dbname=... that file, then `advent db upgrade`."
        )
        return
    database = sqlite_file(settings.database_url)
    made = backup_sqlite(
        database, (target or default_backup_path(database, settings.instance_dir, now)).resolve()
    )
    click.echo(f"Backed up {made.source} to {made.copy} ({made.size_bytes // 1024} KiB).")
    click.echo("To restore:")
    for number, step in enumerate(restore_steps(made), 1):
        click.echo(f"  {number}. {step}")


COMMANDS = [backup]
