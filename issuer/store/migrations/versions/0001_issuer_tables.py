"""Issuer tables; issued credentials, status events and rules are append-only.

Revision ID: i0001
Revises:
"""

from __future__ import annotations

from alembic import op

from issuer.store.tables import APPEND_ONLY, metadata
from ledger.store import triggers

revision = "i0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind())
    triggers.install(APPEND_ONLY)


def downgrade() -> None:
    triggers.remove(APPEND_ONLY)
    metadata.drop_all(op.get_bind())
