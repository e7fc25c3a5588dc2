"""The newest signed checkpoint, kept in a file outside the database.

Whoever restores the log's rows to an earlier state (a backup, a hostile
operator) leaves a store that is internally consistent; this file is how the
audit sees it (:mod:`ledger.rollback`). After each commit the signing process
replaces the file's note with the new checkpoint, but only with a strictly
larger tree that extends the one kept (the consistency proof is read from the
store), so the file only ever moves forward and a fork never overwrites the
evidence. The replacement is atomic (temporary file, ``fsync``, ``rename``)
and serialised across processes by an advisory lock on a sibling lock file.

:class:`CheckpointKeeper` does this off the commit path: a commit only hands
its note to a background thread (microseconds), which writes the newest note it
has been handed, so under load one write covers many batches and an append
never waits for the ``fsync`` (~4 ms here, as long as a whole SQLite commit).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
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

_logger = logging.getLogger(__name__)


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


def _tree_size(note: str) -> int:
    """The tree size line of a signed checkpoint note (-1 if it has none)."""
    lines = note.split("\n", 2)
    try:
        return int(lines[1])
    except (IndexError, ValueError):
        return -1


class CheckpointKeeper:
    """Hands committed checkpoints to a :class:`LatestCheckpointFile` from a background thread.

    Use an instance as the store's ``on_checkpoint``. Only the newest note handed
    over and not yet written is kept; a note that cannot be kept (unreadable file,
    a fork) is logged, and the audit reports what the file then says.
    """

    def __init__(self, file: LatestCheckpointFile, prove: ProveConsistency) -> None:
        self.file = file
        self._prove = prove
        self._pending: str | None = None
        self._busy = False
        self._closed = False
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None

    def __call__(self, note: str) -> None:
        """Keep ``note`` (soon) if it is newer than any note waiting to be written."""
        with self._condition:
            if self._pending is None or _tree_size(note) > _tree_size(self._pending):
                self._pending = note
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="carbonlabel-checkpoint-keeper", daemon=True
                )
                self._thread.start()
            self._condition.notify_all()
        if self._closed:
            self._write_pending()

    def flush(self) -> None:
        """Wait until every note handed over has been written (or refused)."""
        with self._condition:
            self._condition.wait_for(lambda: self._pending is None and not self._busy)

    def close(self) -> None:
        """Write what is pending and stop the thread (idempotent)."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()
        self._write_pending()

    def _run(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._pending is not None or self._closed)
                if self._pending is None:
                    return
            self._write_pending()

    def _write_pending(self) -> None:
        with self._condition:
            note, self._pending = self._pending, None
            if note is None:
                return
            self._busy = True
        try:
            self.file.advance(note, self._prove)
        except Exception:  # the entries are committed; the audit reports what is kept
            _logger.exception("the newest checkpoint could not be kept in %s", self.file.path)
        finally:
            with self._condition:
                self._busy = False
                self._condition.notify_all()
