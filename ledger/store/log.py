"""The log store: one SQL code path for SQLite and PostgreSQL.

Integration (:meth:`LogStore.integrate`) is the only writer. It runs in one
transaction that first takes the database's write lock (``BEGIN IMMEDIATE`` on
SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL), reads the tree size and the
edge tiles, lets :func:`ledger.tiles.integrate` decide what to write, and writes
the entries, the changed tiles, the completed entry bundles and a signed
checkpoint. Concurrent appenders in other processes therefore queue on the
lock and can never fork, skip or duplicate an index.

Readers see only committed trees: every read is bounded by the newest
checkpoint. Memory is bounded by a batch and a small cache of full tiles,
never by the size of the log.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from threading import Lock

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import OperationalError, ProgrammingError

from ledger.checkpoint import Checkpoint
from ledger.errors import EntryError, RangeError, StoreError
from ledger.proof import NodeID, consistency_nodes, inclusion_nodes
from ledger.receipt import Receipt
from ledger.rfc9162 import Hash, hash_leaf
from ledger.store import migrate
from ledger.store.engine import is_sqlite
from ledger.store.tables import log_checkpoints, log_entries, log_state, log_tiles
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
    split_hashes,
    tile_width,
)

SignCheckpoint = Callable[[Checkpoint], str]
"""Signs a checkpoint body and returns the signed note (C2SP signed-note)."""

_STATE_ID = 1
_FULL_TILE_CACHE = 4096  # 4096 full tiles × 8 KiB = 32 MiB at most


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


class LogStore:
    """An append-only RFC 9162 log stored as C2SP tiles in a SQL database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._full_tiles: OrderedDict[tuple[int, int], list[bytes]] = OrderedDict()
        self._cache_lock = Lock()

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
        return True

    def origin(self) -> str:
        """The log's origin line; raises StoreError before :meth:`initialise`."""
        try:
            with self.engine.connect() as conn:
                origin = conn.execute(select(log_state.c.origin)).scalar_one_or_none()
        except (OperationalError, ProgrammingError) as exc:  # no tables yet
            raise StoreError("the log is not initialised (run `carbonlabel log init`)") from exc
        if origin is None:
            raise StoreError("the log is not initialised (run `carbonlabel log init`)")
        return str(origin)

    def _write(self) -> _WriteTransaction:
        return _WriteTransaction(self.engine)

    # -- integration --------------------------------------------------------------

    def integrate(self, entries: Sequence[bytes], sign: SignCheckpoint, now: datetime) -> Appended:
        """Append ``entries`` in order, in one transaction, and sign the new checkpoint.

        Raises EntryError (nothing written) if an entry is empty or too large,
        StoreError if the log is not initialised.
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
                raise StoreError("the log is not initialised (run `carbonlabel log init`)")
            origin, old_size = state
            if not entries:
                latest = self._latest(conn)
                return Appended(old_size, old_size, latest.note)
            edge = {
                t.level: self._read_tile(conn, t.level, t.index, t.width)
                for t in edge_tiles(old_size)
            }
            result = integrate(old_size, edge, [hash_leaf(e) for e in entries])
            conn.execute(
                insert(log_entries),
                [{"idx": old_size + i, "data": e} for i, e in enumerate(entries)],
            )
            rows = [
                {"level": t.level, "idx": t.index, "width": t.width, "data": data}
                for t, data in result.tiles
            ]
            rows += self._completed_bundles(conn, old_size, entries)
            conn.execute(insert(log_tiles), rows)
            note = sign(Checkpoint(origin, result.size, result.root))
            conn.execute(
                insert(log_checkpoints).values(
                    tree_size=result.size, root=result.root, note=note, created_at=now
                )
            )
            conn.execute(
                update(log_state).where(log_state.c.id == _STATE_ID).values(tree_size=result.size)
            )
        return Appended(old_size, result.size, note)

    def _completed_bundles(
        self, conn: Connection, old_size: int, entries: Sequence[bytes]
    ) -> list[dict[str, object]]:
        """Entry bundles that this batch fills to 256 entries."""
        rows: list[dict[str, object]] = []
        new_size = old_size + len(entries)
        first = old_size // TILE_WIDTH
        for bundle in range(first, new_size // TILE_WIDTH):
            start = bundle * TILE_WIDTH
            if start < old_size:
                older = list(
                    conn.execute(
                        select(log_entries.c.data)
                        .where(log_entries.c.idx >= start, log_entries.c.idx < old_size)
                        .order_by(log_entries.c.idx)
                    ).scalars()
                )
                members = older + list(entries[: start + TILE_WIDTH - old_size])
            else:
                members = list(entries[start - old_size : start - old_size + TILE_WIDTH])
            rows.append(
                {
                    "level": ENTRIES_LEVEL,
                    "idx": bundle,
                    "width": TILE_WIDTH,
                    "data": encode_bundle(members),
                }
            )
        return rows

    # -- reads ------------------------------------------------------------------

    def _latest(self, conn: Connection) -> StoredCheckpoint:
        try:
            row = conn.execute(
                select(log_checkpoints).order_by(log_checkpoints.c.tree_size.desc()).limit(1)
            ).one_or_none()
        except (OperationalError, ProgrammingError) as exc:  # no tables yet
            raise StoreError("the log is not initialised (run `carbonlabel log init`)") from exc
        if row is None:
            raise StoreError("the log is not initialised (run `carbonlabel log init`)")
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

    def entry(self, index: int) -> bytes:
        """The entry at ``index``; raises RangeError beyond the newest checkpoint."""
        with self.engine.connect() as conn:
            size = self._latest(conn).tree_size
            if index is None or not 0 <= index < size:
                raise RangeError(f"index {index} is not in the log (tree size {size})")
            data: bytes = conn.execute(
                select(log_entries.c.data).where(log_entries.c.idx == index)
            ).scalar_one()
        return data

    def entries(
        self, start: int = 0, stop: int | None = None, chunk: int = 4096
    ) -> Iterator[bytes]:
        """Stream entries ``start .. stop - 1`` in order, ``chunk`` rows per query."""
        position = start
        end = self.tree_size() if stop is None else stop
        while position < end:
            upper = min(end, position + chunk)
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(log_entries.c.idx, log_entries.c.data)
                    .where(log_entries.c.idx >= position, log_entries.c.idx < upper)
                    .order_by(log_entries.c.idx)
                ).all()
            for idx, data in rows:
                if idx != position:
                    raise StoreError(f"entry {position} is missing (next stored is {idx})")
                yield data
                position += 1
            if position < upper:
                raise StoreError(f"entry {position} is missing")

    def tile(self, level: int, index: int, width: int) -> bytes | None:
        """Tile bytes as C2SP tlog-tiles serves them, or None if beyond the newest tree.

        A partial tile of width ``w`` is the first ``w`` hashes of any wider
        version of that tile, so it is served from the narrowest stored one.
        """
        with self.engine.connect() as conn:
            size = self._latest(conn).tree_size
            available = tile_width(size, level, index)
            if width > available:
                return None
            if level == ENTRIES_LEVEL:
                return self._read_bundle(conn, index, width)
            return self._read_tile(conn, level, index, width)

    def _read_bundle(self, conn: Connection, index: int, width: int) -> bytes:
        if width == TILE_WIDTH:
            stored = conn.execute(
                select(log_tiles.c.data).where(
                    log_tiles.c.level == ENTRIES_LEVEL,
                    log_tiles.c.idx == index,
                    log_tiles.c.width == TILE_WIDTH,
                )
            ).scalar_one_or_none()
            if stored is not None:
                return bytes(stored)
        start = index * TILE_WIDTH
        members = conn.execute(
            select(log_entries.c.data)
            .where(log_entries.c.idx >= start, log_entries.c.idx < start + width)
            .order_by(log_entries.c.idx)
        ).scalars()
        return encode_bundle(list(members))

    def _read_tile(self, conn: Connection, level: int, index: int, width: int) -> bytes:
        if width == TILE_WIDTH:
            cached = self._cached_full(level, index)
            if cached is not None:
                return b"".join(cached)
        data = conn.execute(
            select(log_tiles.c.data)
            .where(log_tiles.c.level == level, log_tiles.c.idx == index, log_tiles.c.width >= width)
            .order_by(log_tiles.c.width)
            .limit(1)
        ).scalar_one_or_none()
        if data is None:
            raise StoreError(f"tile {TileID(level, index, width).path()} is missing from the store")
        data = bytes(data)[: width * 32]
        if width == TILE_WIDTH:
            self._cache_full(level, index, split_hashes(data))
        return data

    def _cached_full(self, level: int, index: int) -> list[bytes] | None:
        with self._cache_lock:
            hashes = self._full_tiles.get((level, index))
            if hashes is not None:
                self._full_tiles.move_to_end((level, index))
            return hashes

    def _cache_full(self, level: int, index: int, hashes: list[bytes]) -> None:
        with self._cache_lock:
            self._full_tiles[(level, index)] = hashes
            while len(self._full_tiles) > _FULL_TILE_CACHE:
                self._full_tiles.popitem(last=False)

    def _tile_hashes(self, conn: Connection, level: int, index: int, size: int) -> list[bytes]:
        width = tile_width(size, level, index)
        cached = self._cached_full(level, index) if width == TILE_WIDTH else None
        if cached is not None:
            return cached
        return split_hashes(self._read_tile(conn, level, index, width))

    def _node_hashes(self, conn: Connection, nodes: Sequence[NodeID], size: int) -> list[Hash]:
        tiles: dict[tuple[int, int], list[bytes]] = {}
        hashes: list[Hash] = []
        for node in nodes:
            level, index, _ = node_tile(node)
            if (level, index) not in tiles:
                tiles[(level, index)] = self._tile_hashes(conn, level, index, size)
            hashes.append(node_hash(node, tiles[(level, index)]))
        return hashes

    def _bounded_size(self, conn: Connection, size: int | None) -> int:
        latest = self._latest(conn).tree_size
        if size is None:
            return latest
        if not 0 <= size <= latest:
            raise RangeError(f"tree size {size} is beyond the newest checkpoint ({latest})")
        return size

    def inclusion_proof(self, index: int, size: int | None = None) -> list[Hash]:
        """RFC 9162 §2.1.3.1 proof for ``index`` in the tree of ``size`` (default: newest).

        Raises RangeError if the size is beyond the newest checkpoint or the
        index is not below it.
        """
        with self.engine.connect() as conn:
            size = self._bounded_size(conn, size)
            nodes = inclusion_nodes(index, size)
            return nodes.rehash(self._node_hashes(conn, nodes.ids, size))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[Hash]:
        """RFC 9162 §2.1.4.1 proof that ``old_size`` is a prefix of ``new_size``.

        Raises RangeError unless ``0 < old_size <= new_size <= newest size``.
        """
        with self.engine.connect() as conn:
            new_size = self._bounded_size(conn, new_size)
            nodes = consistency_nodes(old_size, new_size)
            return nodes.rehash(self._node_hashes(conn, nodes.ids, new_size))

    def receipt(self, index: int, tree_size: int | None = None) -> Receipt:
        """An offline proof that entry ``index`` is in the log.

        Proves against the checkpoint signed at ``tree_size`` (default: the
        newest). Raises RangeError if no checkpoint was signed at that size or
        the index is not below it.
        """
        with self.engine.connect() as conn:
            if tree_size is None:
                checkpoint = self._latest(conn)
            else:
                row = conn.execute(
                    select(log_checkpoints).where(log_checkpoints.c.tree_size == tree_size)
                ).one_or_none()
                if row is None:
                    raise RangeError(f"no checkpoint was signed at tree size {tree_size}")
                checkpoint = StoredCheckpoint(
                    row.tree_size, Hash(row.root), row.note, row.created_at
                )
            nodes = inclusion_nodes(index, checkpoint.tree_size)
            proof = nodes.rehash(self._node_hashes(conn, nodes.ids, checkpoint.tree_size))
        return Receipt(index=index, proof=tuple(proof), checkpoint=checkpoint.note)

    def stored_tiles(self, level: int, index: int) -> list[tuple[int, bytes]]:
        """Every stored version (width, bytes) of one tile, narrowest first (for audits)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(log_tiles.c.width, log_tiles.c.data)
                .where(log_tiles.c.level == level, log_tiles.c.idx == index)
                .order_by(log_tiles.c.width)
            ).all()
        return [(width, bytes(data)) for width, data in rows]

    def count_tiles(self) -> int:
        """How many tile rows (all widths, bundles included) are stored."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(log_tiles)).scalar_one())

    def state_size(self) -> int:
        """The tree size recorded in ``log_state`` (the audit checks it)."""
        with self.engine.connect() as conn:
            size = conn.execute(select(log_state.c.tree_size)).scalar_one_or_none()
        if size is None:
            raise StoreError("the log is not initialised (run `carbonlabel log init`)")
        return int(size)


class _WriteTransaction:
    """A transaction that holds the database's write lock from its first statement."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None

    def __enter__(self) -> Connection:
        conn = self._engine.connect()
        if is_sqlite(self._engine):
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        conn.begin()
        self._conn = conn
        return conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self._conn is not None
        try:
            if exc_type is None:
                self._conn.commit()
            else:
                self._conn.rollback()
        finally:
            self._conn.close()
