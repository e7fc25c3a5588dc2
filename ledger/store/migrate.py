"""Alembic migrations of the log's tables, run programmatically.

The ledger keeps its own version table (``ledger_alembic_version``) so that
other packages can migrate their tables independently in the same database.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, MetaData

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "ledger_alembic_version"


def alembic_config(
    engine: Engine, script_location: Path = MIGRATIONS, version_table: str = VERSION_TABLE
) -> Config:
    """An Alembic config for one package's migrations, with its own version table."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["engine"] = engine
    config.attributes["version_table"] = version_table
    return config


def upgrade(
    engine: Engine,
    revision: str = "head",
    *,
    script_location: Path = MIGRATIONS,
    version_table: str = VERSION_TABLE,
) -> None:
    """Bring a package's schema (default: the log's) to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(engine, script_location, version_table), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Step the log's schema back (operators only; the log tables are dropped at base)."""
    command.downgrade(alembic_config(engine), revision)


def run_env(metadata: MetaData) -> None:
    """The body of every package's Alembic ``env.py``: migrate on the handed-over engine."""
    from alembic import context

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
