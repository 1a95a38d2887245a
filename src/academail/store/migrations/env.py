"""Alembic environment: always driven with a connection handed in by the store.

Both dialects migrate from the same scripts; SQLite uses batch mode
(``render_as_batch``) so that ALTERs are done by table copy.
"""

from alembic import context

from academail.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
