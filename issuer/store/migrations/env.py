"""Alembic environment for the issuer's tables (see ledger.store.migrate.run_env)."""

from issuer.store.tables import metadata
from ledger.store.migrate import run_env

run_env(metadata)
