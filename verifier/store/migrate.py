"""Migrations of the verifier's tables (own version table, same database)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from ledger.store import migrate as ledger_migrate

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "verifier_alembic_version"


def upgrade(engine: Engine) -> None:
    """Create or update the verifier's tables (idempotent)."""
    ledger_migrate.upgrade(engine, script_location=MIGRATIONS, version_table=VERSION_TABLE)
