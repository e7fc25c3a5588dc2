"""Alembic environment for the ledger's tables (see ledger.store.migrate.run_env)."""

from ledger.store.migrate import run_env
from ledger.store.tables import metadata

run_env(metadata)
