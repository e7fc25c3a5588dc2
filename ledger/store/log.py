"""The log store: one SQL code path for SQLite and PostgreSQL.

Integration (:meth:`LogStore.integrate`) is the only writer. It runs in one
transaction that first takes the database's write lock (``BEGIN IMMEDIATE`` on
SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL), reads the tree size and the
edge tiles, lets :func:`ledger.tiles.integrate` decide what to write, and writes
the entries, the changed tiles with their interiors and a signed checkpoint.
Concurrent appenders in other processes therefore queue on the lock and can
never fork, skip or duplicate an index. Rows go to the driver as plain tuples
(``executemany`` on SQLite, binary ``COPY`` on PostgreSQL), not through
SQLAlchemy's per-row parameter processing.

Readers see only committed trees: every read is bounded by the committed tree
size (``log_state.tree_size``, written in the same transaction as the newest
checkpoint; receipts read the checkpoint itself). Proofs read every tile they
need in one query on a driver cursor in autocommit mode, and slice node hashes
out of tiles and their interiors (:func:`ledger.tiles.node_hash`) without
hashing. Memory is bounded by a batch and by the tile cache's byte budget, never
by the size of the log.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import Any

from sqlalchemy import Connection, Engine, Executable, func, insert, select, update
from sqlalchemy.exc import OperationalError, ProgrammingError

from ledger.checkpoint import Checkpoint
from ledger.errors import EntryError, RangeError, StoreError, TilePathError
from ledger.proof import NodeID, consistency_nodes, inclusion_nodes
from ledger.receipt import Receipt
from ledger.rfc9162 import HASH_SIZE, Hash, hash_leaf
from ledger.store import migrate
from ledger.store.engine import WriteTransaction, is_sqlite
from ledger.store.tables import log_checkpoints, log_state, log_tile_nodes, log_tiles
from ledger.tiles import (
    ENTRIES_LEVEL,
    MAX_ENTRY_SIZE,
    TILE_WIDTH,
    TileID,
    edge_tiles,
    encode_bundle,
    integrate,
    node_hash,
    node_tile,
    tile_nodes,
    tile_width,
)

SignCheckpoint = Callable[[Checkpoint], str]
"""Signs a checkpoint body and returns the signed note (C2SP signed-note)."""

OnCheckpoint = Callable[[str], None]
"""Told each newly committed signed checkpoint note, after its commit (e.g. to keep the
newest one outside the database, :mod:`ledger.store.latest`)."""

_logger = logging.getLogger(__name__)

EntryHook = Callable[[Connection, int], None]
"""Runs inside the integrating transaction with the entry's index: whatever it
writes commits together with the entry, or not at all."""


@dataclass(frozen=True)
class RowHook:
    """An entry hook that inserts one row holding the entry's index.

    The RowHooks of one integrated batch that share a statement run as a single
    executemany, after the other hooks, in the same transaction. ``before``, when
    given, runs first, in entry order with the other hooks: a check that may refuse
    the entry by raising (which rolls the batch back, as any hook's exception does).
    """

    statement: Executable
    row: Mapping[str, Any]
    index_column: str = "log_index"
    before: EntryHook | None = None

    def __call__(self, conn: Connection, index: int) -> None:
        if self.before is not None:
            self.before(conn, index)
        conn.execute(self.statement, self.parameters(index))

    def parameters(self, index: int) -> dict[str, Any]:
        return {self.index_column: index, **self.row}


_STATE_ID = 1
TILE_CACHE_BYTES = 64 << 20
"""Default byte budget of a store's tile cache: 64 MiB ≈ 4,000 full tiles (with
interiors, 16 KiB each), i.e. every level-0 tile of a 1M-entry log."""
_ENTRY_OVERHEAD = 200
"""Bytes charged per cache entry on top of its value (key tuple, dict slot, headers)."""
_NOT_INITIALISED = "the log is not initialised (run `carbonlabel log init`)"
_TILES_PER_QUERY = 100
"""Tiles read per query: well under SQLite's 500 compound SELECT terms and its bound
parameters (3 per tile)."""


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint as stored: its size, root, signed note and when it was made."""

    tree_size: int
    root: Hash
    note: str
    created_at: datetime


@dataclass(frozen=True)
class Appended:
    """The result of one integration: indexes ``first_index .. size - 1`` are committed."""

    first_index: int
    size: int
    checkpoint: str


class _TileCache:
    """An LRU of immutable tile values keyed by (level, index, width), bounded in bytes.

    A value is one ``bytes`` object, the tile's :func:`~ledger.tiles.tile_nodes`
    (16,320 bytes at any width)
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0
        self._values: OrderedDict[tuple[int, int, int], bytes] = OrderedDict()
        self._lock = Lock()

    def get(self, key: tuple[int, int, int]) -> bytes | None:
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: tuple[int, int, int], value: bytes) -> None:
        with self._lock:
            old = self._values.pop(key, None)
            if old is not None:
                self.used -= len(old) + _ENTRY_OVERHEAD
            self._values[key] = value
            self.used += len(value) + _ENTRY_OVERHEAD
            while self.used > self.max_bytes and self._values:
                _, evicted = self._values.popitem(last=False)
                self.used -= len(evicted) + _ENTRY_OVERHEAD


class _Sql:
    """Driver-level statements in the engine's parameter style, built once."""

    def __init__(self, engine: Engine) -> None:
        self.marker = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._tile_reads: dict[int, str] = {}
        self.tree_size = self.q("SELECT tree_size FROM log_state WHERE id = ?")
        self.latest_note = self.q(
            "SELECT tree_size, note FROM log_checkpoints ORDER BY tree_size DESC LIMIT 1"
        )
        self.note_at = self.q("SELECT tree_size, note FROM log_checkpoints WHERE tree_size = ?")
        self.entry = self.q("SELECT data FROM log_entries WHERE idx = ?")
        self.entry_range = self.q(
            "SELECT data FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx"
        )
        self.tile = self.q(
            "SELECT data FROM log_tiles WHERE level = ? AND idx = ? AND width >= ? "
            "ORDER BY width LIMIT 1"
        )
        self.insert_entries = self.q("INSERT INTO log_entries (idx, data) VALUES (?, ?)")
        self.insert_tiles = self.q(
            "INSERT INTO log_tiles (level, idx, width, data) VALUES (?, ?, ?, ?)"
        )
        self.insert_nodes = self.q(
            "INSERT INTO log_tile_nodes (level, idx, width, data) VALUES (?, ?, ?, ?)"
        )

    def q(self, sql: str) -> str:
        return sql.replace("?", self.marker)

    def tile_read(self, count: int) -> str:
        """One query for ``count`` tiles: for each, the narrowest stored version at least
        as wide as asked, with its interior. Rows: (level, idx, width, data, interior)."""
        sql = self._tile_reads.get(count)
        if sql is None:
            part = (
                "SELECT * FROM (SELECT t.level, t.idx, t.width, t.data, n.data AS interior "
                "FROM log_tiles t JOIN log_tile_nodes n "
                "ON n.level = t.level AND n.idx = t.idx AND n.width = t.width "
                "WHERE t.level = ? AND t.idx = ? AND t.width >= ? "
                "ORDER BY t.width LIMIT 1) AS tile_{n}"
            )
            parts = [part.format(n=n) for n in range(count)]
            sql = self._tile_reads[count] = self.q(" UNION ALL ".join(parts))
        return sql


class LogStore:
    """An append-only RFC 9162 log stored as C2SP tiles in a SQL database."""

    def __init__(
        self,
        engine: Engine,
        tile_cache_bytes: int = TILE_CACHE_BYTES,
        *,
        on_checkpoint: OnCheckpoint | None = None,
    ) -> None:
        self.engine = engine
        self._sqlite = is_sqlite(engine)
        self._sql = _Sql(engine)
        self._cache = _TileCache(tile_cache_bytes)
        self._on_checkpoint = on_checkpoint

    def _committed(self, note: str) -> None:
        """Hand a committed checkpoint to ``on_checkpoint``. Its entries are committed
        whatever happens here, so a failure is logged, never raised."""
        if self._on_checkpoint is None:
            return
        try:
            self._on_checkpoint(note)
        except Exception:  # the commit stands; the audit reports what this failed to keep
            _logger.exception("the committed checkpoint could not be kept")

    # -- set-up -----------------------------------------------------------------

    def initialise(self, origin: str, sign: SignCheckpoint, now: datetime) -> bool:
        """Create the tables and the empty log with a signed size-0 checkpoint.

        Idempotent: returns False and changes nothing when the log exists.
        Raises StoreError if it exists under another origin.
        """
        migrate.upgrade(self.engine)
        with self._write() as conn:
            row = conn.execute(select(log_state.c.origin).where(log_state.c.id == _STATE_ID))
            existing = row.scalar_one_or_none()
            if existing is not None:
                if existing != origin:
                    raise StoreError(f"the log's origin is {existing!r}, not {origin!r}")
                return False
            conn.execute(insert(log_state).values(id=_STATE_ID, origin=origin, tree_size=0))
            empty = integrate(0, {}, [])
            note = sign(Checkpoint(origin, 0, empty.root))
            conn.execute(
                insert(log_checkpoints).values(
                    tree_size=0, root=empty.root, note=note, created_at=now
                )
            )
        self._committed(note)
        return True

    def origin(self) -> str:
        """The log's origin line; raises StoreError before :meth:`initialise`."""
        try:
            with self.engine.connect() as conn:
                origin = conn.execute(select(log_state.c.origin)).scalar_one_or_none()
        except (OperationalError, ProgrammingError) as exc:  # no tables yet
            raise StoreError(_NOT_INITIALISED) from exc
        if origin is None:
            raise StoreError(_NOT_INITIALISED)
        return str(origin)

    def _write(self) -> WriteTransaction:
        return WriteTransaction(self.engine)

    @contextmanager
    def _reader(self) -> Iterator[Any]:
        """A driver cursor outside any transaction (autocommit), for reads of
        append-only rows: no BEGIN/ROLLBACK round trips on PostgreSQL."""
        raw = self.engine.raw_connection()
        driver: Any = raw.driver_connection
        try:
            if not self._sqlite:
                driver.autocommit = True
            cursor = raw.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
                if not self._sqlite:
                    driver.autocommit = False
        finally:
            raw.close()

    def _bulk_insert(
        self, conn: Connection, table: str, sql: str, rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Insert tuples in the integrating transaction: ``COPY`` on PostgreSQL,
        ``executemany`` on SQLite."""
        if not rows:
            return
        if self._sqlite:
            cursor = conn.connection.cursor()
            try:
                cursor.executemany(sql, rows)
            finally:
                cursor.close()
            return
        types = {
            "log_entries": ["int8", "bytea"],
            "log_tiles": ["int2", "int8", "int2", "bytea"],
            "log_tile_nodes": ["int2", "int8", "int2", "bytea"],
        }[table]
        columns = sql[sql.index("(") : sql.index(")") + 1]
        driver: Any = conn.connection.driver_connection
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table} {columns} FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)

    # -- integration --------------------------------------------------------------

    def integrate(
        self,
        entries: Sequence[bytes],
        sign: SignCheckpoint,
        now: datetime,
        hooks: Sequence[EntryHook | None] = (),
    ) -> Appended:
        """Append ``entries`` in order, in one transaction, and sign the new checkpoint.

        ``hooks[i]``, when given, runs in the same transaction with entry i's
        index, so rows that must exist exactly when the entry does (a stored
        credential, a status change) commit atomically with it. Raises
        EntryError (nothing written) if an entry is empty or too large,
        StoreError if the log is not initialised; an exception from a hook
        rolls the whole batch back. After the commit the new checkpoint goes to
        ``on_checkpoint``.
        """
        for position, entry in enumerate(entries):
            if not entry:
                raise EntryError(f"entry {position} of the batch is empty")
            if len(entry) > MAX_ENTRY_SIZE:
                raise EntryError(
                    f"entry {position} of the batch has {len(entry)} bytes; "
                    f"at most {MAX_ENTRY_SIZE} fit in an entry bundle"
                )
        with self._write() as conn:
            state = conn.execute(
                select(log_state.c.origin, log_state.c.tree_size)
                .where(log_state.c.id == _STATE_ID)
                .with_for_update()
            ).one_or_none()
            if state is None:
                raise StoreError(_NOT_INITIALISED)
            origin, old_size = state
            if not entries:
                latest = self._latest(conn)
                return Appended(old_size, old_size, latest.note)
            edge = {t.level: self._edge_tile(conn, t) for t in edge_tiles(old_size)}
            result = integrate(old_size, edge, [hash_leaf(e) for e in entries])
            sql = self._sql
            self._bulk_insert(
                conn, "log_entries", sql.insert_entries, list(enumerate(entries, old_size))
            )
            tiles = [(t.level, t.index, t.width, data) for t, data in result.tiles]
            self._bulk_insert(conn, "log_tiles", sql.insert_tiles, tiles)
            nodes = [
                (t.level, t.index, t.width, interior)
                for (t, _), interior in zip(result.tiles, result.interiors, strict=True)
            ]
            self._bulk_insert(conn, "log_tile_nodes", sql.insert_nodes, nodes)
            note = sign(Checkpoint(origin, result.size, result.root))
            conn.execute(
                insert(log_checkpoints).values(
                    tree_size=result.size, root=result.root, note=note, created_at=now
                )
            )
            conn.execute(
                update(log_state).where(log_state.c.id == _STATE_ID).values(tree_size=result.size)
            )
            rows: dict[int, tuple[Executable, list[dict[str, Any]]]] = {}
            for offset, hook in enumerate(hooks):
                if isinstance(hook, RowHook):
                    if hook.before is not None:
                        hook.before(conn, old_size + offset)
                    _, batch = rows.setdefault(id(hook.statement), (hook.statement, []))
                    batch.append(hook.parameters(old_size + offset))
                elif hook is not None:
                    hook(conn, old_size + offset)
            for statement, parameters in rows.values():
                conn.execute(statement, parameters)
        self._committed(note)
        return Appended(old_size, result.size, note)

    def _edge_tile(self, conn: Connection, tile: TileID) -> bytes:
        cursor = conn.connection.cursor()
        try:
            cursor.execute(self._sql.tile, (tile.level, tile.index, tile.width))
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            raise StoreError(f"tile {tile.path()} is missing from the store")
        return bytes(row[0])[: tile.width * HASH_SIZE]

    # -- reads ------------------------------------------------------------------

    def _latest(self, conn: Connection) -> StoredCheckpoint:
        try:
            row = conn.execute(
                select(log_checkpoints).order_by(log_checkpoints.c.tree_size.desc()).limit(1)
            ).one_or_none()
        except (OperationalError, ProgrammingError) as exc:  # no tables yet
            raise StoreError(_NOT_INITIALISED) from exc
        if row is None:
            raise StoreError(_NOT_INITIALISED)
        return StoredCheckpoint(row.tree_size, Hash(row.root), row.note, row.created_at)

    def latest_checkpoint(self) -> StoredCheckpoint:
        """The newest signed checkpoint; raises StoreError before initialisation."""
        with self.engine.connect() as conn:
            return self._latest(conn)

    def tree_size(self) -> int:
        """The size of the newest committed tree."""
        return self.latest_checkpoint().tree_size

    def checkpoint_at(self, tree_size: int) -> StoredCheckpoint | None:
        """The checkpoint signed at exactly ``tree_size``, if one was."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(log_checkpoints).where(log_checkpoints.c.tree_size == tree_size)
            ).one_or_none()
        if row is None:
            return None
        return StoredCheckpoint(row.tree_size, Hash(row.root), row.note, row.created_at)

    def checkpoints(self, page: int = 1000) -> Iterator[StoredCheckpoint]:
        """Every stored checkpoint in increasing tree size, ``page`` rows per query.

        No cursor stays open between pages, so a caller may stop at any point.
        """
        after = -1
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(log_checkpoints)
                    .where(log_checkpoints.c.tree_size > after)
                    .order_by(log_checkpoints.c.tree_size)
                    .limit(page)
                ).all()
            for row in rows:
                yield StoredCheckpoint(row.tree_size, Hash(row.root), row.note, row.created_at)
            if len(rows) < page:
                return
            after = rows[-1].tree_size

    def _committed_size(self, cursor: Any) -> int:
        """The committed tree size, written with the newest checkpoint."""
        try:
            cursor.execute(self._sql.tree_size, (_STATE_ID,))
            row = cursor.fetchone()
        except self.engine.dialect.loaded_dbapi.Error as exc:  # no tables yet
            raise StoreError(_NOT_INITIALISED) from exc
        if row is None:
            raise StoreError(_NOT_INITIALISED)
        return int(row[0])

    def entry(self, index: int) -> bytes:
        """The entry at ``index``; raises RangeError beyond the newest checkpoint."""
        with self._reader() as cursor:
            size = self._committed_size(cursor)
            if index is None or not 0 <= index < size:
                raise RangeError(f"index {index} is not in the log (tree size {size})")
            cursor.execute(self._sql.entry, (index,))
            row = cursor.fetchone()
        if row is None:
            raise StoreError(f"entry {index} is missing")
        return bytes(row[0])

    def entries(
        self, start: int = 0, stop: int | None = None, chunk: int = 4096
    ) -> Iterator[bytes]:
        """Stream entries ``start .. stop - 1`` in order, ``chunk`` rows per query."""
        position = start
        end = self.tree_size() if stop is None else stop
        sql = self._sql.q(
            "SELECT idx, data FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx"
        )
        while position < end:
            upper = min(end, position + chunk)
            with self._reader() as cursor:
                cursor.execute(sql, (position, upper))
                rows = cursor.fetchall()
            for idx, data in rows:
                if idx != position:
                    raise StoreError(f"entry {position} is missing (next stored is {idx})")
                yield bytes(data)
                position += 1
            if position < upper:
                raise StoreError(f"entry {position} is missing")

    def tile(self, level: int, index: int, width: int) -> bytes | None:
        """Tile bytes as C2SP tlog-tiles serves them, or None if beyond the newest tree.

        A partial hash tile of width ``w`` is the first ``w`` hashes of any wider
        version of that tile, so it is served from the narrowest stored one. An
        entry bundle is assembled from the entries it holds.
        """
        with self._reader() as cursor:
            size = self._committed_size(cursor)
            if width > tile_width(size, level, index):
                return None
            if level == ENTRIES_LEVEL:
                start = index * TILE_WIDTH
                cursor.execute(self._sql.entry_range, (start, start + width))
                members = [bytes(row[0]) for row in cursor.fetchall()]
                if len(members) != width:
                    raise StoreError(
                        f"entries of bundle {TileID(level, index, width).path()} are missing"
                    )
                return encode_bundle(members)
            cursor.execute(self._sql.tile, (level, index, width))
            row = cursor.fetchone()
        if row is None:
            raise StoreError(f"tile {TileID(level, index, width).path()} is missing from the store")
        return bytes(row[0])[: width * HASH_SIZE]

    def _load_tiles(
        self, cursor: Any, wanted: Sequence[tuple[int, int, int]]
    ) -> dict[tuple[int, int], bytes]:
        """Read tiles with their interiors in one query; cache their tile_nodes."""
        params = [value for tile in wanted for value in tile]
        cursor.execute(self._sql.tile_read(len(wanted)), params)
        rows = {(level, index): row for level, index, *row in cursor.fetchall()}
        loaded: dict[tuple[int, int], bytes] = {}
        for level, index, width in wanted:
            row = rows.get((level, index))
            if row is None:
                path = TileID(level, index, width).path()
                raise StoreError(f"tile {path} or its interior is missing from the store")
            stored_width, data, interior = row
            try:
                value = tile_nodes(bytes(data)[: width * HASH_SIZE], bytes(interior), stored_width)
            except TilePathError as exc:
                path = TileID(level, index, stored_width).path()
                raise StoreError(f"tile {path} or its interior is malformed: {exc}") from exc
            self._cache.put((level, index, width), value)
            loaded[(level, index)] = value
        return loaded

    def _node_hashes(self, cursor: Any, nodes: Sequence[NodeID], size: int) -> list[Hash]:
        """The hashes of ``nodes`` in the tree of ``size``, reading each tile at most once."""
        places = [node_tile(node)[:2] for node in nodes]
        values: dict[tuple[int, int], bytes] = {}
        widths: dict[tuple[int, int], int] = {}
        missing: list[tuple[int, int, int]] = []
        for place in dict.fromkeys(places):
            width = widths[place] = tile_width(size, *place)
            cached = self._cache.get((*place, width))
            if cached is None:
                missing.append((*place, width))
            else:
                values[place] = cached
        for start in range(0, len(missing), _TILES_PER_QUERY):
            values.update(self._load_tiles(cursor, missing[start : start + _TILES_PER_QUERY]))
        return [
            node_hash(node, values[place], widths[place])
            for node, place in zip(nodes, places, strict=True)
        ]

    def _bounded_size(self, cursor: Any, size: int | None) -> int:
        committed = self._committed_size(cursor)
        if size is None:
            return committed
        if not 0 <= size <= committed:
            raise RangeError(f"tree size {size} is beyond the newest checkpoint ({committed})")
        return size

    def inclusion_proof(self, index: int, size: int | None = None) -> list[Hash]:
        """RFC 9162 §2.1.3.1 proof for ``index`` in the tree of ``size`` (default: newest).

        Raises RangeError if the size is beyond the newest checkpoint or the
        index is not below it.
        """
        with self._reader() as cursor:
            size = self._bounded_size(cursor, size)
            nodes = inclusion_nodes(index, size)
            return nodes.rehash(self._node_hashes(cursor, nodes.ids, size))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[Hash]:
        """RFC 9162 §2.1.4.1 proof that ``old_size`` is a prefix of ``new_size``.

        Raises RangeError unless ``0 < old_size <= new_size <= newest size``.
        """
        with self._reader() as cursor:
            new_size = self._bounded_size(cursor, new_size)
            nodes = consistency_nodes(old_size, new_size)
            return nodes.rehash(self._node_hashes(cursor, nodes.ids, new_size))

    def receipt(self, index: int, tree_size: int | None = None) -> Receipt:
        """An offline proof that entry ``index`` is in the log.

        Proves against the checkpoint signed at ``tree_size`` (default: the
        newest). Raises RangeError if no checkpoint was signed at that size or
        the index is not below it.
        """
        with self._reader() as cursor:
            size, note = self._signed_note(cursor, tree_size)
            nodes = inclusion_nodes(index, size)
            proof = nodes.rehash(self._node_hashes(cursor, nodes.ids, size))
        return Receipt(index=index, proof=tuple(proof), checkpoint=note)

    def receipts(self, indices: Sequence[int], tree_size: int | None = None) -> list[Receipt]:
        """Receipts for many entries against one checkpoint: ``[receipt(i, tree_size) ...]``.

        The checkpoint is read once and every tile the proofs need is read once
        (RFC 9162 §2.1.3.1 audit paths of neighbouring leaves share most of their
        nodes), so the receipts of one sequencer commit cost about as much as one.
        Raises RangeError if no checkpoint was signed at ``tree_size`` or an index
        is not below it (then no receipt is returned).
        """
        with self._reader() as cursor:
            size, note = self._signed_note(cursor, tree_size)
            paths = [inclusion_nodes(index, size) for index in indices]
            unique = list(dict.fromkeys(node for nodes in paths for node in nodes.ids))
            hashes = dict(zip(unique, self._node_hashes(cursor, unique, size), strict=True))
        return [
            Receipt(
                index=index,
                proof=tuple(nodes.rehash([hashes[node] for node in nodes.ids])),
                checkpoint=note,
            )
            for index, nodes in zip(indices, paths, strict=True)
        ]

    def _signed_note(self, cursor: Any, tree_size: int | None) -> tuple[int, str]:
        """The size and signed note of the checkpoint at ``tree_size`` (default: newest)."""
        if tree_size is None:
            cursor.execute(self._sql.latest_note)
        else:
            cursor.execute(self._sql.note_at, (tree_size,))
        row = cursor.fetchone()
        if row is None:
            if tree_size is None:
                raise StoreError(_NOT_INITIALISED)
            raise RangeError(f"no checkpoint was signed at tree size {tree_size}")
        return int(row[0]), str(row[1])

    # -- for the audit ------------------------------------------------------------

    def stored_tiles(self, level: int, index: int) -> list[tuple[int, bytes]]:
        """Every stored version (width, bytes) of one tile, narrowest first (for audits)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(log_tiles.c.width, log_tiles.c.data)
                .where(log_tiles.c.level == level, log_tiles.c.idx == index)
                .order_by(log_tiles.c.width)
            ).all()
        return [(width, bytes(data)) for width, data in rows]

    def stored_interiors(self, level: int, index: int) -> dict[int, bytes]:
        """Every stored interior of one tile, by width (for audits)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(log_tile_nodes.c.width, log_tile_nodes.c.data).where(
                    log_tile_nodes.c.level == level, log_tile_nodes.c.idx == index
                )
            ).all()
        return {width: bytes(data) for width, data in rows}

    def count_tiles(self) -> int:
        """How many tile rows (all widths) are stored."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(log_tiles)).scalar_one())

    def count_interiors(self) -> int:
        """How many tile interior rows are stored."""
        with self.engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(log_tile_nodes)).scalar_one()
        return int(count)

    def state_size(self) -> int:
        """The tree size recorded in ``log_state`` (the audit checks it)."""
        with self.engine.connect() as conn:
            size = conn.execute(select(log_state.c.tree_size)).scalar_one_or_none()
        if size is None:
            raise StoreError(_NOT_INITIALISED)
        return int(size)
