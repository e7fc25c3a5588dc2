"""The label authority's organisation: ``issuer_orgs.authority``.

Revision ID: i0005_authority_org
Revises: i0004_gtin_assignments

Idempotent: the column is added only where the inspector shows it missing (a fresh
database already has it from i0001's ``create_all``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i0005_authority_org"
down_revision = "i0004_gtin_assignments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("issuer_orgs")}
    if "authority" not in columns:
        op.add_column(
            "issuer_orgs",
            sa.Column("authority", sa.Boolean(), nullable=False, server_default=sa.false()),
        )


def downgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("issuer_orgs")}
    if "authority" in columns:
        with op.batch_alter_table("issuer_orgs") as batch:
            batch.drop_column("authority")
