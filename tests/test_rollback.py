"""Rollback detection: the kept newest checkpoint only moves forward; a smaller or forked
store is named (ledger/rollback.py, ledger/store/latest.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.note import NoteSigner
from ledger.rfc9162 import Hash
from ledger.rollback import RollbackError, check_not_rolled_back
from ledger.store.latest import LatestCheckpointFile
from ledger.store.log import LogStore
from tests.conftest import NOW, ORIGIN, signing


def grow(store: LogStore, signer: NoteSigner, count: int) -> Checkpoint:
    start = store.tree_size()
    entries = [f"entry {i}".encode() for i in range(start, start + count)]
    note = store.integrate(entries, signing(signer), NOW).checkpoint
    return open_checkpoint(note, signer.verifier())


def test_the_kept_checkpoint_only_moves_forward(
    store: LogStore, signer: NoteSigner, tmp_path: Path
) -> None:
    kept = LatestCheckpointFile(tmp_path / "checkpoint.latest", signer.verifier())
    assert kept.read() is None
    small = grow(store, signer, 10)
    small_note = store.latest_checkpoint().note
    large = grow(store, signer, 300)
    large_note = store.latest_checkpoint().note
    assert kept.advance(small_note, store.consistency_proof)
    assert kept.advance(large_note, store.consistency_proof)
    assert not kept.advance(small_note, store.consistency_proof)  # never backwards
    stored = kept.read()
    assert stored is not None and stored[1] == large and small.size < large.size
    forged_root = Hash(hashlib.sha256(b"another history").digest())
    fork = sign_checkpoint(Checkpoint(ORIGIN, large.size + 5, forged_root), signer)
    with pytest.raises(RollbackError, match="fork"):
        kept.advance(fork, lambda old, new: store.consistency_proof(old, large.size))
    assert kept.path.read_text() == large_note  # the evidence is kept
    stranger = NoteSigner.generate(ORIGIN)
    with pytest.raises(Exception, match="signed by this log's key"):
        kept.advance(
            sign_checkpoint(Checkpoint(ORIGIN, 999, forged_root), stranger), store.consistency_proof
        )


def test_check_not_rolled_back(store: LogStore, signer: NoteSigner) -> None:
    older = grow(store, signer, 70)
    newer = grow(store, signer, 200)
    check_not_rolled_back(newer, older, store.consistency_proof, "w")
    check_not_rolled_back(newer, newer, store.consistency_proof, "w")
    with pytest.raises(RollbackError, match=r"rollback: w holds .* tree size 270, .* 70"):
        check_not_rolled_back(older, newer, store.consistency_proof, "w")
    other = Checkpoint(ORIGIN, older.size, Hash(hashlib.sha256(b"x").digest()))
    with pytest.raises(RollbackError, match="fork: the store's tree at size 270 does not extend"):
        check_not_rolled_back(newer, other, store.consistency_proof, "w")
    same_size = Checkpoint(ORIGIN, newer.size, other.root)
    with pytest.raises(RollbackError, match="fork: w holds a checkpoint at tree size 270"):
        check_not_rolled_back(newer, same_size, store.consistency_proof, "w")
    with pytest.raises(RollbackError, match="not of this log"):
        check_not_rolled_back(
            newer, Checkpoint("elsewhere/log", 1, other.root), store.consistency_proof, "w"
        )


def test_a_failing_keeper_never_fails_a_commit(store: LogStore, signer: NoteSigner) -> None:
    """The entries are committed before the checkpoint is handed on: a failure to keep it
    is logged, never raised into the append."""
    seen: list[str] = []

    def keeper(note: str) -> None:
        seen.append(note)
        raise OSError("disk full")

    failing = LogStore(store.engine, on_checkpoint=keeper)
    appended = failing.integrate([b"kept anyway"], signing(signer), NOW)
    assert seen == [appended.checkpoint]
    assert store.entry(appended.first_index) == b"kept anyway"
