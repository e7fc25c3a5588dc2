"""Migrations of the issuer's tables (own version table, same database as the log)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from ledger.store import migrate as ledger_migrate

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "issuer_alembic_version"


def upgrade(engine: Engine) -> None:
    """Create or update the issuer's tables (idempotent)."""
    ledger_migrate.upgrade(engine, script_location=MIGRATIONS, version_table=VERSION_TABLE)
