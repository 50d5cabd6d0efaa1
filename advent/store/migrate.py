"""Schema migrations: apply them, and refuse to run on a schema that is behind."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported only to migrate or to report revisions: every command checks the schema
# at start-up, and importing Alembic there took a third of `advent stats`'s start-up.

MIGRATIONS = Path(__file__).parent / "migrations"
REVISION = re.compile(r"^revision = [\"'](\w+)[\"']$", re.MULTILINE)
DOWN_REVISION = re.compile(r"^down_revision = (?:None|[\"'](\w+)[\"'])$", re.MULTILINE)


class SchemaOutOfDate(Exception):
    """The database is behind the code; the message says what to run."""


def _config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    config = _config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_and_head(engine: Engine) -> tuple[str | None, str | None]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config(engine)).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, head


def head_from_files() -> str | None:
    """The newest revision, read from the migration files' own `revision =` lines; None when the
    history is not a plain line (a merge, a branch), which only Alembic itself can read."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = REVISION.search(source), DOWN_REVISION.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        if down.group(1):
            parents.add(down.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _stored_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def require_current_schema(engine: Engine) -> None:
    head = head_from_files()
    current, head = current_and_head(engine) if head is None else (_stored_revision(engine), head)
    if current != head:
        found = "an empty database" if current is None else f"revision {current}"
        raise SchemaOutOfDate(
            f"The database schema is out of date ({found}, the code needs {head}). "
            "Run `advent db upgrade` first."
        )
