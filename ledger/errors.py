"""The ledger's exceptions.

::

    LedgerError
    ├── ProofError                  a proof does not verify (or is malformed)
    │   ├── InclusionProofError
    │   └── ConsistencyProofError
    ├── NoteError                   a signed note is malformed or its signature fails
    │   └── CheckpointError         a checkpoint body is malformed
    ├── ReceiptError                a receipt is malformed or does not verify
    ├── TilePathError               a tile path or tile coordinates are invalid
    ├── RangeError                  an index or size lies beyond the tree
    ├── EntryError                  an entry is refused (empty, too large)
    ├── StoreError                  the store is missing, uninitialised or inconsistent
    └── AuditError                  the audit found a discrepancy (names the first one)
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every ledger error."""


class ProofError(LedgerError):
    """A Merkle proof does not verify, or is malformed."""


class InclusionProofError(ProofError):
    """RFC 9162 §2.1.3.2: the inclusion proof does not lead to the given root."""


class ConsistencyProofError(ProofError):
    """RFC 9162 §2.1.4.2: the consistency proof does not link the two roots."""


class NoteError(LedgerError):
    """C2SP signed-note: malformed note or no valid signature by a known key."""


class CheckpointError(NoteError):
    """C2SP tlog-checkpoint: the note body is not a well-formed checkpoint."""


class ReceiptError(LedgerError):
    """A receipt is malformed or does not prove its entry."""


class TilePathError(LedgerError):
    """C2SP tlog-tiles: a tile path or coordinates are invalid."""


class RangeError(LedgerError):
    """An index or tree size lies beyond the current tree."""


class EntryError(LedgerError):
    """An entry is refused (empty or larger than a tlog-tiles entry may be)."""


class StoreError(LedgerError):
    """The store is missing, not initialised, or in an unexpected state."""


class AuditError(LedgerError):
    """The audit found a discrepancy; the message names the first one."""
