"""The issuer's tables (SQLAlchemy Core), in the same database as the log.

Append-only (triggers refuse UPDATE and DELETE): ``issued_credentials``,
``status_events``, ``status_list_versions``, ``grading_rules``,
``gtin_assignments``. Their rows are written by the log's integrating
transaction (an entry hook), so a credential is stored exactly when its log
entry is committed.

``gtin_assignments`` holds one row per entry that binds a GTIN to a
manufacturer (issuer/gtins.py): the first label of the GTIN (``kind`` ``label``,
the label's ``issue`` entry) and every reassignment by the label authority
(``kind`` ``assignment``, a ``gtin-assignment`` entry). The owner of a GTIN is
the ``manufacturer`` of its newest row.

Updatable bookkeeping: ``issuer_orgs``, ``api_tokens`` (revocation time),
``status_lists`` and ``label_counters`` (allocation counters),
``label_reservations`` (which label numbers each process reserved, and what it
returned: issuer/allocate.py), ``idempotency_keys``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from ledger.store.types import UTCDateTime

metadata = MetaData()

issuer_orgs = Table(
    "issuer_orgs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("uscc", String(18), nullable=False, unique=True),
    Column("did", Text, nullable=False, unique=True),
    Column("key_name", String(64), nullable=False),
    Column("credential_types", Text, nullable=False),  # JSON list
    Column("product_categories", Text, nullable=False),  # JSON list
    Column("created_at", UTCDateTime(), nullable=False),
    # The deployment's label authority (at most one organisation): only its tokens may
    # hold the ``authority`` scope (issuer/directory.py).
    Column("authority", Boolean, nullable=False, server_default=false()),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("org_id", Integer, nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("scopes", Text, nullable=False),  # space-separated
    Column("label", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
)

issued_credentials = Table(
    "issued_credentials",
    metadata,
    Column("credential_id", Text, primary_key=True),
    Column("kind", String(16), nullable=False),  # label | grade | other
    Column("org_id", Integer, nullable=False, index=True),
    Column("label_number", String(40), nullable=True, unique=True),
    Column("document", Text, nullable=False),
    Column("digest", String(71), nullable=False),
    Column("entry", Text, nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
    Column("gtin", String(14), nullable=True, index=True),
    Column("batch", Text, nullable=True),
    Column("serial", Text, nullable=True),
    Column("digital_link", Text, nullable=True, index=True),
    Column("product_category", Text, nullable=True),
    Column("graded_credential_id", Text, nullable=True, index=True),
    Column("status_list_index", Integer, nullable=True),
    Column("revocation_list", Text, nullable=True),
    Column("suspension_list", Text, nullable=True),
    Column("idempotency_key", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    # An idempotent retry (a re-run batch file) finds its earlier credential by key.
    Index("ix_issued_credentials_idempotency", "org_id", "idempotency_key"),
)

status_lists = Table(
    "status_lists",
    metadata,
    Column("list_id", String(96), primary_key=True),
    Column("org_id", Integer, nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("next_index", Integer, nullable=False),
    # The newest published version (issuer/status.py); bumped in the publishing transaction.
    Column("published_version", Integer, nullable=True),
    UniqueConstraint("org_id", "purpose", "sequence"),
)

status_events = Table(
    "status_events",
    metadata,
    Column("log_index", BigInteger, primary_key=True, autoincrement=False),
    Column("list_id", String(96), nullable=False, index=True),
    Column("status_index", Integer, nullable=False),
    Column("value", Boolean, nullable=False),
    Column("credential_id", Text, nullable=False, index=True),
    Column("reason", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

status_list_versions = Table(
    "status_list_versions",
    metadata,
    Column("list_id", String(96), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("document", Text, nullable=False),
    # The last log index whose status event this version holds (-1: none; NULL: unknown).
    Column("through_index", BigInteger, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

grading_rules = Table(
    "grading_rules",
    metadata,
    Column("rule_id", Text, primary_key=True),
    Column("version", String(32), primary_key=True),
    Column("document", Text, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

label_counters = Table(
    "label_counters",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("category_code", String(8), primary_key=True),
    Column("next_sequence", Integer, nullable=False),
)

label_reservations = Table(
    "label_reservations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("year", Integer, nullable=False),
    Column("category_code", String(8), nullable=False),
    Column("first_sequence", Integer, nullable=False),
    # Inclusive; lowered when the process gives its unused tail back to the counter.
    Column("last_sequence", Integer, nullable=False),
    Column("org_id", Integer, nullable=True, index=True),
    Column("holder", Text, nullable=False),  # "<host> pid <pid>"
    Column("reserved_at", UTCDateTime(), nullable=False),
    Column("returned_at", UTCDateTime(), nullable=True),
    # When returned: the first number it never handed out (those after could not be given back).
    Column("unused_from", Integer, nullable=True),
    Index("ix_label_reservations_numbers", "year", "category_code", "first_sequence"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("org_id", Integer, primary_key=True, autoincrement=False),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("credential_id", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

gtin_assignments = Table(
    "gtin_assignments",
    metadata,
    Column("log_index", BigInteger, primary_key=True, autoincrement=False),
    Column("gtin", String(14), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # label | assignment
    Column("manufacturer", String(18), nullable=False),
    Column("previous", String(18), nullable=True),
    Column("issuer", Text, nullable=False),
    Column("credential_id", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

APPEND_ONLY = (
    "issued_credentials",
    "status_events",
    "status_list_versions",
    "grading_rules",
    "gtin_assignments",
)
