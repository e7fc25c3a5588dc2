"""Alembic environment for the verifier's tables."""

from __future__ import annotations

from alembic import context

from verifier.store.tables import metadata

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=context.config.attributes["version_table"],
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
