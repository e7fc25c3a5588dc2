"""C2SP tlog-tiles: paths, integration and node hashes, against vectors and root_of."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import TilePathError
from ledger.proof import NodeID
from ledger.rfc9162 import hash_leaf, root_of
from ledger.tiles import (
    ENTRIES_LEVEL,
    TileID,
    decode_bundle,
    edge_tiles,
    encode_bundle,
    encode_index,
    integrate,
    interior_size,
    node_hash,
    node_tile,
    parse_tile_path,
    project_interior,
    split_hashes,
    tile_interior,
    tile_nodes,
    tile_path,
    tile_width,
)

VECTORS = json.loads((Path(__file__).parent / "vectors/tlog/tile_paths.json").read_text())
C2SP = VECTORS["c2sp_tlog_tiles"]
GO = VECTORS["go_sumdb_tlog_paths"]["vectors"]


@pytest.mark.parametrize(("index", "encoded"), sorted(C2SP["index_encoding_examples"].items()))
def test_index_encoding_matches_spec(index: str, encoded: str) -> None:
    assert encode_index(int(index)) == encoded
    assert parse_tile_path(f"tile/0/{encoded}") == TileID(0, int(index), 256)


def _c2sp_form(vector: dict[str, object]) -> str:
    """The Go path with its height element dropped: C2SP fixes the height at 8."""
    parts = str(vector["path"]).split("/")
    return "/".join([parts[0], *parts[2:]]).replace("/data/", "/entries/")


@pytest.mark.parametrize("vector", [v for v in GO if not v.get("invalid")], ids=lambda v: v["path"])
def test_go_paths_in_c2sp_form_round_trip(vector: dict[str, object]) -> None:
    path = _c2sp_form(vector)
    tile = parse_tile_path(path)
    level = ENTRIES_LEVEL if vector["L"] == -1 else vector["L"]
    assert (tile.level, tile.index) == (level, vector["N"])
    assert tile.path() == path


@pytest.mark.parametrize("vector", [v for v in GO if v.get("invalid")], ids=lambda v: v["path"])
def test_go_invalid_paths_are_refused(vector: dict[str, object]) -> None:
    with pytest.raises(TilePathError):
        parse_tile_path(_c2sp_form(vector))


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1",  # not three digits
        "tile/0/x1/000",
        "tile/64/000",  # level out of range
        "tile/01/000",  # leading zero
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/",
        "tile/0/000.p",
        "tile/0/000/.p/3",
        "tiles/0/000",
        "tile/entries/x/000",
    ],
)
def test_malformed_paths_are_refused(path: str) -> None:
    with pytest.raises(TilePathError):
        parse_tile_path(path)


def test_partial_width_path() -> None:
    assert tile_path(1, 1234067, 17) == "tile/1/x001/x234/067.p/17"
    assert tile_path(ENTRIES_LEVEL, 5, 3) == "tile/entries/005.p/3"
    assert parse_tile_path("tile/entries/005.p/3") == TileID(ENTRIES_LEVEL, 5, 3)


@pytest.mark.parametrize("size", [70000, 256])
def test_tile_counts_match_spec_examples(size: int) -> None:
    expected = C2SP[f"tree_size_{size}"]["computed"]
    partial = {t.level: t.width for t in edge_tiles(size)}
    for level in expected:
        assert size >> (8 * level["level"]) >> 8 == level["full_tiles"]
        assert partial.get(level["level"], 0) == level["partial_width"]


def _leaves(n: int, start: int = 0) -> list[bytes]:
    return [hash_leaf(i.to_bytes(8, "big")) for i in range(start, start + n)]


def _grow(batches: list[int]) -> tuple[int, dict[tuple[int, int], bytes], list[bytes]]:
    """Integrate batches; return size, the newest version of each tile, and all roots.

    Also checks that every tile written comes with its interior.
    """
    size, edge, tiles, roots = 0, {}, {}, []
    for count in batches:
        result = integrate(size, edge, _leaves(count, size))
        for tile, data in result.tiles:
            tiles[(tile.level, tile.index)] = data
            assert len(data) == 32 * tile.width
        assert len(result.interiors) == len(result.tiles)
        for (tile, data), interior in zip(result.tiles, result.interiors, strict=True):
            assert interior == tile_interior(data)
            assert len(interior) == interior_size(tile.width)
        size = result.size
        edge = {t.level: tiles[(t.level, t.index)] for t in edge_tiles(size)}
        roots.append(result.root)
    return size, tiles, roots


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=700), min_size=1, max_size=6))
def test_incremental_integration_gives_rfc9162_roots(batches: list[int]) -> None:
    size, tiles, roots = _grow(batches)
    total = 0
    for count, root in zip(batches, roots, strict=True):
        total += count
        assert root == root_of(_leaves(total))
    level0 = b"".join(tiles[(0, i)] for i in range((size + 255) // 256))
    assert split_hashes(level0) == _leaves(size)


def test_integration_across_levels() -> None:
    size, tiles, roots = _grow([256 * 256 + 300])
    assert roots[-1] == root_of(_leaves(size))
    level1 = split_hashes(tiles[(1, 0)])
    assert level1[5] == root_of(_leaves(256, 5 * 256))
    assert split_hashes(tiles[(2, 0)]) == [root_of(_leaves(65536))]


def test_edge_width_is_checked() -> None:
    with pytest.raises(TilePathError):
        integrate(3, {0: b"\x00" * 64}, [])


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=2000), st.data())
def test_node_hash_from_tiles(size: int, data: st.DataObject) -> None:
    _, tiles, _ = _grow([size])
    level = data.draw(st.integers(min_value=0, max_value=size.bit_length() - 1))
    index = data.draw(st.integers(min_value=0, max_value=(size >> level) - 1))
    node = NodeID(level, index)
    tile_level, tile_index, _ = node_tile(node)
    width = tile_width(size, tile_level, tile_index)
    nodes = tile_nodes(tiles[(tile_level, tile_index)])
    assert node_hash(node, nodes, width) == root_of(_leaves(1 << level, index << level))


def test_interior_layout_of_a_full_tile() -> None:
    leaves = _leaves(256)
    interior = tile_interior(b"".join(leaves))
    assert len(interior) == 254 * 32
    hashes = split_hashes(interior)
    offset = 0
    for height in range(1, 8):
        count = 256 >> height
        expected = [root_of(leaves[i << height : (i + 1) << height]) for i in range(count)]
        assert hashes[offset : offset + count] == expected
        offset += count


@pytest.mark.parametrize("narrower", [0, 1, 2, 5, 100, 255, 256])
def test_projected_interior_is_the_narrower_tiles(narrower: int) -> None:
    leaves = _leaves(256)
    full = tile_interior(b"".join(leaves))
    assert project_interior(full, 256, narrower) == tile_interior(b"".join(leaves[:narrower]))
    with pytest.raises(TilePathError):
        project_interior(full, 255, narrower)
    with pytest.raises(TilePathError):
        tile_nodes(b"".join(leaves[:narrower]) or b"", full[:-32], 256)


def test_node_hash_refuses_a_node_beyond_a_partial_tile() -> None:
    nodes = tile_nodes(b"".join(_leaves(5)))
    assert node_hash(NodeID(2, 0), nodes, 5) == root_of(_leaves(4))
    with pytest.raises(TilePathError):
        node_hash(NodeID(1, 2), nodes, 5)  # leaves 4..5: only leaf 4 exists


@given(st.lists(st.binary(max_size=300), max_size=20))
def test_bundle_round_trip(entries: list[bytes]) -> None:
    assert decode_bundle(encode_bundle(entries)) == entries


def test_truncated_bundle_is_refused() -> None:
    with pytest.raises(TilePathError):
        decode_bundle(encode_bundle([b"abc"])[:-1])
