"""Rollback detection: the store's newest checkpoint against one signed or seen earlier.

A consistent rollback (entries, tiles, checkpoints and state of the last batches
removed together) leaves a store that passes the log audit: it is simply an
older tree. Only a checkpoint kept *outside* the rolled-back rows can show it:
the newest one this log ever signed (kept in a file by the signing process, see
:mod:`ledger.store.latest`) or one a witness or client saw. The store must hold
a tree at least as large as that checkpoint and consistent with it (RFC 9162
§2.1.4); anything else is a rollback, or a rollback followed by a fork.

Pure: proofs come from a ``prove(old_size, new_size)`` callable, so the same
check runs against a store, a served log or a test vector.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ledger.checkpoint import Checkpoint
from ledger.errors import AuditError, ConsistencyProofError, LedgerError
from ledger.proof import verify_consistency
from ledger.rfc9162 import EMPTY_ROOT

ProveConsistency = Callable[[int, int], Sequence[bytes]]
"""RFC 9162 §2.1.4.1 consistency proof from ``old_size`` to ``new_size``."""


class RollbackError(AuditError):
    """The store's tree is older than, or forked from, a checkpoint signed or seen before."""


def check_not_rolled_back(
    latest: Checkpoint, seen: Checkpoint, prove: ProveConsistency, seen_as: str
) -> None:
    """The store's newest checkpoint ``latest`` must extend ``seen`` (RFC 9162 §2.1.4.2).

    ``seen_as`` names where ``seen`` comes from, for the message. Both checkpoints'
    signatures must already be verified by the caller. Raises RollbackError when
    ``seen`` is of another origin, larger than ``latest`` (a rollback), or not a
    prefix of it (a fork); ``prove`` is called only when both trees are non-empty
    and of different sizes.
    """
    if seen.origin != latest.origin:
        raise RollbackError(
            f"{seen_as} is a checkpoint of {seen.origin!r}, not of this log ({latest.origin!r})"
        )
    if seen.size > latest.size:
        raise RollbackError(
            f"rollback: {seen_as} holds a checkpoint signed at tree size {seen.size}, but the "
            f"store's newest checkpoint is at tree size {latest.size}: "
            f"{seen.size - latest.size} entries were removed"
        )
    if seen.size == 0:
        if seen.root != EMPTY_ROOT:
            raise RollbackError(f"{seen_as}: a checkpoint at tree size 0 with a non-empty root")
        return
    if seen.size == latest.size:
        if seen.root != latest.root:
            raise RollbackError(
                f"fork: {seen_as} holds a checkpoint at tree size {seen.size} with another root "
                "than the store's: the log was rolled back and rewritten"
            )
        return
    try:
        verify_consistency(
            seen.size, latest.size, prove(seen.size, latest.size), seen.root, latest.root
        )
    except ConsistencyProofError as exc:
        raise RollbackError(
            f"fork: the store's tree at size {latest.size} does not extend the checkpoint at "
            f"tree size {seen.size} in {seen_as} ({exc}): the log was rolled back and rewritten"
        ) from exc
    except LedgerError as exc:
        raise RollbackError(
            f"{seen_as}: no consistency proof from tree size {seen.size} to {latest.size}: {exc}"
        ) from exc


def supersedes(current: Checkpoint | None, candidate: Checkpoint, prove: ProveConsistency) -> bool:
    """Whether ``candidate`` should replace ``current`` as the newest checkpoint kept.

    Only a strictly larger tree that extends ``current`` does. Raises RollbackError
    when ``candidate`` is not consistent with ``current`` (then ``current`` must be
    kept: it is the evidence).
    """
    if current is None:
        return True
    if candidate.size <= current.size:
        if candidate.size == current.size and candidate.root != current.root:
            raise RollbackError(
                f"fork: a checkpoint at tree size {candidate.size} with another root than the "
                "one kept"
            )
        return False
    check_not_rolled_back(candidate, current, prove, "the checkpoint kept")
    return True
