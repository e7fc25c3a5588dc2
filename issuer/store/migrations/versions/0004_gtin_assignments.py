"""GTIN owners: the append-only ``gtin_assignments`` table, and the bindings of earlier labels.

Creates the table when missing (a fresh database already has it from i0001's
``create_all``), (re)installs its append-only triggers, and binds every GTIN
labelled before this revision to the manufacturer of its first label (by log
index): the ``registeredId`` of that stored, logged credential's
``issuedToParty``, the same manufacturer the ``issue`` entries of newer labels
name as ``products.manufacturer``. Idempotent: a GTIN that has a row is left
alone.

Revision ID: i0004_gtin_assignments
Revises: i0003_status_publication
"""

from __future__ import annotations

import json

from alembic import op
from sqlalchemy import func, insert, select

from issuer.store.tables import gtin_assignments, issued_credentials
from ledger.store import triggers

revision = "i0004_gtin_assignments"
down_revision = "i0003_status_publication"
branch_labels = None
depends_on = None

_TABLE = ("gtin_assignments",)


def upgrade() -> None:
    bind = op.get_bind()
    gtin_assignments.create(bind, checkfirst=True)
    triggers.remove(_TABLE)
    triggers.install(_TABLE)
    label = issued_credentials.c
    bound = select(gtin_assignments.c.gtin)
    first = (
        select(label.gtin, func.min(label.log_index).label("log_index"))
        .where(label.kind == "label", label.gtin.is_not(None), label.gtin.not_in(bound))
        .group_by(label.gtin)
        .subquery()
    )
    rows = bind.execute(
        select(label.log_index, label.gtin, label.document, label.credential_id, label.created_at)
        .join(first, label.log_index == first.c.log_index)
        .order_by(label.log_index)
    ).all()
    for row in rows:
        document = json.loads(row.document)
        issuer = document.get("issuer")
        party = (document.get("credentialSubject") or {}).get("issuedToParty") or {}
        manufacturer = party.get("registeredId") if isinstance(party, dict) else None
        if not isinstance(manufacturer, str):
            continue  # a label naming no manufacturer binds nothing
        bind.execute(
            insert(gtin_assignments).values(
                log_index=row.log_index,
                gtin=row.gtin,
                kind="label",
                manufacturer=manufacturer,
                previous=None,
                issuer=issuer.get("id") if isinstance(issuer, dict) else str(issuer),
                credential_id=row.credential_id,
                reason=None,
                created_at=row.created_at,
            )
        )


def downgrade() -> None:
    triggers.remove(_TABLE)
    gtin_assignments.drop(op.get_bind(), checkfirst=True)
