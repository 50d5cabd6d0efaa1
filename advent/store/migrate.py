"""Schema migrations: apply them, and refuse to run on a schema that is behind."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaOutOfDate(Exception):
    """The database is behind the code; the message says what to run."""


def _config(engine: Engine) -> Config:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = _config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_and_head(engine: Engine) -> tuple[str | None, str | None]:
    head = ScriptDirectory.from_config(_config(engine)).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, head


def require_current_schema(engine: Engine) -> None:
    current, head = current_and_head(engine)
    if current != head:
        found = "an empty database" if current is None else f"revision {current}"
        raise SchemaOutOfDate(
            f"The database schema is out of date ({found}, the code needs {head}). "
            "Run `advent db upgrade` first."
        )
