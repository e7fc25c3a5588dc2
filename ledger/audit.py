"""The log audit: recompute everything from the stored entries and compare.

One streaming pass over the entries rebuilds every tile level by level,
keeping only the rightmost (incomplete) tile of each level in memory. Each
time a tile of the recomputed tree is complete, every stored version of it
(full and partial widths) must be a prefix of it, and the interior stored with
each version (the nodes of its subtree that proofs slice hashes from) must
equal the one recomputed for that width; each time the stream reaches the size
of a stored checkpoint, that checkpoint's signature must verify under the log
key and its root must equal the recomputed root.
Since every checkpoint root is then a prefix root of one entry sequence, each
checkpoint is consistent with all those before it. Finally the numbers of tile
and interior rows must be exactly those the tree accounts for, so no stray row
(an unreferenced tile version, a stored entry bundle) goes unnoticed. Entry
bundles are not stored: they are assembled from the entries when served.

:func:`audit` returns a report or raises AuditError naming the first
discrepancy found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ledger.checkpoint import open_checkpoint
from ledger.errors import AuditError, LedgerError
from ledger.note import NoteVerifier
from ledger.rfc9162 import Hash, hash_children, hash_leaf
from ledger.store.log import LogStore, StoredCheckpoint
from ledger.tiles import TILE_WIDTH, TileID, project_interior, root_from_edge, tile_interior


@dataclass(frozen=True)
class AuditReport:
    """What a clean audit covered."""

    tree_size: int
    root: Hash
    entries: int
    tiles: int
    interiors: int
    checkpoints: int


class _TreeBuilder:
    """Rebuilds tiles from leaf hashes, checking each completed tile against the store."""

    def __init__(self, store: LogStore) -> None:
        self.store = store
        self.levels: list[list[bytes]] = []  # the incomplete rightmost tile of each level
        self.completed: list[int] = []  # full tiles completed per level
        self.tiles_checked = 0

    def add(self, level: int, node: bytes) -> None:
        while len(self.levels) <= level:
            self.levels.append([])
            self.completed.append(0)
        tile = self.levels[level]
        tile.append(node)
        if len(tile) == TILE_WIDTH:
            interior = self.check_tile(level, self.completed[level], tile)
            self.completed[level] += 1
            self.levels[level] = []
            self.add(level + 1, hash_children(interior[-64:-32], interior[-32:]))

    def check_tile(self, level: int, index: int, hashes: list[bytes]) -> bytes:
        """Every stored version of a finished tile, and its interior, must be a prefix
        of the recomputed one. Returns the recomputed interior."""
        stored = self.store.stored_tiles(level, index)
        if not stored or stored[-1][0] != len(hashes):
            raise AuditError(
                f"tile {TileID(level, index, len(hashes)).path()} is missing from the store"
            )
        interior = self._compare(level, index, hashes, stored)
        self.tiles_checked += len(stored)
        return interior

    def check_edge(self) -> None:
        """At a checkpoint: the stored versions of the edge tiles written so far must match."""
        for level, tile in enumerate(self.levels):
            if tile:
                stored = self.store.stored_tiles(level, self.completed[level])
                self._compare(
                    level, self.completed[level], tile, [s for s in stored if s[0] <= len(tile)]
                )

    def _compare(
        self, level: int, index: int, hashes: list[bytes], stored: list[tuple[int, bytes]]
    ) -> bytes:
        data = b"".join(hashes)
        interior = tile_interior(data)
        interiors = self.store.stored_interiors(level, index) if stored else {}
        for width, stored_data in stored:
            path = TileID(level, index, width).path()
            if stored_data != data[: width * 32]:
                position = _first_difference(stored_data, data) // 32
                raise AuditError(
                    f"tile {path}: hash {position} differs from the one recomputed from the entries"
                )
            stored_interior = interiors.get(width)
            if stored_interior is None:
                raise AuditError(f"interior of tile {path} is missing from the store")
            expected = project_interior(interior, len(hashes), width)
            if stored_interior != expected:
                position = _first_difference(stored_interior, expected) // 32
                raise AuditError(
                    f"interior of tile {path}: node {position} differs from the one "
                    "recomputed from the entries"
                )
        return interior

    def edge(self) -> dict[int, bytes]:
        return {level: b"".join(tile) for level, tile in enumerate(self.levels) if tile}

    def root(self, size: int) -> Hash:
        return root_from_edge(size, self.edge())

    def finish(self) -> None:
        """Check the partial edge tiles that remain at the end."""
        for level, tile in enumerate(self.levels):
            if tile:
                self.check_tile(level, self.completed[level], tile)


def _first_difference(a: bytes, b: bytes) -> int:
    for position, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return position
    return min(len(a), len(b))


def audit(
    store: LogStore,
    verifier: NoteVerifier,
    progress: Callable[[int], None] | None = None,
) -> AuditReport:
    """Recompute every tile and root from the entries; check every checkpoint.

    ``progress`` is called with the number of entries processed so far.
    Raises AuditError naming the first discrepancy.
    """
    try:
        return _audit(store, verifier, progress)
    except AuditError:
        raise
    except LedgerError as exc:
        raise AuditError(str(exc)) from exc


def _audit(
    store: LogStore, verifier: NoteVerifier, progress: Callable[[int], None] | None
) -> AuditReport:
    latest = store.latest_checkpoint()
    size = latest.tree_size
    if store.state_size() != size:
        raise AuditError(
            f"log_state says tree size {store.state_size()}, newest checkpoint says {size}"
        )
    checkpoints: Iterator[StoredCheckpoint] = store.checkpoints()
    pending = next(checkpoints, None)
    builder = _TreeBuilder(store)
    checked = 0

    def check_checkpoints_at(position: int) -> None:
        nonlocal pending, checked
        while pending is not None and pending.tree_size == position:
            builder.check_edge()
            _check_checkpoint(pending, builder.root(position), verifier)
            checked += 1
            pending = next(checkpoints, None)

    check_checkpoints_at(0)
    for index, entry in enumerate(store.entries(0, size), start=1):
        builder.add(0, hash_leaf(entry))
        if pending is not None and pending.tree_size < index:
            raise AuditError(f"checkpoint at tree size {pending.tree_size} is out of order")
        check_checkpoints_at(index)
        if progress is not None and index % 4096 == 0:
            progress(index)
    if pending is not None:
        raise AuditError(
            f"checkpoint at tree size {pending.tree_size} lies beyond the {size} stored entries"
        )
    builder.finish()
    stored_rows = store.count_tiles()
    if stored_rows != builder.tiles_checked:
        raise AuditError(
            f"the store holds {stored_rows} tile rows but the tree accounts for "
            f"{builder.tiles_checked}"
        )
    stored_interiors = store.count_interiors()
    if stored_interiors != stored_rows:
        raise AuditError(
            f"the store holds {stored_interiors} tile interior rows for {stored_rows} tile rows"
        )
    if progress is not None:
        progress(size)
    return AuditReport(size, builder.root(size), size, stored_rows, stored_interiors, checked)


def _check_checkpoint(stored: StoredCheckpoint, root: Hash, verifier: NoteVerifier) -> None:
    where = f"checkpoint at tree size {stored.tree_size}"
    try:
        checkpoint = open_checkpoint(stored.note, verifier)
    except LedgerError as exc:
        raise AuditError(f"{where}: {exc}") from exc
    if checkpoint.size != stored.tree_size:
        raise AuditError(f"{where}: its note says tree size {checkpoint.size}")
    if checkpoint.root != stored.root:
        raise AuditError(f"{where}: the stored root differs from the signed root")
    if checkpoint.root != root:
        raise AuditError(
            f"{where}: the signed root differs from the root recomputed from the entries"
        )
