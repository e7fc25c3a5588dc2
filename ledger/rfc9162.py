"""RFC 9162 §2.1 Merkle tree hashing (SHA-256 with leaf/node domain separation).

A leaf hash is ``SHA-256(0x00 || data)`` and an interior node is
``SHA-256(0x01 || left || right)`` (RFC 9162 §2.1.1), so a leaf can never be
passed off as an interior node (the second-preimage attack that an
undifferentiated tree allows). The hash of the empty tree is ``SHA-256("")``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import NewType

Hash = NewType("Hash", bytes)
"""A 32-byte SHA-256 value: a leaf hash, a node hash or a tree root."""

HASH_SIZE = 32
EMPTY_ROOT = Hash(hashlib.sha256(b"").digest())

_sha256 = hashlib.sha256


def hash_leaf(data: bytes) -> Hash:
    """RFC 9162 §2.1.1: ``MTH({d0}) = SHA-256(0x00 || d0)``."""
    return Hash(_sha256(b"\x00" + data).digest())


def hash_children(left: bytes, right: bytes) -> Hash:
    """RFC 9162 §2.1.1: ``SHA-256(0x01 || MTH(left) || MTH(right))``."""
    return Hash(_sha256(b"\x01" + left + right).digest())


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``), RFC 9162 §2.1.1's k."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> Hash:
    """The Merkle tree hash of a list of leaf hashes (held in memory; for small ranges).

    Folds perfect subtrees left to right and then the right border right to left,
    which equals the recursive definition of RFC 9162 §2.1.1 for any length.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    stack: list[tuple[int, bytes]] = []  # (height, hash) of perfect subtrees, decreasing height
    for leaf in leaf_hashes:
        height, node = 0, leaf
        while stack and stack[-1][0] == height:
            node = hash_children(stack.pop()[1], node)
            height += 1
        stack.append((height, node))
    node = stack.pop()[1]
    while stack:
        node = hash_children(stack.pop()[1], node)
    return Hash(node)
