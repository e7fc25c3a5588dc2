"""Alembic migrations of the log's tables, run programmatically.

The ledger keeps its own version table (``ledger_alembic_version``) so that
other packages can migrate their tables independently in the same database.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

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
