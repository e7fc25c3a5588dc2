"""Sequencer.submit_many: a list of entries commits together, without the batch delay."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import text

from ledger.errors import EntryError, StoreError
from ledger.note import NoteSigner
from ledger.sequencer import Sequencer
from ledger.store.log import LogStore
from tests.conftest import NOW, signing

LONG_DELAY = 30.0
"""A batch delay no test waits out: a list that had to wait for it would time out."""


def entries(n: int, tag: str = "e") -> list[bytes]:
    return [f"{tag}-{i}".encode() for i in range(n)]


def test_a_list_commits_in_one_transaction_at_once(store: LogStore, signer: NoteSigner) -> None:
    sequencer = Sequencer(store, signing(signer), clock=lambda: NOW, batch_delay=LONG_DELAY)
    start = time.monotonic()
    futures = sequencer.submit_many([(entry, None) for entry in entries(100)])
    done = [future.result(timeout=10) for future in futures]
    assert time.monotonic() - start < LONG_DELAY / 3
    assert [d.index for d in done] == list(range(100))
    assert {d.tree_size for d in done} == {100}  # one commit, one checkpoint
    assert [c.tree_size for c in store.checkpoints()] == [0, 100]
    sequencer.close()


def test_a_long_list_commits_batch_size_at_a_time(store: LogStore, signer: NoteSigner) -> None:
    sequencer = Sequencer(
        store, signing(signer), clock=lambda: NOW, batch_size=4, batch_delay=LONG_DELAY
    )
    futures = sequencer.submit_many([(entry, None) for entry in entries(10)])
    done = [future.result(timeout=10) for future in futures]
    assert [d.index for d in done] == list(range(10))
    assert [d.tree_size for d in done] == [4] * 4 + [8] * 4 + [10] * 2
    assert list(store.entries()) == entries(10)
    sequencer.close()


def test_single_appends_waiting_in_the_queue_join_the_list(
    store: LogStore, signer: NoteSigner
) -> None:
    sequencer = Sequencer(store, signing(signer), clock=lambda: NOW, batch_delay=LONG_DELAY)
    single = sequencer.submit(b"single")  # its batch would wait LONG_DELAY on its own
    futures = sequencer.submit_many([(entry, None) for entry in entries(3)])
    assert single.result(timeout=10).tree_size == 4
    assert [f.result(timeout=10).index for f in futures] == [1, 2, 3]
    sequencer.close()


def test_a_failing_hook_fails_only_its_entry(store: LogStore, signer: NoteSigner) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TABLE side (idx BIGINT PRIMARY KEY, note TEXT NOT NULL)"))

    def record(note: str) -> Any:
        def hook(conn: Any, index: int) -> None:
            conn.execute(text("INSERT INTO side VALUES (:i, :n)"), {"i": index, "n": note})

        return hook

    def broken(conn: Any, index: int) -> None:
        raise RuntimeError("hook failed")

    sequencer = Sequencer(store, signing(signer), clock=lambda: NOW, batch_delay=LONG_DELAY)
    futures = sequencer.submit_many([(b"a", record("a")), (b"b", broken), (b"c", record("c"))])
    assert futures[0].result(timeout=10).index == 0
    with pytest.raises(RuntimeError, match="hook failed"):
        futures[1].result(timeout=10)
    assert futures[2].result(timeout=10).index == 1
    assert list(store.entries()) == [b"a", b"c"]
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT idx, note FROM side ORDER BY idx")).all()
    assert rows == [(0, "a"), (1, "c")]
    sequencer.close()


def test_a_bad_entry_queues_none_of_the_list(store: LogStore, signer: NoteSigner) -> None:
    sequencer = Sequencer(store, signing(signer), clock=lambda: NOW, batch_delay=0.001)
    with pytest.raises(EntryError, match="empty"):
        sequencer.submit_many([(b"fine", None), (b"", None)])
    with pytest.raises(EntryError, match="65536 bytes"):
        sequencer.submit_many([(b"fine", None), (b"x" * 65536, None)])
    assert sequencer.submit_many([]) == []
    sequencer.close()
    assert store.tree_size() == 0
    with pytest.raises(StoreError, match="closed"):
        sequencer.submit_many([(b"late", None)])
