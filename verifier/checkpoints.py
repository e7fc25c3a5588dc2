"""What this verifier remembers of each log: the newest verified checkpoint it has seen.

A log that shows one checkpoint to some verifiers and a contradicting one to
others (a *split view*) is caught by comparing every new checkpoint with the
remembered one (C2SP tlog-witness "Updating a checkpoint" does the same for
witnesses):

========================  =============================================================
new vs remembered          outcome
========================  =============================================================
nothing remembered         remembered (``FIRST``)
larger                     consistency proof old → new must verify, then it is
                           remembered (``NEWER``); a failing proof is a ForkError;
                           old size 0 is trivially consistent (``ledger.proof``
                           refuses size 0 by policy). Without a proof (offline, or
                           the proof source failed) nothing changes
                           (``NEWER_UNVERIFIED``, with a warning)
equal size, same root      ``SAME``
equal size, other root     ForkError (``CHECKPOINT_FORK``)
smaller                    consistency proof new → remembered must verify (``OLDER``);
                           offline it is accepted with a warning
                           (``OLDER_UNVERIFIED``); the remembered one stays
========================  =============================================================

Deciding is separate from persisting: :class:`CheckpointMemory` decides and a
:class:`CheckpointStore` keeps the checkpoints (:class:`InMemoryCheckpointStore`
for tests and short-lived verifiers, :class:`JsonFileCheckpointStore` for the
CLI cache; the web app may supply its own). Only checkpoints whose signatures
have been verified by the caller may be observed.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
import threading
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from ledger.checkpoint import Checkpoint
from ledger.errors import CheckpointError, ProofError
from ledger.proof import verify_consistency
from ledger.rfc9162 import Hash
from verifier.errors import CheckpointStoreError, ForkError

__all__ = [
    "CheckpointMemory",
    "CheckpointStore",
    "ConsistencySource",
    "InMemoryCheckpointStore",
    "JsonFileCheckpointStore",
    "Observation",
]

ConsistencySource = Callable[[int, int], list[bytes]]
"""``(size1, size2) -> consistency proof`` for one log (RFC 9162 §2.1.4)."""


class Observation(StrEnum):
    """How a newly seen checkpoint relates to the remembered one."""

    FIRST = "first"
    SAME = "same"
    NEWER = "newer"
    NEWER_UNVERIFIED = "newer-unverified"
    OLDER = "older"
    OLDER_UNVERIFIED = "older-unverified"

    @property
    def verified(self) -> bool:
        """False when consistency could not be checked (the caller should warn)."""
        return self not in (Observation.NEWER_UNVERIFIED, Observation.OLDER_UNVERIFIED)


class CheckpointStore(Protocol):
    """Persistence for remembered checkpoints, one per log origin."""

    def get(self, origin: str) -> Checkpoint | None:
        """The remembered checkpoint of ``origin``, or None. Raises CheckpointStoreError."""
        ...

    def put(self, checkpoint: Checkpoint) -> None:
        """Remember ``checkpoint`` for its origin. Raises CheckpointStoreError."""
        ...


class InMemoryCheckpointStore:
    """A CheckpointStore that lives as long as the object."""

    def __init__(self) -> None:
        self._checkpoints: dict[str, Checkpoint] = {}

    def get(self, origin: str) -> Checkpoint | None:
        return self._checkpoints.get(origin)

    def put(self, checkpoint: Checkpoint) -> None:
        self._checkpoints[checkpoint.origin] = checkpoint


class JsonFileCheckpointStore:
    """A CheckpointStore in one JSON file (the CLI's cache)::

        {"<origin>": {"size": <int>, "root": "<base64 root hash>"}, ...}

    A missing file is an empty store; writes replace the file atomically.
    Raises CheckpointStoreError if the file is unreadable or malformed.
    """

    def __init__(self, path: Path) -> None:
        self._path = path

    def _read(self) -> dict[str, Any]:
        try:
            text = self._path.read_text("utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise CheckpointStoreError(f"cannot read {self._path}: {exc}") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CheckpointStoreError(f"{self._path} is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise CheckpointStoreError(f"{self._path} must hold a JSON object")
        return data

    def get(self, origin: str) -> Checkpoint | None:
        record = self._read().get(origin)
        if record is None:
            return None
        try:
            if not isinstance(record, dict):
                raise TypeError("record is not an object")
            root = base64.b64decode(record["root"], validate=True)
            return Checkpoint(origin, record["size"], Hash(root))
        except (KeyError, TypeError, binascii.Error, CheckpointError) as exc:
            raise CheckpointStoreError(f"{self._path}: bad record for {origin!r}: {exc}") from exc

    def put(self, checkpoint: Checkpoint) -> None:
        data = self._read()
        data[checkpoint.origin] = {
            "size": checkpoint.size,
            "root": base64.b64encode(checkpoint.root).decode("ascii"),
        }
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".checkpoints-")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=2, sort_keys=True)
            os.replace(tmp, self._path)
        except OSError as exc:
            raise CheckpointStoreError(f"cannot write {self._path}: {exc}") from exc


class CheckpointMemory:
    """Decides whether a new checkpoint agrees with the remembered one (module docstring)."""

    def __init__(self, store: CheckpointStore | None = None) -> None:
        self._store: CheckpointStore = store if store is not None else InMemoryCheckpointStore()
        self._lock = threading.Lock()

    def remembered(self, origin: str) -> Checkpoint | None:
        """The newest verified checkpoint remembered for ``origin``."""
        return self._store.get(origin)

    def observe(
        self, checkpoint: Checkpoint, consistency: ConsistencySource | None = None
    ) -> Observation:
        """Compare a verified ``checkpoint`` with the remembered one and remember it if newer.

        ``consistency(size1, size2)`` returns an RFC 9162 consistency proof of
        the same log; any exception it raises counts as "no proof available".
        Raises ForkError when the two cannot both be honest, CheckpointStoreError
        when the store fails.
        """
        with self._lock:
            old = self._store.get(checkpoint.origin)
            if old is None:
                self._store.put(checkpoint)
                return Observation.FIRST
            if checkpoint.size == old.size:
                if checkpoint.root != old.root:
                    raise ForkError(
                        "CHECKPOINT_FORK",
                        f"log {checkpoint.origin} showed two different roots for tree size "
                        f"{old.size}",
                        old,
                        checkpoint,
                    )
                return Observation.SAME
            smaller, larger = sorted((old, checkpoint), key=lambda c: c.size)
            try:
                proven = smaller.size == 0 or _consistent(smaller, larger, consistency)
            except ProofError as exc:
                raise ForkError(
                    "INCONSISTENT_CHECKPOINT",
                    f"log {checkpoint.origin}: tree size {smaller.size} is not a prefix of "
                    f"tree size {larger.size}: {exc}",
                    old,
                    checkpoint,
                ) from exc
            if checkpoint.size > old.size:
                if not proven:
                    return Observation.NEWER_UNVERIFIED
                self._store.put(checkpoint)
                return Observation.NEWER
            return Observation.OLDER if proven else Observation.OLDER_UNVERIFIED


def _consistent(
    smaller: Checkpoint, larger: Checkpoint, consistency: ConsistencySource | None
) -> bool:
    """True if proven consistent, False if no proof could be had.

    Precondition: ``0 < smaller.size < larger.size``. Raises ProofError
    (ConsistencyProofError) when the proof does not verify.
    """
    if consistency is None:
        return False
    try:
        proof = consistency(smaller.size, larger.size)
    except Exception:  # the proof source is the caller's edge (network, store): no proof
        return False
    verify_consistency(smaller.size, larger.size, proof, smaller.root, larger.root)
    return True
