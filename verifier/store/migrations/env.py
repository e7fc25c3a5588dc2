"""Alembic environment for the verifier's tables (see ledger.store.migrate.run_env)."""

from ledger.store.migrate import run_env
from verifier.store.tables import metadata

run_env(metadata)
