"""C2SP tlog-tiles: tile coordinates, paths, and integration of new leaves.

A tile at level ``L`` and index ``N`` holds up to 256 consecutive hashes of
tree level ``8·L`` (level 0 holds leaf hashes); ``width`` counts them. A full
tile (width 256) never changes; only the rightmost tile of each level is
partial. Entry bundles hold the entries themselves, each prefixed by its
length as a big-endian uint16.

Everything here is pure: :func:`integrate` decides which tiles a batch writes
and what the new root is, and the store writes them (the tessera split of
deciding from persisting).

The *interior* of a tile of width ``w`` is the complete nodes of the subtree
over its hashes at heights 1..7, level by level (``w >> k`` nodes at height
``k``): 128 + 64 + … + 2 = 254 hashes for a full tile; height 8, a full tile's
root, is a hash of the tile one level up. Integration computes the interior of
every tile it writes (a full tile's root falls out of it) and the store keeps
it beside the tile, so that :func:`node_hash` finds any complete subtree as a
32-byte slice of :func:`tile_nodes`, with no hashing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from ledger.errors import EntryError, TilePathError
from ledger.proof import NodeID
from ledger.rfc9162 import EMPTY_ROOT, HASH_SIZE, Hash, hash_children, root_of

_sha256 = hashlib.sha256

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256
ENTRIES_LEVEL = -1
"""The ``level`` that stands for entry bundles (``tile/entries/...``)."""
MAX_ENTRY_SIZE = 0xFFFF
"""An entry bundle prefixes each entry with a uint16 length (C2SP tlog-tiles)."""
INTERIOR_SIZE = (TILE_WIDTH - 2) * HASH_SIZE
"""Bytes of a full tile's interior (heights 1..7 of its subtree): 254 hashes."""
NODES_SIZE = TILE_WIDTH * HASH_SIZE + INTERIOR_SIZE
"""Bytes of :func:`tile_nodes`: heights 0..7, each padded to a full tile's width."""
_PADDING = bytes(HASH_SIZE)


@dataclass(frozen=True, slots=True)
class TileID:
    """One tile: ``level`` (``ENTRIES_LEVEL`` for an entry bundle), ``index`` and ``width``."""

    level: int
    index: int
    width: int

    @property
    def is_full(self) -> bool:
        return self.width == TILE_WIDTH

    def path(self) -> str:
        """The tile's path, e.g. ``tile/0/x001/x234/067.p/8`` (C2SP tlog-tiles)."""
        return tile_path(self.level, self.index, self.width)


def encode_index(index: int) -> str:
    """Encode a tile index as 3-digit path elements, all but the last prefixed ``x``.

    ``1234067`` → ``x001/x234/067``; ``0`` → ``000``.
    """
    if index < 0:
        raise TilePathError(f"tile index must not be negative, got {index}")
    groups: list[str] = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """C2SP tlog-tiles path of a tile; partial tiles get the ``.p/<W>`` suffix."""
    if not 1 <= width <= TILE_WIDTH:
        raise TilePathError(f"tile width must be 1..{TILE_WIDTH}, got {width}")
    if level == ENTRIES_LEVEL:
        head = "tile/entries"
    elif 0 <= level <= 63:
        head = f"tile/{level}"
    else:
        raise TilePathError(f"tile level must be 0..63, got {level}")
    path = f"{head}/{encode_index(index)}"
    return path if width == TILE_WIDTH else f"{path}.p/{width}"


_LEVEL = re.compile(r"(0|[1-9][0-9]?)")
_INDEX_PART = re.compile(r"x[0-9]{3}")
_LAST_PART = re.compile(r"([0-9]{3})(?:\.p)?")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")


def parse_index(elements: Sequence[str]) -> tuple[int, bool]:
    """Parse ``x001``, ``x234``, ``067`` or ``067.p`` elements; return (index, partial)."""
    if not elements:
        raise TilePathError("tile index is missing")
    *head, last = elements
    index = 0
    for part in head:
        if not _INDEX_PART.fullmatch(part):
            raise TilePathError(f"tile index element {part!r} must be 'x' and three digits")
        index = index * 1000 + int(part[1:])
    match = _LAST_PART.fullmatch(last)
    if match is None:
        raise TilePathError(f"last tile index element {last!r} must be three digits")
    index = index * 1000 + int(match.group(1))
    return index, last.endswith(".p")


def parse_tile_path(path: str) -> TileID:
    """Parse ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]``.

    Raises TilePathError naming what is wrong.
    """
    parts = path.strip("/").split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise TilePathError(f"{path!r} is not a tile path (tile/<L>/<N>[.p/<W>])")
    if parts[1] == "entries":
        level = ENTRIES_LEVEL
    elif _LEVEL.fullmatch(parts[1]) and int(parts[1]) <= 63:
        level = int(parts[1])
    else:
        raise TilePathError(f"tile level {parts[1]!r} must be a number 0..63 or 'entries'")
    rest = parts[2:]
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        if not _WIDTH.fullmatch(rest[-1]) or not 1 <= int(rest[-1]) < TILE_WIDTH:
            raise TilePathError(f"partial tile width {rest[-1]!r} must be 1..255")
        width = int(rest[-1])
        rest = rest[:-1]
    index, partial = parse_index(rest)
    if partial != (width != TILE_WIDTH):
        raise TilePathError(f"{path!r}: '.p' must be followed by a width")
    return TileID(level, index, width)


def level_width(size: int, level: int) -> int:
    """How many hashes of tree level ``8·level`` a tree of ``size`` leaves has."""
    return size >> (TILE_HEIGHT * level)


def tile_width(size: int, level: int, index: int) -> int:
    """Width of tile (level, index) in a tree of ``size`` leaves; 0 if it lies beyond."""
    count = level_width(size, max(level, 0))
    return max(0, min(TILE_WIDTH, count - index * TILE_WIDTH))


def edge_tiles(size: int) -> Iterator[TileID]:
    """The rightmost partial tile of each level of a tree of ``size`` (width 1..255)."""
    level = 0
    while (count := level_width(size, level)) > 0:
        if count % TILE_WIDTH:
            yield TileID(level, count // TILE_WIDTH, count % TILE_WIDTH)
        level += 1


def split_hashes(data: bytes) -> list[bytes]:
    """Split a hash tile's bytes into its 32-byte hashes."""
    if len(data) % HASH_SIZE:
        raise TilePathError(f"hash tile length {len(data)} is not a multiple of {HASH_SIZE}")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length and its bytes."""
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise EntryError(f"entry of {len(entry)} bytes exceeds {MAX_ENTRY_SIZE}")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def decode_bundle(data: bytes) -> list[bytes]:
    """Split an entry bundle into entries; raise TilePathError if it is truncated."""
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise TilePathError("entry bundle is truncated inside a length prefix")
        length = int.from_bytes(data[pos : pos + 2], "big")
        if pos + 2 + length > len(data):
            raise TilePathError("entry bundle is truncated inside an entry")
        entries.append(data[pos + 2 : pos + 2 + length])
        pos += 2 + length
    return entries


@dataclass(frozen=True)
class Integration:
    """What integrating a batch decided: the tiles to write and the new tree head."""

    old_size: int
    size: int
    root: Hash
    tiles: tuple[tuple[TileID, bytes], ...]
    """Every hash tile the batch changed (full ones and the new partial edge)."""
    interiors: tuple[bytes, ...] = ()
    """The :func:`tile_interior` of each tile in :attr:`tiles`, in the same order."""


def integrate(
    old_size: int, edge: Mapping[int, bytes], leaf_hashes: Sequence[bytes]
) -> Integration:
    """Append ``leaf_hashes`` to a tree of ``old_size`` leaves.

    ``edge[L]`` holds the bytes of the rightmost partial tile of level ``L`` of
    the old tree (``edge_tiles(old_size)``); levels whose hash count is a
    multiple of 256 have no entry. Returns the tiles to write, which cover every
    hash of the new tree not already in a full tile, and the new root.
    Raises TilePathError if an edge tile does not have the expected width.
    """
    for tile in edge_tiles(old_size):
        if len(edge.get(tile.level, b"")) != tile.width * HASH_SIZE:
            raise TilePathError(f"edge tile {tile.path()} has the wrong width")
    written: list[tuple[TileID, bytes]] = []
    interiors: list[bytes] = []
    new_edge: dict[int, bytes] = {}
    new_size = old_size + len(leaf_hashes)
    incoming: list[bytes] = list(leaf_hashes)
    level = 0
    while level_width(new_size, level) > 0:
        old_hashes = split_hashes(edge.get(level, b""))
        if not incoming:  # this level did not change: keep its edge, write nothing
            if old_hashes:
                new_edge[level] = edge[level]
            level += 1
            continue
        first_tile = level_width(old_size, level) // TILE_WIDTH
        hashes = old_hashes + incoming
        incoming = []
        for offset in range(0, len(hashes), TILE_WIDTH):
            chunk = hashes[offset : offset + TILE_WIDTH]
            data = b"".join(chunk)
            tile = TileID(level, first_tile + offset // TILE_WIDTH, len(chunk))
            interior = tile_interior(data)
            written.append((tile, data))
            interiors.append(interior)
            if tile.is_full:
                incoming.append(hash_children(interior[-64:-32], interior[-32:]))
            else:
                new_edge[level] = data
        level += 1
    root = root_from_edge(new_size, new_edge)
    return Integration(old_size, new_size, root, tuple(written), tuple(interiors))


def root_from_edge(size: int, edge: Mapping[int, bytes]) -> Hash:
    """The root of a tree of ``size`` leaves from its rightmost partial tiles alone.

    The partial tile of level ``L`` holds perfect subtrees of height ``8·L``;
    its width's binary expansion groups them into the larger perfect subtrees
    that RFC 9162 §2.1.1's recursion splits the tree into, left to right.
    """
    if size == 0:
        return EMPTY_ROOT
    subtrees: list[bytes] = []
    for tile in sorted(edge_tiles(size), key=lambda t: -t.level):
        hashes = split_hashes(edge[tile.level])
        start = 0
        for bit in reversed(range(TILE_HEIGHT)):
            if tile.width & (1 << bit):
                subtrees.append(root_of(hashes[start : start + (1 << bit)]))
                start += 1 << bit
    root = subtrees.pop()
    while subtrees:
        root = hash_children(subtrees.pop(), root)
    return Hash(root)


def interior_size(width: int) -> int:
    """Bytes of the interior of a tile of ``width`` hashes."""
    return sum(width >> k for k in range(1, TILE_HEIGHT)) * HASH_SIZE


def tile_interior(data: bytes) -> bytes:
    """The interior of a hash tile: its complete nodes at heights 1..7, level by level.

    RFC 9162 §2.1.1 node hashes; height ``k`` holds ``width >> k`` nodes, so a
    full tile gives :data:`INTERIOR_SIZE` bytes. Raises TilePathError if
    ``data`` is not whole hashes.
    """
    level = split_hashes(data)
    out: list[bytes] = []
    for _ in range(1, TILE_HEIGHT):
        level = [
            _sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        out += level
    return b"".join(out)


def project_interior(interior: bytes, width: int, narrower: int) -> bytes:
    """The interior of the first ``narrower`` hashes of a tile, from that of ``width``.

    A node depends only on the hashes below it, so each level's first nodes are
    the narrower tile's. Raises TilePathError if ``interior`` does not have the
    size of a ``width`` tile's or ``narrower > width``.
    """
    if len(interior) != interior_size(width) or not 0 <= narrower <= width:
        raise TilePathError(f"interior of {len(interior)} bytes is not that of width {width}")
    if narrower == width:
        return interior
    parts: list[bytes] = []
    position = 0
    for k in range(1, TILE_HEIGHT):
        parts.append(interior[position : position + (narrower >> k) * HASH_SIZE])
        position += (width >> k) * HASH_SIZE
    return b"".join(parts)


def tile_nodes(
    data: bytes, interior: bytes | None = None, interior_width: int | None = None
) -> bytes:
    """A tile's hashes and interior as one value, each height padded to a full tile's width.

    ``interior`` is the stored interior of the tile at ``interior_width`` (at
    least ``len(data) // 32``; default: the same width); computed when not
    given. The node of height ``r`` (0..7) at position ``p`` of the tile's
    subtree is hash number ``512 - (512 >> r) + p`` (:func:`node_hash`).
    Raises TilePathError if the sizes do not fit.
    """
    width = len(data) // HASH_SIZE
    if width > TILE_WIDTH or len(data) % HASH_SIZE:
        raise TilePathError(f"a hash tile of {len(data)} bytes is not 1..256 hashes")
    if interior is None:
        interior = tile_interior(data)
    elif interior_width is not None:
        interior = project_interior(interior, interior_width, width)
    if len(interior) != interior_size(width):
        raise TilePathError(f"interior of {len(interior)} bytes is not that of width {width}")
    parts = [data, _PADDING * (TILE_WIDTH - width)]
    position = 0
    for k in range(1, TILE_HEIGHT):
        count = width >> k
        parts.append(interior[position : position + count * HASH_SIZE])
        parts.append(_PADDING * ((TILE_WIDTH >> k) - count))
        position += count * HASH_SIZE
    return b"".join(parts)


def node_tile(node: NodeID) -> tuple[int, int, slice]:
    """Where a complete subtree's hash comes from: (tile level, tile index, hashes slice).

    A node of height ``8·L + r`` is the root of ``2**r`` consecutive hashes of
    one level-``L`` tile.
    """
    level, rest = divmod(node.level, TILE_HEIGHT)
    first = node.index << rest
    offset = first % TILE_WIDTH
    return level, first // TILE_WIDTH, slice(offset, offset + (1 << rest))


def node_hash(node: NodeID, nodes: bytes, width: int) -> Hash:
    """The hash of a complete subtree, sliced from the :func:`tile_nodes` of its tile.

    ``width`` is the width of the tile ``nodes`` was built from; raises
    TilePathError if the node is not complete within it.
    """
    _, _, span = node_tile(node)
    if span.stop > width:
        raise TilePathError(f"tile of width {width} is too narrow for node {node}")
    rest = node.level % TILE_HEIGHT
    position = (2 * TILE_WIDTH - (2 * TILE_WIDTH >> rest) + (span.start >> rest)) * HASH_SIZE
    return Hash(nodes[position : position + HASH_SIZE])
