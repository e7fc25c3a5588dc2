"""Label reservations (which process reserved which label numbers) and an index on
issued credentials' idempotency keys (a re-run batch file finds its earlier labels).

Revision ID: i0002_label_reservations
Revises: i0001

Idempotent: the table is created only if missing (fresh databases get it from i0001's
``create_all``), the index only if the inspector does not show it.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import inspect

from issuer.store.tables import issued_credentials, label_reservations

revision = "i0002_label_reservations"
down_revision = "i0001"
branch_labels = None
depends_on = None

_INDEX = "ix_issued_credentials_idempotency"


def upgrade() -> None:
    bind = op.get_bind()
    label_reservations.create(bind, checkfirst=True)
    existing = {index["name"] for index in inspect(bind).get_indexes("issued_credentials")}
    if _INDEX not in existing:
        next(i for i in issued_credentials.indexes if i.name == _INDEX).create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    existing = {index["name"] for index in inspect(bind).get_indexes("issued_credentials")}
    if _INDEX in existing:
        op.drop_index(_INDEX, table_name="issued_credentials")
    label_reservations.drop(bind, checkfirst=True)
