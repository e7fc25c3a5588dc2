"""ledger.proof three ways: standard vectors, the recursive reference, hypothesis properties."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import ConsistencyProofError, InclusionProofError, RangeError, StoreError
from ledger.proof import (
    NodeID,
    ProofNodes,
    consistency_nodes,
    consistency_proof,
    inclusion_nodes,
    inclusion_proof,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from ledger.rfc9162 import EMPTY_ROOT, hash_leaf, root_of
from tests import reference_merkle as ref

VECTORS = Path(__file__).parent / "vectors" / "tlog"


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text())


TREE = _load("rfc6962_reference_tree.json")
TREE_LEAVES = [bytes.fromhex(h) for h in TREE["leaf_hashes_hex"]]
INCLUSION_PROBES = _load("transparency-dev-merkle_inclusion_probes.json")["vectors"]
CONSISTENCY_PROBES = _load("transparency-dev-merkle_consistency_probes.json")["vectors"]


def _probe_id(vector: dict[str, Any], kind: str) -> str:
    """Upstream file name: ``…/testdata/consistency/3/size1-XOR-@2.json@…`` → ``3/size1-XOR-@2``."""
    name: str = vector["source"].split(f"/testdata/{kind}/", 1)[1]
    return name.rsplit(".json@", 1)[0]


INCLUSION_IDS = [_probe_id(v, "inclusion") for v in INCLUSION_PROBES]
CONSISTENCY_IDS = [_probe_id(v, "consistency") for v in CONSISTENCY_PROBES]


def _hexes(values: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in values]


# --- node readers ---------------------------------------------------------------------------


def make_reader(
    mth: ref.MTH, size: int, calls: list[tuple[NodeID, ...]] | None = None
) -> Callable[[Sequence[NodeID]], list[bytes]]:
    """A node reader over ``mth`` that refuses any node that is not a complete subtree of
    the tree of ``size`` leaves (so a proof can never depend on leaves beyond it)."""

    def read(ids: Sequence[NodeID]) -> list[bytes]:
        if calls is not None:
            calls.append(tuple(ids))
        out = []
        for node in ids:
            lo, hi = node.index << node.level, (node.index + 1) << node.level
            assert node.level >= 0 and node.index >= 0 and hi <= size, (node, size)
            out.append(mth(lo, hi))
        return out

    return read


SMALL_LEAVES = [ref.leaf(i.to_bytes(8, "big")) for i in range(640)]
SMALL_MTH = ref.list_mth(SMALL_LEAVES)
TREE_MTH = ref.list_mth(TREE_LEAVES)

_MEMO: dict[tuple[int, int], bytes] = {}


def synthetic_leaf(i: int) -> bytes:
    return ref.leaf(i.to_bytes(8, "big"))


def synthetic_mth(lo: int, hi: int) -> bytes:
    """MTH of synthetic leaves [lo, hi), memoised for spans of 64 and more (a few MB at 2**20)."""
    span = hi - lo
    if span < 64:
        if span > 0 and span & (span - 1) == 0:  # a perfect subtree: hash level by level
            level = [synthetic_leaf(i) for i in range(lo, hi)]
            while len(level) > 1:
                level = [ref.node(a, b) for a, b in zip(level[::2], level[1::2], strict=True)]
            return level[0]
        return ref.range_mth(lo, hi, synthetic_leaf, synthetic_mth)
    value = _MEMO.get((lo, hi))
    if value is None:
        value = _MEMO[lo, hi] = ref.range_mth(lo, hi, synthetic_leaf, synthetic_mth)
    return value


LARGE_SIZES = [2**20 + 3, 2**20, 2**20 - 1, 1_000_003]


def _root(mth: ref.MTH, size: int) -> bytes:
    return mth(0, size) if size > 0 else EMPTY_ROOT


# --- standard vectors -----------------------------------------------------------------------


def test_probe_ids_are_unique() -> None:
    assert len(INCLUSION_PROBES) == len(set(INCLUSION_IDS)) == 98
    assert len(CONSISTENCY_PROBES) == len(set(CONSISTENCY_IDS)) == 98


@pytest.mark.parametrize("vector", INCLUSION_PROBES, ids=INCLUSION_IDS)
def test_inclusion_probe(vector: dict[str, Any]) -> None:
    args = (
        vector["leafIdx"],
        vector["treeSize"],
        bytes.fromhex(vector["leafHash_hex"]),
        _hexes(vector["proof_hex"]),
        bytes.fromhex(vector["root_hex"]),
    )
    if vector["wantErr"]:
        with pytest.raises(InclusionProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("vector", CONSISTENCY_PROBES, ids=CONSISTENCY_IDS)
def test_consistency_probe(vector: dict[str, Any]) -> None:
    args = (
        vector["size1"],
        vector["size2"],
        _hexes(vector["proof_hex"]),
        bytes.fromhex(vector["root1_hex"]),
        bytes.fromhex(vector["root2_hex"]),
    )
    if vector["wantErr"]:
        with pytest.raises(ConsistencyProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


@pytest.mark.parametrize(
    "vector",
    TREE["reference_inclusion_proofs"],
    ids=[f"leaf-{v['leaf_index']}-of-{v['tree_size']}" for v in TREE["reference_inclusion_proofs"]],
)
def test_reference_tree_inclusion_proof(vector: dict[str, Any]) -> None:
    index, size = vector["leaf_index"], vector["tree_size"]
    want = _hexes(vector["path_hex"])
    root, leaf_hash = bytes.fromhex(vector["root_hex"]), bytes.fromhex(vector["leaf_hash_hex"])
    assert hash_leaf(bytes.fromhex(vector["leaf_input_hex"])) == leaf_hash
    assert inclusion_proof(index, size, make_reader(TREE_MTH, size)) == want
    assert ref.path(index, 0, size, TREE_MTH) == want
    assert root_from_inclusion_proof(index, size, leaf_hash, want) == root
    verify_inclusion(index, size, leaf_hash, want, root)


@pytest.mark.parametrize(
    "vector",
    TREE["reference_consistency_proofs"],
    ids=[f"{v['size1']}-to-{v['size2']}" for v in TREE["reference_consistency_proofs"]],
)
def test_reference_tree_consistency_proof(vector: dict[str, Any]) -> None:
    size1, size2 = vector["size1"], vector["size2"]
    want = _hexes(vector["proof_hex"])
    root1, root2 = bytes.fromhex(vector["root1_hex"]), bytes.fromhex(vector["root2_hex"])
    assert consistency_proof(size1, size2, make_reader(TREE_MTH, size2)) == want
    assert ref.proof(size1, size2, TREE_MTH) == want
    verify_consistency(size1, size2, want, root1, root2)


def test_every_proof_in_the_reference_tree() -> None:
    roots = {n: bytes.fromhex(h) for n, h in TREE["root_hash_by_size_hex"].items()}
    for size in range(1, 9):
        read = make_reader(TREE_MTH, size)
        for index in range(size):
            proof = inclusion_proof(index, size, read)
            assert proof == ref.path(index, 0, size, TREE_MTH)
            verify_inclusion(index, size, TREE_LEAVES[index], proof, roots[str(size)])
        for size1 in range(1, size + 1):
            proof = consistency_proof(size1, size, read)
            assert proof == ref.proof(size1, size, TREE_MTH)
            verify_consistency(size1, size, proof, roots[str(size1)], roots[str(size)])


# --- node IDs -------------------------------------------------------------------------------


def _check_nodes(nodes: ProofNodes, size: int) -> None:
    """Every ID is a complete subtree inside the tree; the ephemeral group is the right
    border [start, size) of a non-perfect subtree, left to right, of at least two parts."""
    for node in nodes.ids:
        assert node.level >= 0 and node.index >= 0
        assert (node.index + 1) << node.level <= size
    group = nodes.ids[nodes.begin : nodes.end]
    if group:
        assert len(group) >= 2
        start = group[0].index << group[0].level
        for node in group:
            assert node.index << node.level == start
            start += 1 << node.level
        assert start == size
        assert [n.level for n in group] == sorted((n.level for n in group), reverse=True)
    assert len(nodes.ids) <= 2 * size.bit_length()


@pytest.mark.parametrize("size", range(1, 70))
def test_node_ids_are_complete_subtrees(size: int) -> None:
    for index in range(size):
        _check_nodes(inclusion_nodes(index, size), size)
    for size1 in range(1, size + 1):
        _check_nodes(consistency_nodes(size1, size), size)


def test_node_ids_for_huge_trees_are_logarithmic() -> None:
    size = 2**64 - 1
    for index in (0, 1, 2**63 - 1, 2**63, size - 2, size - 1, 0x5555_5555_5555_5555):
        nodes = inclusion_nodes(index, size)
        _check_nodes(nodes, size)
        assert len(nodes.ids) <= 2 * 64
    for size1 in (1, 2, 3, 2**40 + 1, 2**63, size - 1, size):
        _check_nodes(consistency_nodes(size1, size), size)


def test_examples_of_node_ids() -> None:
    # leaf 0 of 7: siblings leaf 1, node [2,4), then [4,7) = [4,6) + leaf 6 folded
    assert inclusion_nodes(0, 7) == ProofNodes(
        (NodeID(0, 1), NodeID(1, 1), NodeID(1, 2), NodeID(0, 6)), begin=2, end=4
    )
    assert inclusion_nodes(6, 7) == ProofNodes((NodeID(1, 2), NodeID(2, 0)))
    # 3 -> 7: seed leaf 2, then leaf 3, node [0,2), and [4,7) folded
    assert consistency_nodes(3, 7) == ProofNodes(
        (NodeID(0, 2), NodeID(0, 3), NodeID(1, 0), NodeID(1, 2), NodeID(0, 6)), begin=3, end=5
    )
    assert consistency_nodes(4, 8) == ProofNodes((NodeID(2, 1),))
    assert consistency_nodes(5, 5) == ProofNodes(())
    assert inclusion_nodes(0, 1) == ProofNodes(())


# --- preconditions and error messages -------------------------------------------------------


@pytest.mark.parametrize(("index", "size"), [(0, 0), (-1, 5), (5, 5), (6, 5), (0, -1)])
def test_inclusion_nodes_range(index: int, size: int) -> None:
    with pytest.raises(RangeError, match=f"leaf index {index} is not within a tree of size"):
        inclusion_nodes(index, size)
    with pytest.raises(RangeError):
        inclusion_proof(index, size, make_reader(SMALL_MTH, 300))


@pytest.mark.parametrize(("size1", "size2"), [(0, 0), (0, 5), (3, 2), (-1, 3), (1, -1)])
def test_consistency_nodes_range(size1: int, size2: int) -> None:
    with pytest.raises(RangeError, match=f"no consistency proof from tree size {size1} to"):
        consistency_nodes(size1, size2)
    with pytest.raises(RangeError):
        consistency_proof(size1, size2, make_reader(SMALL_MTH, 300))


def test_reader_not_called_for_empty_proofs() -> None:
    calls: list[tuple[NodeID, ...]] = []
    read = make_reader(SMALL_MTH, 5, calls)
    assert inclusion_proof(0, 1, read) == []
    assert consistency_proof(5, 5, read) == []
    assert calls == []
    inclusion_proof(0, 5, read)
    assert calls == [inclusion_nodes(0, 5).ids]


def test_rehash_refuses_an_inconsistent_reader() -> None:
    nodes = inclusion_nodes(0, 7)
    good = make_reader(SMALL_MTH, 7)(nodes.ids)
    with pytest.raises(StoreError, match="returned 3 hashes for 4 node IDs"):
        nodes.rehash(good[:3])
    with pytest.raises(StoreError, match=r"hash of node NodeID\(level=1, index=1\) is 31 bytes"):
        nodes.rehash([good[0], good[1][:31], *good[2:]])
    with pytest.raises(StoreError, match="is a str, not bytes"):
        nodes.rehash([good[0], "x" * 32, *good[2:]])  # type: ignore[list-item]
    from_buffers: list[Any] = [bytearray(h) for h in good[:2]] + [memoryview(h) for h in good[2:]]
    assert nodes.rehash(from_buffers) == nodes.rehash(good)  # what database drivers return


def test_proof_nodes_range_is_checked() -> None:
    with pytest.raises(ValueError, match="does not lie within"):
        ProofNodes((NodeID(0, 1),), begin=1, end=2)


LEAF0 = SMALL_LEAVES[0]
ROOT5 = SMALL_MTH(0, 5)
PROOF0_5 = ref.path(0, 0, 5, SMALL_MTH)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 0, LEAF0, [], ROOT5), "leaf index 0 is not below tree size 0"),
        ((5, 5, LEAF0, PROOF0_5, ROOT5), "leaf index 5 is not below tree size 5"),
        ((-1, 5, LEAF0, PROOF0_5, ROOT5), "must not be negative"),
        ((0, -5, LEAF0, PROOF0_5, ROOT5), "must not be negative"),
        ((0, 5, LEAF0[:31], PROOF0_5, ROOT5), "leaf hash is 31 bytes, want a 32-byte hash"),
        ((0, 5, LEAF0, PROOF0_5, ROOT5 + b"\0"), "root is 33 bytes"),
        ((0, 5, LEAF0, PROOF0_5[:2], ROOT5), "proof has 2 hashes, want 3 for leaf 0 in a tree"),
        ((0, 5, LEAF0, [*PROOF0_5, ROOT5], ROOT5), "proof has 4 hashes, want 3"),
        ((0, 5, LEAF0, [PROOF0_5[0], b"", PROOF0_5[2]], ROOT5), "proof hash 1 is 0 bytes"),
        ((0, 5, LEAF0, PROOF0_5, SMALL_MTH(0, 4)), "calculated root [0-9a-f]{64} does not match"),
        ((0, 5, "x" * 32, PROOF0_5, ROOT5), "leaf hash is a str, not bytes"),
    ],
)
def test_inclusion_errors_say_what_is_wrong(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(InclusionProofError, match=message):
        verify_inclusion(*args)


ROOT3 = SMALL_MTH(0, 3)
PROOF3_5 = ref.proof(3, 5, SMALL_MTH)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 5, [], EMPTY_ROOT, ROOT5), "size1 is 0: a consistency proof from the empty tree"),
        ((0, 0, [], EMPTY_ROOT, EMPTY_ROOT), "size1 is 0"),
        ((-1, 5, [], ROOT3, ROOT5), "must not be negative"),
        ((3, -5, [], ROOT3, ROOT5), "must not be negative"),
        ((5, 3, PROOF3_5, ROOT5, ROOT3), "size1 5 is greater than size2 3"),
        ((3, 5, PROOF3_5, ROOT3[:8], ROOT5), "root1 is 8 bytes"),
        ((3, 5, PROOF3_5, ROOT3, b""), "root2 is 0 bytes"),
        ((3, 5, PROOF3_5[1:], ROOT3, ROOT5), "proof has 3 hashes, want 4 for tree sizes 3 to 5"),
        ((3, 5, [], ROOT3, ROOT5), "proof has 0 hashes, want 4"),
        ((3, 5, [*PROOF3_5[:3], b"x"], ROOT3, ROOT5), "proof hash 3 is 1 bytes"),
        ((3, 3, [ROOT3], ROOT3, ROOT3), "proof has 1 hashes, want 0 for tree sizes 3 to 3"),
        ((3, 3, [], ROOT3, ROOT5), "sizes are equal \\(3\\) but root1 [0-9a-f]{64} differs"),
        ((3, 5, PROOF3_5, ROOT5, ROOT5), "calculated root1 [0-9a-f]{64} does not match"),
        ((3, 5, PROOF3_5, ROOT3, ROOT3), "calculated root2 [0-9a-f]{64} does not match"),
    ],
)
def test_consistency_errors_say_what_is_wrong(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ConsistencyProofError, match=message):
        verify_consistency(*args)


def test_index_zero_is_valid() -> None:
    verify_inclusion(0, 1, LEAF0, [], LEAF0)
    verify_inclusion(0, 5, LEAF0, PROOF0_5, ROOT5)


# --- properties -----------------------------------------------------------------------------


@st.composite
def leaf_in_tree(draw: st.DrawFn, sizes: st.SearchStrategy[int]) -> tuple[int, int]:
    size = draw(sizes)
    return draw(st.integers(0, size - 1)), size


@st.composite
def size_pair(draw: st.DrawFn, sizes: st.SearchStrategy[int]) -> tuple[int, int]:
    size2 = draw(sizes)
    return draw(st.integers(1, size2)), size2


SMALL = st.integers(1, 300)  # wrong sizes reach 600
LARGE = st.sampled_from(LARGE_SIZES)


def _flip(value: bytes, position: int, mask: int) -> bytes:
    position %= len(value)
    return value[:position] + bytes([value[position] ^ mask]) + value[position + 1 :]


def _check_inclusion(mth: ref.MTH, index: int, size: int, data: st.DataObject) -> None:
    leaf_hash, root = mth(index, index + 1), _root(mth, size)
    proof = inclusion_proof(index, size, make_reader(mth, size))
    assert proof == ref.path(index, 0, size, mth)
    verify_inclusion(index, size, leaf_hash, proof, root)

    position = data.draw(st.integers(0, 31), label="byte")
    mask = data.draw(st.integers(1, 255), label="mask")
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1), label="element")
        bad = [*proof[:k], _flip(proof[k], position, mask), *proof[k + 1 :]]
        with pytest.raises(InclusionProofError):
            verify_inclusion(index, size, leaf_hash, bad, root)
        with pytest.raises(InclusionProofError):  # truncated
            verify_inclusion(index, size, leaf_hash, proof[:k] + proof[k + 1 :], root)
    with pytest.raises(InclusionProofError):
        verify_inclusion(index, size, _flip(leaf_hash, position, mask), proof, root)
    with pytest.raises(InclusionProofError):
        verify_inclusion(index, size, leaf_hash, proof, _flip(root, position, mask))
    k = data.draw(st.integers(0, len(proof)), label="insert at")
    extra = data.draw(st.sampled_from([leaf_hash, root, bytes(32)]), label="extra")
    with pytest.raises(InclusionProofError):  # extended
        verify_inclusion(index, size, leaf_hash, [*proof[:k], extra, *proof[k:]], root)

    wrong_index = data.draw(st.integers(-2, size + 2).filter(lambda i: i != index), label="index")
    with pytest.raises(InclusionProofError):
        verify_inclusion(wrong_index, size, leaf_hash, proof, root)
    # A wrong size, with the true root of a tree of that size: an inclusion proof is
    # bound to the size only through the root (the signed checkpoint binds both).
    wrong_size = data.draw(st.integers(0, size + 300).filter(lambda n: n != size), label="size")
    with pytest.raises(InclusionProofError):
        verify_inclusion(index, wrong_size, leaf_hash, proof, _root(mth, wrong_size))


def _check_consistency(mth: ref.MTH, size1: int, size2: int, data: st.DataObject) -> None:
    root1, root2 = _root(mth, size1), _root(mth, size2)
    proof = consistency_proof(size1, size2, make_reader(mth, size2))
    assert proof == ref.proof(size1, size2, mth)
    verify_consistency(size1, size2, proof, root1, root2)

    position = data.draw(st.integers(0, 31), label="byte")
    mask = data.draw(st.integers(1, 255), label="mask")
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1), label="element")
        bad = [*proof[:k], _flip(proof[k], position, mask), *proof[k + 1 :]]
        with pytest.raises(ConsistencyProofError):
            verify_consistency(size1, size2, bad, root1, root2)
        with pytest.raises(ConsistencyProofError):  # truncated
            verify_consistency(size1, size2, proof[:k] + proof[k + 1 :], root1, root2)
    with pytest.raises(ConsistencyProofError):
        verify_consistency(size1, size2, proof, _flip(root1, position, mask), root2)
    with pytest.raises(ConsistencyProofError):
        verify_consistency(size1, size2, proof, root1, _flip(root2, position, mask))
    k = data.draw(st.integers(0, len(proof)), label="insert at")
    extra = data.draw(st.sampled_from([root1, root2, bytes(32)]), label="extra")
    with pytest.raises(ConsistencyProofError):  # extended
        verify_consistency(size1, size2, [*proof[:k], extra, *proof[k:]], root1, root2)

    # Wrong sizes, each with the true root of a tree of that size.
    wrong1 = data.draw(st.integers(-1, size2 + 2).filter(lambda n: n != size1), label="size1")
    with pytest.raises(ConsistencyProofError):
        verify_consistency(wrong1, size2, proof, _root(mth, max(wrong1, 0)), root2)
    wrong2 = data.draw(st.integers(-1, size2 + 300).filter(lambda n: n != size2), label="size2")
    with pytest.raises(ConsistencyProofError):
        verify_consistency(size1, wrong2, proof, root1, _root(mth, max(wrong2, 0)))


@given(leaf_in_tree(SMALL), st.data())
def test_inclusion_property_small(case: tuple[int, int], data: st.DataObject) -> None:
    index, size = case
    assert root_of(SMALL_LEAVES[:size]) == SMALL_MTH(0, size)
    _check_inclusion(SMALL_MTH, index, size, data)


@given(size_pair(SMALL), st.data())
def test_consistency_property_small(case: tuple[int, int], data: st.DataObject) -> None:
    _check_consistency(SMALL_MTH, *case, data)


@settings(deadline=None)
@given(leaf_in_tree(LARGE), st.data())
def test_inclusion_property_large(case: tuple[int, int], data: st.DataObject) -> None:
    _check_inclusion(synthetic_mth, *case, data)


@settings(deadline=None)
@given(size_pair(LARGE), st.data())
def test_consistency_property_large(case: tuple[int, int], data: st.DataObject) -> None:
    _check_consistency(synthetic_mth, *case, data)
