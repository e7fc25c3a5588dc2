"""The transparency log: RFC 9162 Merkle proofs stored as C2SP tlog-tiles.

The package knows nothing of credentials: it stores entries (bytes) and proves
their inclusion. Submodules: ``rfc9162`` (hashing), ``proof`` (inclusion and
consistency proofs), ``tiles`` (tile layout and integration), ``note`` and
``checkpoint`` (C2SP signed notes, checkpoints, cosignatures), ``receipt``
(offline proofs), ``store`` (SQL storage), ``sequencer`` (batching),
``audit`` and ``http`` (read-only routes).
"""

from ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.errors import LedgerError
from ledger.note import NoteSigner, NoteVerifier
from ledger.proof import verify_consistency, verify_inclusion
from ledger.receipt import Receipt, verify_receipt
from ledger.rfc9162 import Hash, hash_leaf

__all__ = [
    "Checkpoint",
    "Hash",
    "LedgerError",
    "NoteSigner",
    "NoteVerifier",
    "Receipt",
    "hash_leaf",
    "open_checkpoint",
    "sign_checkpoint",
    "verify_consistency",
    "verify_inclusion",
    "verify_receipt",
]
