"""RFC 9162 §2.1.3 inclusion proofs and §2.1.4 consistency proofs.

Proof *generation* is split in two so that the proof math never touches storage:

1. :func:`inclusion_nodes` / :func:`consistency_nodes` name the complete (perfect)
   subtrees whose hashes a proof needs, as :class:`NodeID` values. This is pure
   bit arithmetic on the index and sizes: O(log n), no leaf data, no I/O.
2. The caller reads those node hashes from wherever it keeps them (a database,
   tiles, memory) and :meth:`ProofNodes.rehash` turns them into the proof, folding
   the few nodes on the right border of a non-perfect subtree into the single
   ephemeral hash that RFC 9162 puts there. :func:`inclusion_proof` and
   :func:`consistency_proof` do both steps given a ``read`` callable.

Proof *verification* follows the iterative algorithms of RFC 9162 §2.1.3.2 and
§2.1.4.2. Verifiers return ``None`` or raise (:class:`~ledger.errors.InclusionProofError`,
:class:`~ledger.errors.ConsistencyProofError`); they reject hashes that are not
32 bytes, negative sizes, out-of-range indices and proofs of the wrong length,
and every message says which check failed. One exception, as in
transparency-dev/merkle and its test vectors: for ``size1 == size2`` the whole
consistency check is "empty proof and byte-equal roots"; root format is not checked.

Policy for tree size 0: RFC 9162 defines consistency proofs only for
``0 < size1 <= size2``. :func:`verify_consistency` therefore REJECTS ``size1 == 0``
(as transparency-dev/merkle does: a proof from the empty tree proves nothing).
Callers comparing checkpoints treat an old size of 0 as trivially consistent
without calling it. :func:`consistency_nodes` likewise raises
:class:`~ledger.errors.RangeError` for ``size1 == 0``.

An inclusion proof binds the leaf to its index and to the root, but only through
the shape of the path: the *root* must be bound to its tree size by a signed
checkpoint, as it always is in this ledger.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ledger.errors import ConsistencyProofError, InclusionProofError, RangeError, StoreError
from ledger.rfc9162 import HASH_SIZE, Hash, hash_children

__all__ = [
    "NodeID",
    "NodeReader",
    "ProofNodes",
    "consistency_nodes",
    "consistency_proof",
    "inclusion_nodes",
    "inclusion_proof",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]


@dataclass(frozen=True, slots=True)
class NodeID:
    """A complete (perfect) subtree of the log.

    ``level`` is its height (0 = a leaf); it covers the leaves
    ``[index << level, (index + 1) << level)``.
    """

    level: int
    index: int


NodeReader = Callable[[Sequence[NodeID]], Sequence[bytes]]
"""Reads the hashes of the given complete subtrees, in the same order."""


@dataclass(frozen=True)
class ProofNodes:
    """The node hashes a proof needs, as complete-subtree IDs.

    ``ids[begin:end]`` (if ``end > begin``) are the right border of a non-perfect
    subtree, left to right: their hashes are folded right to left
    (``hash_children(ids[k], acc)``) into ONE ephemeral proof element that replaces
    them. All other IDs map one to one onto proof elements, in RFC 9162 order.
    """

    ids: tuple[NodeID, ...]
    begin: int = 0
    end: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.begin <= self.end <= len(self.ids):
            raise ValueError(
                f"ephemeral range [{self.begin}, {self.end}) does not lie within "
                f"the {len(self.ids)} node IDs"
            )

    def rehash(self, hashes: Sequence[bytes]) -> list[Hash]:
        """Turn the hashes of :attr:`ids` into the proof, in RFC 9162 order.

        Precondition: ``hashes[i]`` is the hash of ``ids[i]``. Raises
        :class:`~ledger.errors.StoreError` if the number of hashes differs from the
        number of IDs or a hash is not 32 bytes (the node reader is inconsistent).
        """
        if len(hashes) != len(self.ids):
            raise StoreError(
                f"node reader returned {len(hashes)} hashes for {len(self.ids)} node IDs"
            )
        checked = [_node_hash(value, node) for value, node in zip(hashes, self.ids, strict=True)]
        if self.end <= self.begin:
            return checked
        acc = checked[self.end - 1]
        for k in range(self.end - 2, self.begin - 1, -1):
            acc = hash_children(checked[k], acc)
        return [*checked[: self.begin], acc, *checked[self.end :]]


def _node_hash(value: bytes, node: NodeID) -> Hash:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise StoreError(f"hash of node {node} is a {type(value).__name__}, not bytes")
    raw = bytes(value)
    if len(raw) != HASH_SIZE:
        raise StoreError(f"hash of node {node} is {len(raw)} bytes, want {HASH_SIZE}")
    return Hash(raw)


def _path_nodes(level: int, index: int, size: int) -> ProofNodes:
    """The audit path of the complete subtree ``(level, index)`` in a tree of ``size`` leaves.

    Precondition: ``(index + 1) << level <= size``. Below the level ``inner`` at which
    the node's ancestors meet the tree's last leaf, every sibling is a complete
    subtree; the sibling at level ``inner - 1`` is the right part of the tree
    ``[start, size)``, possibly non-perfect (then split into its perfect parts,
    left to right); above it only left siblings remain, one per set bit of
    ``index >> inner``.
    """
    last = (size - 1) >> level  # index at this level of the node holding the last leaf
    inner = (index ^ last).bit_length()
    ids = [NodeID(level + i, (index >> i) ^ 1) for i in range(inner - 1)]
    begin = end = 0
    if inner > 0:
        height = level + inner - 1
        start = ((index >> (inner - 1)) | 1) << height  # first leaf of the right sibling
        remaining = size - start  # 0 < remaining <= 1 << height
        border_begin = len(ids)
        for bit in range(height, -1, -1):
            if remaining >> bit & 1:
                ids.append(NodeID(bit, start >> bit))
                start += 1 << bit
        if len(ids) - border_begin > 1:
            begin, end = border_begin, len(ids)
    for i in range(inner, last.bit_length()):
        if index >> i & 1:
            ids.append(NodeID(level + i, (index >> i) ^ 1))
    return ProofNodes(tuple(ids), begin, end)


def _inclusion_length(level: int, index: int, size: int) -> int:
    """The number of hashes in the audit path of node ``(level, index)``; see _path_nodes."""
    last = (size - 1) >> level
    inner = (index ^ last).bit_length()
    return inner + (index >> inner).bit_count()


def _consistency_seed(size1: int) -> tuple[int, int]:
    """The last complete subtree of the tree of ``size1`` leaves: ``(level, index)``."""
    level = (size1 & -size1).bit_length() - 1
    return level, (size1 >> level) - 1


def inclusion_nodes(index: int, size: int) -> ProofNodes:
    """RFC 9162 §2.1.3.1: the nodes of the inclusion proof (audit path) of leaf ``index``.

    Precondition: ``0 <= index < size``; raises :class:`~ledger.errors.RangeError`
    otherwise. O(log size); touches no leaf data.
    """
    if index < 0 or size < 0 or index >= size:
        raise RangeError(f"leaf index {index} is not within a tree of size {size}")
    return _path_nodes(0, index, size)


def consistency_nodes(size1: int, size2: int) -> ProofNodes:
    """RFC 9162 §2.1.4.1: the nodes of the consistency proof between tree sizes.

    Precondition: ``0 < size1 <= size2`` (``size1 == size2`` gives an empty proof);
    raises :class:`~ledger.errors.RangeError` otherwise. O(log size2); touches no
    leaf data. If ``size1`` is not a power of two the proof starts with the hash of
    the last complete subtree of the old tree; otherwise the verifier uses the old
    root in its place.
    """
    if not 0 < size1 <= size2:
        raise RangeError(f"no consistency proof from tree size {size1} to {size2}")
    if size1 == size2:
        return ProofNodes(())
    level, index = _consistency_seed(size1)
    path = _path_nodes(level, index, size2)
    if index == 0:  # size1 is a power of two: its root is the seed
        return path
    shift = 1 if path.end > path.begin else 0
    return ProofNodes((NodeID(level, index), *path.ids), path.begin + shift, path.end + shift)


def inclusion_proof(index: int, size: int, read: NodeReader) -> list[Hash]:
    """RFC 9162 §2.1.3.1: the inclusion proof of leaf ``index`` in the tree of ``size``.

    ``read`` returns the hashes of the given complete subtrees. Raises
    :class:`~ledger.errors.RangeError` unless ``0 <= index < size`` and
    :class:`~ledger.errors.StoreError` if ``read`` returns the wrong number of hashes
    or a hash that is not 32 bytes.
    """
    nodes = inclusion_nodes(index, size)
    return nodes.rehash(read(nodes.ids) if nodes.ids else [])


def consistency_proof(size1: int, size2: int, read: NodeReader) -> list[Hash]:
    """RFC 9162 §2.1.4.1: the consistency proof from tree size ``size1`` to ``size2``.

    ``read`` returns the hashes of the given complete subtrees. Raises
    :class:`~ledger.errors.RangeError` unless ``0 < size1 <= size2`` and
    :class:`~ledger.errors.StoreError` if ``read`` returns the wrong number of hashes
    or a hash that is not 32 bytes.
    """
    nodes = consistency_nodes(size1, size2)
    return nodes.rehash(read(nodes.ids) if nodes.ids else [])


def _check_bytes(value: bytes, what: str, error: type[Exception]) -> bytes:
    if not isinstance(value, bytes | bytearray):
        raise error(f"{what} is a {type(value).__name__}, not bytes")
    return bytes(value)


def _check_hash(value: bytes, what: str, error: type[Exception]) -> bytes:
    value = _check_bytes(value, what, error)
    if len(value) != HASH_SIZE:
        raise error(f"{what} is {len(value)} bytes, want a {HASH_SIZE}-byte hash")
    return value


def _check_proof(
    proof: Sequence[bytes], want: int, context: str, error: type[Exception]
) -> list[bytes]:
    if len(proof) != want:
        raise error(f"proof has {len(proof)} hashes, want {want} for {context}")
    return [_check_hash(p, f"proof hash {i}", error) for i, p in enumerate(proof)]


def root_from_inclusion_proof(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> Hash:
    """RFC 9162 §2.1.3.2: the root that ``proof`` leads to from ``leaf_hash`` at ``index``.

    Precondition: ``0 <= index < size``, ``leaf_hash`` and every proof element are
    32 bytes and the proof has the length that ``(index, size)`` implies. Raises
    :class:`~ledger.errors.InclusionProofError` otherwise.
    """
    if size < 0 or index < 0:
        raise InclusionProofError(f"leaf index {index} and tree size {size} must not be negative")
    if index >= size:
        raise InclusionProofError(f"leaf index {index} is not below tree size {size}")
    node = _check_hash(leaf_hash, "leaf hash", InclusionProofError)
    path = _check_proof(
        proof,
        _inclusion_length(0, index, size),
        f"leaf {index} in a tree of size {size}",
        InclusionProofError,
    )
    fn, sn = index, size - 1
    for p in path:
        if sn == 0:  # unreachable after the length check; kept as RFC 9162 step 4a
            raise InclusionProofError("proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            node = hash_children(p, node)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            node = hash_children(node, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # unreachable after the length check; kept as RFC 9162 step 5
        raise InclusionProofError("proof is shorter than the path to the root")
    return Hash(node)


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: check that ``leaf_hash`` is leaf ``index`` of the tree with ``root``.

    Precondition: ``0 <= index < size``; all hashes are 32 bytes. Returns ``None``
    if the proof holds; raises :class:`~ledger.errors.InclusionProofError` naming
    the failed check otherwise. ``root`` must be the signed root of tree ``size``.
    """
    want = _check_hash(root, "root", InclusionProofError)
    got = root_from_inclusion_proof(index, size, leaf_hash, proof)
    if not hmac.compare_digest(got, want):
        raise InclusionProofError(
            f"calculated root {got.hex()} does not match the given root {want.hex()}"
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 §2.1.4.2: check that the tree of ``size1`` with ``root1`` is a prefix of
    the tree of ``size2`` with ``root2``.

    Precondition: ``0 < size1 <= size2``; all hashes are 32 bytes. For
    ``size1 == size2`` the proof must be empty and the roots byte-for-byte equal;
    that is the whole check (a root is trivially consistent with itself; as in
    transparency-dev/merkle, its format is not checked there). Returns ``None`` if
    the proof holds; raises :class:`~ledger.errors.ConsistencyProofError` naming
    the failed check otherwise.

    Size 0 policy: ``size1 == 0`` is REJECTED (as in transparency-dev/merkle; RFC 9162
    defines consistency only for ``0 < size1``): a proof from the empty tree proves
    nothing. Callers comparing checkpoints treat an old size of 0 as trivially
    consistent and do not call this function.
    """
    if size1 < 0 or size2 < 0:
        raise ConsistencyProofError(f"tree sizes {size1} and {size2} must not be negative")
    if size1 == 0:
        raise ConsistencyProofError(
            "size1 is 0: a consistency proof from the empty tree is meaningless "
            "(RFC 9162 requires 0 < size1 <= size2)"
        )
    if size1 > size2:
        raise ConsistencyProofError(f"size1 {size1} is greater than size2 {size2}")
    context = f"tree sizes {size1} to {size2}"
    if size1 == size2:
        _check_proof(proof, 0, context, ConsistencyProofError)
        first = _check_bytes(root1, "root1", ConsistencyProofError)
        second = _check_bytes(root2, "root2", ConsistencyProofError)
        if not hmac.compare_digest(first, second):
            raise ConsistencyProofError(
                f"sizes are equal ({size1}) but root1 {first.hex()} differs from root2 "
                f"{second.hex()}"
            )
        return
    first = _check_hash(root1, "root1", ConsistencyProofError)
    second = _check_hash(root2, "root2", ConsistencyProofError)
    level, index = _consistency_seed(size1)
    seed_given = index != 0  # size1 is not a power of two: the proof carries the seed
    want = int(seed_given) + _inclusion_length(level, index, size2)
    path = _check_proof(proof, want, context, ConsistencyProofError)
    if not seed_given:  # RFC 9162 §2.1.4.2 step 2
        path.insert(0, first)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:  # unreachable after the length check; kept as RFC 9162 step 6a
            raise ConsistencyProofError("proof is longer than the path to root2")
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # unreachable after the length check; kept as RFC 9162 step 7
        raise ConsistencyProofError("proof is shorter than the path to root2")
    if not hmac.compare_digest(fr, first):
        raise ConsistencyProofError(
            f"calculated root1 {fr.hex()} does not match the given root1 {first.hex()}"
        )
    if not hmac.compare_digest(sr, second):
        raise ConsistencyProofError(
            f"calculated root2 {sr.hex()} does not match the given root2 {second.hex()}"
        )
