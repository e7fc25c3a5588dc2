"""The log's tables (SQLAlchemy Core). Every row here is append-only.

- ``log_entries``: one row per entry, the source of truth the audit recomputes from.
- ``log_tiles``: C2SP hash tiles (``level >= 0``) at every width written, and full
  entry bundles (``level = -1``). A partial tile is a new row, never an update.
- ``log_checkpoints``: every signed checkpoint, by tree size.
- ``log_state``: the single row the sequencer locks to serialise integration.
  It is the only updatable table and holds nothing the audit trusts.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
)

metadata = MetaData()

log_state = Table(
    "log_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("origin", Text, nullable=False),
    Column("tree_size", BigInteger, nullable=False),
)

log_entries = Table(
    "log_entries",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)

log_tiles = Table(
    "log_tiles",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("width", SmallInteger, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)

log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

APPEND_ONLY_TABLES = ("log_entries", "log_tiles", "log_checkpoints")
