"""The log's tables (SQLAlchemy Core). Every row here is append-only.

- ``log_entries``: one row per entry, the source of truth the audit recomputes
  from; C2SP entry bundles are assembled from these rows when served.
- ``log_tiles``: C2SP hash tiles at every width written. A partial tile is a new
  row, never an update.
- ``log_tile_nodes``: one row per ``log_tiles`` row, same key: the tile's
  interior, i.e. the complete nodes of the subtree over its hashes at heights
  1..7, level by level (254 hashes for a full tile; see :mod:`ledger.tiles`).
  Proofs read any node inside a tile as a slice of the tile or of this row,
  without hashing.
- ``log_checkpoints``: every signed checkpoint, by tree size.
- ``log_state``: the single row the sequencer locks to serialise integration.
  It is the only updatable table and holds nothing the audit trusts.

``idx`` columns that are the whole primary key are ``INTEGER PRIMARY KEY`` on
SQLite, i.e. the rowid itself rather than a separate index.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
)

from ledger.store.types import UTCDateTime

metadata = MetaData()

RowID = BigInteger().with_variant(Integer(), "sqlite")
"""BIGINT, but INTEGER on SQLite so that a sole primary key is the rowid."""

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
    Column("idx", RowID, primary_key=True, autoincrement=False),
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

log_tile_nodes = Table(
    "log_tile_nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("width", SmallInteger, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)

log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column("tree_size", RowID, primary_key=True, autoincrement=False),
    Column("root", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

APPEND_ONLY_TABLES = ("log_entries", "log_tiles", "log_tile_nodes", "log_checkpoints")
