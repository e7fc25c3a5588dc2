"""Receipts: offline proofs that an entry is in the log (C2SP tlog-proof@v1).

A receipt is the log's signed checkpoint (possibly with witness cosignatures),
the entry's index and its RFC 9162 inclusion proof, plus optional opaque extra
data. It has two encodings carrying the same fields:

* the c2sp.org/tlog-proof@v1 text format (:meth:`Receipt.to_text`), file
  extension ``.tlog-proof``::

      c2sp.org/tlog-proof@v1
      [extra <base64 extra data>]
      index <decimal index>
      <base64 proof hash, leaf's sibling first>
      ...
      <empty line>
      <signed checkpoint note, verbatim>

* JSON (:meth:`Receipt.to_json`), for embedding in a label bundle::

      {
        "format": "c2sp.org/tlog-proof@v1",
        "index": 7,
        "inclusionProof": ["<base64 hash>", ...],
        "checkpoint": "<signed checkpoint note, verbatim>",
        "extra": "<base64>"            (only when there is extra data)
      }

  Every field but ``extra`` is required; unknown fields are refused.

The extra data is not authenticated (tlog-proof "Format"): nothing here trusts it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.checkpoint import Checkpoint, CosignatureVerifier, open_checkpoint, verify_cosignatures
from ledger.errors import NoteError, ProofError, ReceiptError
from ledger.note import NoteVerifier, parse_note
from ledger.proof import verify_inclusion
from ledger.rfc9162 import HASH_SIZE, Hash, hash_leaf

__all__ = ["FORMAT", "MAX_PROOF_HASHES", "Receipt", "verify_receipt"]

FORMAT = "c2sp.org/tlog-proof@v1"
"""tlog-proof "Format": the first line of the text form, and ``format`` in JSON."""

MAX_PROOF_HASHES = 63
"""An inclusion proof in a tree of at most 2^63 - 1 leaves has at most 63 hashes."""

MAX_INDEX = 2**63 - 2

_DECIMAL = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_JSON_FIELDS = frozenset({"format", "index", "inclusionProof", "checkpoint", "extra"})


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _b64decode(value: str, where: str) -> bytes:
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise ReceiptError(f"{where}: not standard base64") from exc
    if _b64(raw) != value:
        raise ReceiptError(f"{where}: not canonical standard base64")
    return raw


def _proof_hash(value: str, where: str) -> Hash:
    raw = _b64decode(value, where)
    if len(raw) != HASH_SIZE:
        raise ReceiptError(f"{where}: hash is {len(raw)} bytes, not 32")
    return Hash(raw)


@functools.lru_cache(maxsize=64)
def _check_note(note: str) -> None:
    """Raise NoteError unless ``note`` is a well-formed signed note (the receipts of
    one commit share their checkpoint, so it is parsed once)."""
    parse_note(note)


@dataclass(frozen=True)
class Receipt:
    """tlog-proof: entry index, inclusion proof, signed checkpoint note, optional extra data.

    Construction checks the shape (index range, 32-byte hashes, a well-formed
    signed note, non-empty extra data if any) and raises ReceiptError; it does
    not verify anything (see :func:`verify_receipt`).
    """

    index: int
    proof: tuple[Hash, ...]
    checkpoint: str
    extra: bytes | None = None

    def __post_init__(self) -> None:
        if isinstance(self.index, bool) or not isinstance(self.index, int):
            raise ReceiptError("receipt index must be an integer")
        if not 0 <= self.index <= MAX_INDEX:
            raise ReceiptError(f"receipt index {self.index} is out of range")
        if not isinstance(self.proof, tuple):
            raise ReceiptError("receipt inclusion proof must be a tuple of hashes")
        if len(self.proof) > MAX_PROOF_HASHES:
            raise ReceiptError(f"receipt inclusion proof has more than {MAX_PROOF_HASHES} hashes")
        for number, node in enumerate(self.proof):
            if not isinstance(node, bytes) or len(node) != HASH_SIZE:
                raise ReceiptError(f"receipt inclusion proof hash {number} is not 32 bytes")
        if not isinstance(self.checkpoint, str):
            raise ReceiptError("receipt checkpoint must be a signed note (str)")
        try:
            _check_note(self.checkpoint)
        except NoteError as exc:
            raise ReceiptError(f"receipt checkpoint is not a signed note: {exc}") from exc
        if self.extra is not None and (not isinstance(self.extra, bytes) or not self.extra):
            raise ReceiptError("receipt extra data, when present, must be non-empty bytes")

    # --- JSON ------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The JSON form described in the module docstring (``extra`` only when present)."""
        obj: dict[str, Any] = {
            "format": FORMAT,
            "index": self.index,
            "inclusionProof": [_b64(node) for node in self.proof],
            "checkpoint": self.checkpoint,
        }
        if self.extra is not None:
            obj["extra"] = _b64(self.extra)
        return obj

    @classmethod
    def from_json(cls, obj: object) -> Receipt:
        """Parse the JSON form strictly. Raises ReceiptError naming the offending field."""
        if not isinstance(obj, Mapping):
            raise ReceiptError("receipt must be a JSON object")
        unknown = sorted(str(k) for k in obj if k not in _JSON_FIELDS)
        if unknown:
            raise ReceiptError(f"receipt has unknown field(s): {', '.join(unknown)}")
        for name in ("format", "index", "inclusionProof", "checkpoint"):
            if name not in obj:
                raise ReceiptError(f"receipt field '{name}' is missing")
        if obj["format"] != FORMAT:
            raise ReceiptError(f"receipt field 'format' must be {FORMAT!r}")
        index = obj["index"]
        if isinstance(index, bool) or not isinstance(index, int):
            raise ReceiptError("receipt field 'index' must be an integer")
        if not 0 <= index <= MAX_INDEX:
            raise ReceiptError(f"receipt field 'index' is out of range: {index}")
        proof = obj["inclusionProof"]
        if not isinstance(proof, list) or not all(isinstance(h, str) for h in proof):
            raise ReceiptError("receipt field 'inclusionProof' must be a list of base64 strings")
        if len(proof) > MAX_PROOF_HASHES:
            raise ReceiptError(f"receipt field 'inclusionProof' has more than {MAX_PROOF_HASHES}")
        hashes = tuple(
            _proof_hash(h, f"receipt field 'inclusionProof' item {i}") for i, h in enumerate(proof)
        )
        checkpoint = obj["checkpoint"]
        if not isinstance(checkpoint, str):
            raise ReceiptError("receipt field 'checkpoint' must be a string")
        try:
            parse_note(checkpoint)
        except NoteError as exc:
            raise ReceiptError(f"receipt field 'checkpoint': {exc}") from exc
        extra: bytes | None = None
        if "extra" in obj:
            if not isinstance(obj["extra"], str) or not obj["extra"]:
                raise ReceiptError("receipt field 'extra' must be a non-empty base64 string")
            extra = _b64decode(obj["extra"], "receipt field 'extra'")
        return cls(index, hashes, checkpoint, extra)

    # --- tlog-proof text -------------------------------------------------------------

    def to_text(self) -> str:
        """tlog-proof "Format": the ``c2sp.org/tlog-proof@v1`` text form."""
        lines = [FORMAT]
        if self.extra is not None:
            lines.append(f"extra {_b64(self.extra)}")
        lines.append(f"index {self.index}")
        lines.extend(_b64(node) for node in self.proof)
        return "\n".join(lines) + "\n\n" + self.checkpoint

    @classmethod
    def parse_text(cls, text: str | bytes) -> Receipt:
        """tlog-proof "Format": parse the text form strictly (optional ``extra`` line).

        Raises ReceiptError naming the line that is wrong.
        """
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ReceiptError("tlog-proof is not valid UTF-8") from exc
        head, separator, checkpoint = text.partition("\n\n")
        if not separator:
            raise ReceiptError("tlog-proof has no empty line before the checkpoint")
        lines = head.split("\n")
        if lines[0] != FORMAT:
            raise ReceiptError(f"tlog-proof line 1 must be {FORMAT!r}")
        number = 2
        extra: bytes | None = None
        if len(lines) > 1 and lines[1].startswith("extra "):
            extra = _b64decode(lines[1][len("extra ") :], "tlog-proof line 2 (extra)")
            if not extra:
                raise ReceiptError("tlog-proof line 2 (extra): extra data is empty")
            number = 3
        rest = lines[number - 1 :]
        if not rest or not rest[0].startswith("index "):
            raise ReceiptError(f"tlog-proof line {number} must be 'index <decimal>'")
        index_text = rest[0][len("index ") :]
        if not _DECIMAL.fullmatch(index_text):
            raise ReceiptError(
                f"tlog-proof line {number} (index) {index_text!r} is not a decimal "
                "without sign or leading zeros"
            )
        index = int(index_text)
        if index > MAX_INDEX:
            raise ReceiptError(f"tlog-proof line {number} (index) is out of range")
        if len(rest) - 1 > MAX_PROOF_HASHES:
            raise ReceiptError(f"tlog-proof has more than {MAX_PROOF_HASHES} proof hashes")
        proof = tuple(
            _proof_hash(line, f"tlog-proof line {number + i} (proof hash)")
            for i, line in enumerate(rest[1:], 1)
        )
        if not checkpoint:
            raise ReceiptError("tlog-proof has no checkpoint after the empty line")
        try:
            parse_note(checkpoint)
        except NoteError as exc:
            raise ReceiptError(f"tlog-proof checkpoint: {exc}") from exc
        return cls(index, proof, checkpoint, extra)


def verify_receipt(
    receipt: Receipt,
    entry: bytes,
    verifier: NoteVerifier,
    *,
    witnesses: Sequence[CosignatureVerifier] = (),
    quorum: int = 0,
) -> Checkpoint:
    """tlog-proof "Verifying a tlog proof": prove that ``entry`` is in the log at ``index``.

    Steps: the checkpoint must be signed by the log key ``verifier`` with a
    matching origin (tlog-checkpoint); at least ``quorum`` of ``witnesses``
    must have cosigned it (tlog-cosignature; nothing is required by default);
    ``index < size``; and the inclusion proof must lead from
    ``hash_leaf(entry)`` to the checkpoint's root (RFC 9162 §2.1.3.2). Returns
    the verified checkpoint. Raises ReceiptError, chained to the underlying
    NoteError/CheckpointError/InclusionProofError.
    """
    try:
        checkpoint = open_checkpoint(receipt.checkpoint, verifier)
    except NoteError as exc:
        raise ReceiptError(f"receipt checkpoint does not verify: {exc}") from exc
    if witnesses or quorum:
        try:
            verify_cosignatures(receipt.checkpoint, witnesses, quorum)
        except NoteError as exc:
            raise ReceiptError(f"receipt checkpoint witnesses: {exc}") from exc
    if receipt.index >= checkpoint.size:
        raise ReceiptError(
            f"receipt index {receipt.index} is not below the checkpoint tree size {checkpoint.size}"
        )
    try:
        verify_inclusion(
            receipt.index, checkpoint.size, hash_leaf(entry), list(receipt.proof), checkpoint.root
        )
    except ProofError as exc:
        raise ReceiptError(f"receipt inclusion proof does not verify: {exc}") from exc
    return checkpoint
