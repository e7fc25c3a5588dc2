"""Scans and alerts.

Revision ID: v0001
Revises:
"""

from __future__ import annotations

from alembic import op

from verifier.store.tables import metadata

revision = "v0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
