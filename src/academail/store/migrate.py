"""Running the Alembic migrations from the application (``academail migrate``).

The scripts ship inside the package, so an installed academail migrates with no
``alembic.ini`` on disk.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from academail.store.engine import PostgresStore, SqliteStore

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade"]

_SCRIPTS = Path(__file__).parent / "migrations"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migration scripts shipped")
    return head


async def upgrade(store: SqliteStore | PostgresStore, revision: str = "head") -> None:
    """Brings the schema to ``revision``; a no-op when it is already there."""

    def work(conn: sa.Connection) -> None:
        command.upgrade(alembic_config(conn), revision)
        if conn.in_transaction():
            conn.commit()

    await store.run_raw(work)


async def current_revision(store: SqliteStore | PostgresStore) -> str | None:
    def work(conn: sa.Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    return await store.run_raw(work)
