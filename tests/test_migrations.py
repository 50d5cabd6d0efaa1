"""The migrations build exactly the schema the code's tables describe, and can be undone."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

import advent.store.tables  # noqa: F401  (registers every table on SQLModel.metadata)
from advent.store.database import make_engine
from advent.store.migrate import MIGRATIONS, current_and_head, require_current_schema, upgrade


def _fresh(tmp_path: Path) -> Engine:
    """An empty database: a new SQLite file, or on a PostgreSQL run this test's database emptied
    (its next test finds the schema gone and migrates it again; see tests/postgres_mode.py)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    return engine


def _differences(engine: Engine) -> list[Any]:
    """What `alembic revision --autogenerate` would put in a new migration: nothing, we hope."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def test_migrating_a_fresh_database_gives_exactly_the_tables_the_code_uses(tmp_path: Path) -> None:
    engine = _fresh(tmp_path)
    upgrade(engine)
    # A difference here means a table changed without a migration (or the other way round):
    # `advent db upgrade` would leave a real database unlike the one the tests run on.
    assert _differences(engine) == []
    require_current_schema(engine)  # and the service agrees the schema is current


def test_every_migration_can_be_undone_and_done_again(tmp_path: Path) -> None:
    engine = _fresh(tmp_path)
    upgrade(engine)
    head = current_and_head(engine)[1]
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection  # env.py migrates on the connection given
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert current_and_head(engine) == (None, head)

    upgrade(engine)
    assert current_and_head(engine) == (head, head)
    assert _differences(engine) == []
