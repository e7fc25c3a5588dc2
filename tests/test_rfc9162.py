"""ledger.rfc9162 against the RFC 6962 reference tree and the recursive reference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.rfc9162 import EMPTY_ROOT, HASH_SIZE, hash_children, hash_leaf, root_of, split_point
from tests import reference_merkle as ref

VECTORS = Path(__file__).parent / "vectors" / "tlog"
TREE: dict[str, Any] = json.loads((VECTORS / "rfc6962_reference_tree.json").read_text())
LEAF_INPUTS = [bytes.fromhex(h) for h in TREE["leaf_inputs_hex"]]
LEAF_HASHES = [bytes.fromhex(h) for h in TREE["leaf_hashes_hex"]]
ROOTS = {int(size): bytes.fromhex(h) for size, h in TREE["root_hash_by_size_hex"].items()}
NODES = [
    (int(level), index, bytes.fromhex(h))
    for level, row in TREE["node_hashes_by_level_hex"].items()
    for index, h in enumerate(row)
]
SYNTHETIC = [hash_leaf(i.to_bytes(8, "big")) for i in range(300)]


def test_reference_tree_is_complete() -> None:
    assert len(LEAF_INPUTS) == len(LEAF_HASHES) == 8
    assert sorted(ROOTS) == list(range(9))
    assert len(NODES) == 8 + 4 + 2 + 1


@pytest.mark.parametrize("index", range(8), ids=lambda i: f"leaf-{i}")
def test_leaf_hash(index: int) -> None:
    assert hash_leaf(LEAF_INPUTS[index]) == LEAF_HASHES[index]


@pytest.mark.parametrize("size", range(9), ids=lambda n: f"size-{n}")
def test_root_of_every_prefix(size: int) -> None:
    assert root_of(LEAF_HASHES[:size]) == ROOTS[size]
    assert ref.list_mth(LEAF_HASHES)(0, size) == ROOTS[size]


@pytest.mark.parametrize(
    ("level", "index", "want"), NODES, ids=[f"node-{lv}-{ix}" for lv, ix, _ in NODES]
)
def test_node_hash(level: int, index: int, want: bytes) -> None:
    leaves = LEAF_HASHES[index << level : (index + 1) << level]
    assert root_of(leaves) == want
    if level > 0:
        children = {(lv, ix): h for lv, ix, h in NODES}
        left, right = children[level - 1, 2 * index], children[level - 1, 2 * index + 1]
        assert hash_children(left, right) == want


@pytest.mark.parametrize(
    "vector", TREE["hasher_vectors"], ids=[v["desc"] for v in TREE["hasher_vectors"]]
)
def test_hasher_vectors(vector: dict[str, str]) -> None:
    want = bytes.fromhex(vector["want"])
    if "leaf_hex" in vector:
        assert hash_leaf(bytes.fromhex(vector["leaf_hex"])) == want
    elif "left_hex" in vector:
        got = hash_children(bytes.fromhex(vector["left_hex"]), bytes.fromhex(vector["right_hex"]))
        assert got == want
    else:
        assert want == EMPTY_ROOT == root_of([])


def test_hash_sizes() -> None:
    assert len(EMPTY_ROOT) == len(hash_leaf(b"x")) == len(hash_children(b"a", b"b")) == HASH_SIZE
    assert hash_leaf(b"") != hash_children(b"", b"")  # domain separation


@pytest.mark.parametrize("n", range(2, 300))
def test_split_point(n: int) -> None:
    k = split_point(n)
    assert k == ref.split(n)
    assert k < n <= 2 * k


def test_root_of_matches_reference_for_every_prefix() -> None:
    mth = ref.list_mth(SYNTHETIC)
    for size in range(len(SYNTHETIC) + 1):
        assert root_of(SYNTHETIC[:size]) == mth(0, size), size
