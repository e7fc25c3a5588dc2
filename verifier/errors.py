"""Exceptions raised by the ``verifier`` package.

One tree; every failure the package raises is a ``VerifierError``::

    VerifierError
    ├── TrustListError             the trust list is malformed, signed by anyone but the
    │                              pinned authority, or outside its validity window
    │                              (``reason`` is a machine-readable code)
    ├── CheckpointStoreError       the remembered-checkpoint store cannot be read or written
    └── CheckFailed                one named check failed (also a
        │                          ``credentials.errors.VerificationError``: ``check``,
        │                          ``reason`` and a sentence)
        └── ForkError              two checkpoints of one log cannot both be honest: same
                                   size with different roots, or a consistency proof
                                   between them fails (``check == "log"``)

:func:`verifier.pipeline.verify_credential` never raises for a bad credential: each
``CheckFailed`` (and each ``credentials`` ``VerificationError``) raised inside a check
becomes a failed :class:`verifier.result.Check` carrying its ``reason``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credentials.errors import VerificationError

if TYPE_CHECKING:
    from ledger.checkpoint import Checkpoint

__all__ = [
    "CheckFailed",
    "CheckpointStoreError",
    "ForkError",
    "TrustListError",
    "VerifierError",
]


class VerifierError(Exception):
    """Base of every exception raised by the ``verifier`` package."""


class TrustListError(VerifierError):
    """The trust list cannot be used; ``reason`` says why.

    Reasons: ``MALFORMED_TRUST_LIST``, ``UNTRUSTED_SIGNER`` (not signed by the
    pinned authority), ``INVALID_PROOF`` (the authority's proof does not verify),
    ``TRUST_LIST_NOT_YET_VALID``, ``TRUST_LIST_EXPIRED``.
    """

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class CheckpointStoreError(VerifierError):
    """The store of remembered checkpoints is unreadable, corrupt or cannot be written."""


class CheckFailed(VerificationError, VerifierError):
    """A named verification check failed (``check``, ``reason``, message)."""


class ForkError(CheckFailed):
    """The log showed two views that cannot both be honest (a split view / fork).

    ``remembered`` is the checkpoint this verifier had seen before, ``presented``
    the one that contradicts it. ``reason`` is ``CHECKPOINT_FORK`` (same size,
    different roots) or ``INCONSISTENT_CHECKPOINT`` (the consistency proof fails).
    """

    def __init__(
        self, reason: str, message: str, remembered: Checkpoint, presented: Checkpoint
    ) -> None:
        self.remembered = remembered
        self.presented = presented
        super().__init__("log", reason, message)
