"""The newest signed checkpoint, kept in a file outside the database.

Whoever restores the log's rows to an earlier state (a backup, a hostile
operator) leaves a store that is internally consistent; this file is how the
audit sees it (:mod:`ledger.rollback`). After each commit the signing process
replaces the file's note with the new checkpoint, but only with a strictly
larger tree that extends the one kept (the consistency proof is read from the
store), so the file only ever moves forward and a fork never overwrites the
evidence. The replacement is atomic (temporary file, ``fsync``, ``rename``)
and serialised across processes by an advisory lock on a sibling lock file.
One small write per committed batch.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.errors import LedgerError, StoreError
from ledger.note import NoteVerifier
from ledger.rollback import ProveConsistency, supersedes

FILE_NAME = "checkpoint.latest"
"""The file's name in a deployment's data directory."""


class LatestCheckpointFile:
    """The newest checkpoint this log signed, as a C2SP signed note in ``path``."""

    def __init__(self, path: Path, verifier: NoteVerifier) -> None:
        self.path = path
        self.verifier = verifier
        self._lock = threading.Lock()
        self._opened: tuple[str, Checkpoint] | None = None

    def read(self) -> tuple[str, Checkpoint] | None:
        """The kept note and its checkpoint, or None when no file exists yet.

        Raises StoreError when the file cannot be read or is not a checkpoint
        signed by the log's key.
        """
        try:
            note = self.path.read_text("utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreError(f"{self.path}: cannot read the kept checkpoint: {exc}") from exc
        opened = self._opened
        if opened is not None and opened[0] == note:
            return opened
        try:
            checkpoint = open_checkpoint(note, self.verifier)
        except LedgerError as exc:
            raise StoreError(
                f"{self.path}: not a checkpoint signed by this log's key: {exc}"
            ) from exc
        self._opened = (note, checkpoint)
        return self._opened

    def advance(self, note: str, prove: ProveConsistency) -> bool:
        """Keep ``note`` if its tree is larger than the kept one and extends it.

        Returns whether the file was replaced. Raises StoreError (file unreadable,
        ``note`` not signed by the log's key), RollbackError (``note`` does not
        extend the kept checkpoint: the file is left as it is) or OSError.
        """
        try:
            candidate = open_checkpoint(note, self.verifier)
        except LedgerError as exc:
            raise StoreError(f"not a checkpoint signed by this log's key: {exc}") from exc
        with self._locked():
            kept = self.read()
            if not supersedes(None if kept is None else kept[1], candidate, prove):
                return False
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            with temporary.open("w", encoding="utf-8") as handle:
                handle.write(note)
                handle.flush()
                os.fsync(handle.fileno())
            temporary.replace(self.path)
            self._opened = (note, candidate)
            return True

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.with_name(f"{self.path.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
