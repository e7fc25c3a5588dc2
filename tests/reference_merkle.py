"""A slow, obviously correct reference for RFC 9162 §2.1 Merkle proofs.

Transcribes the recursive definitions of the RFC literally: MTH (§2.1.1),
PATH (§2.1.3.1) and PROOF / SUBPROOF (§2.1.4.1), on ranges ``D[lo:hi]`` of leaf
hashes. It shares no code with ``ledger``: SHA-256 comes straight from hashlib.

Every function takes ``mth(lo, hi)``, the Merkle tree hash of leaves ``[lo, hi)``.
:func:`list_mth` gives the textbook recursion over an in-memory list; tests on
large trees pass a memoised one over synthetic leaves instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

MTH = Callable[[int, int], bytes]


def node(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def leaf(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n > 1``)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def range_mth(lo: int, hi: int, leaf_hash: Callable[[int], bytes], mth: MTH) -> bytes:
    """MTH(D[lo:hi]) by one step of the RFC recursion, the halves by ``mth``."""
    n = hi - lo
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hash(lo)
    k = split(n)
    return node(mth(lo, lo + k), mth(lo + k, hi))


def list_mth(leaf_hashes: Sequence[bytes]) -> MTH:
    """MTH over an in-memory list of leaf hashes, fully recursive, no caching."""

    def mth(lo: int, hi: int) -> bytes:
        return range_mth(lo, hi, leaf_hashes.__getitem__, mth)

    return mth


def path(m: int, lo: int, hi: int, mth: MTH) -> list[bytes]:
    """PATH(m, D[lo:hi]), RFC 9162 §2.1.3.1; ``m`` is relative to ``lo``."""
    n = hi - lo
    assert 0 <= m < n
    if n == 1:
        return []
    k = split(n)
    if m < k:
        return [*path(m, lo, lo + k, mth), mth(lo + k, hi)]
    return [*path(m - k, lo + k, hi, mth), mth(lo, lo + k)]


def subproof(m: int, lo: int, hi: int, b: bool, mth: MTH) -> list[bytes]:
    """SUBPROOF(m, D[lo:hi], b), RFC 9162 §2.1.4.1."""
    n = hi - lo
    if m == n:
        return [] if b else [mth(lo, hi)]
    k = split(n)
    if m <= k:
        return [*subproof(m, lo, lo + k, b, mth), mth(lo + k, hi)]
    return [*subproof(m - k, lo + k, hi, False, mth), mth(lo, lo + k)]


def proof(m: int, n: int, mth: MTH) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true), RFC 9162 §2.1.4.1 (0 < m <= n)."""
    assert 0 < m <= n
    return subproof(m, 0, n, True, mth)
