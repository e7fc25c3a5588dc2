"""Alembic environment for the ledger: uses the engine handed over in config.attributes."""

from __future__ import annotations

from alembic import context

from ledger.store.migrate import VERSION_TABLE
from ledger.store.tables import metadata

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
