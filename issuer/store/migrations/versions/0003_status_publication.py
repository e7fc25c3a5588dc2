"""Status publication: the log index each status-list version holds, each list's newest version.

Revision ID: i0003_status_publication
Revises: i0002_label_reservations

Databases created since these columns joined ``issuer/store/tables.py`` got them
from i0001's ``create_all``; older ones get them here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i0003_status_publication"
down_revision = "i0002_label_reservations"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("status_list_versions", sa.Column("through_index", sa.BigInteger, nullable=True)),
    ("status_lists", sa.Column("published_version", sa.Integer, nullable=True)),
)


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for table, column in _COLUMNS:
        if column.name not in {c["name"] for c in inspector.get_columns(table)}:
            op.add_column(table, column)


def downgrade() -> None:
    for table, column in _COLUMNS:
        op.drop_column(table, column.name)
