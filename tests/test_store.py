"""The log store on SQLite and PostgreSQL: integration, proofs, append-only triggers."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.checkpoint import open_checkpoint
from ledger.errors import EntryError, InclusionProofError, RangeError, StoreError
from ledger.note import NoteSigner
from ledger.proof import verify_consistency, verify_inclusion
from ledger.receipt import verify_receipt
from ledger.rfc9162 import hash_leaf, root_of
from ledger.sequencer import Sequencer
from ledger.store.engine import make_engine
from ledger.store.log import LogStore
from ledger.tiles import ENTRIES_LEVEL, decode_bundle, split_hashes, tile_interior
from tests.conftest import NOW, ORIGIN, signing


def entries(n: int, start: int = 0) -> list[bytes]:
    return [f'{{"n":{i}}}'.encode() for i in range(start, start + n)]


def test_initialise_is_idempotent(store: LogStore, signer: NoteSigner) -> None:
    assert store.initialise(ORIGIN, signing(signer), NOW) is False
    assert store.tree_size() == 0
    checkpoint = open_checkpoint(store.latest_checkpoint().note, signer.verifier())
    assert (checkpoint.origin, checkpoint.size) == (ORIGIN, 0)


def test_initialise_refuses_another_origin(store: LogStore) -> None:
    other = NoteSigner.generate("other.example/log")
    with pytest.raises(StoreError, match="origin"):
        store.initialise("other.example/log", signing(other), NOW)


def test_uninitialised_store_says_so(database_url: str) -> None:
    engine = make_engine(database_url)
    with pytest.raises(StoreError, match="log init"):
        LogStore(engine).tree_size()
    engine.dispose()


def test_batches_give_rfc9162_roots_and_signed_checkpoints(
    store: LogStore, signer: NoteSigner
) -> None:
    data: list[bytes] = []
    for count in (1, 2, 253, 1, 300, 700):
        batch = entries(count, len(data))
        appended = store.integrate(batch, signing(signer), NOW)
        assert appended.first_index == len(data)
        data += batch
        checkpoint = open_checkpoint(appended.checkpoint, signer.verifier())
        assert checkpoint.size == len(data)
        assert checkpoint.root == root_of([hash_leaf(e) for e in data])
    assert list(store.entries()) == data
    assert store.entry(0) == data[0]
    with pytest.raises(RangeError):
        store.entry(len(data))


def test_tiles_and_bundles_are_served_at_every_width(store: LogStore, signer: NoteSigner) -> None:
    data = entries(600)
    store.integrate(data[:100], signing(signer), NOW)
    store.integrate(data[100:], signing(signer), NOW)
    leaves = [hash_leaf(e) for e in data]
    assert split_hashes(store.tile(0, 0, 256) or b"") == leaves[:256]
    assert split_hashes(store.tile(0, 2, 88) or b"") == leaves[512:]
    assert split_hashes(store.tile(0, 2, 40) or b"") == leaves[512:552]
    assert store.tile(0, 2, 89) is None  # beyond the tree
    assert store.tile(0, 3, 1) is None
    assert split_hashes(store.tile(1, 0, 2) or b"") == [
        root_of(leaves[:256]),
        root_of(leaves[256:512]),
    ]
    assert decode_bundle(store.tile(ENTRIES_LEVEL, 1, 256) or b"") == data[256:512]
    assert decode_bundle(store.tile(ENTRIES_LEVEL, 2, 5) or b"") == data[512:517]


def test_tiles_store_their_interior_and_bundles_are_not_stored(
    store: LogStore, signer: NoteSigner
) -> None:
    data = entries(600)
    store.integrate(data, signing(signer), NOW)
    leaves = [hash_leaf(e) for e in data]
    for index in (0, 1):
        interiors = store.stored_interiors(0, index)
        assert interiors == {256: tile_interior(b"".join(leaves[256 * index : 256 * (index + 1)]))}
    assert store.stored_interiors(0, 2) == {88: tile_interior(b"".join(leaves[512:]))}
    assert store.count_interiors() == store.count_tiles()
    assert store.stored_tiles(ENTRIES_LEVEL, 0) == []
    bundle = store.tile(ENTRIES_LEVEL, 0, 256)
    assert bundle == b"".join(len(e).to_bytes(2, "big") + e for e in data[:256])


def test_proofs_read_node_hashes_from_stored_interiors(store: LogStore, signer: NoteSigner) -> None:
    """A node inside a full tile is sliced from its interior row, not recomputed."""
    data = entries(512)
    store.integrate(data, signing(signer), NOW)
    leaves = [hash_leaf(e) for e in data]
    verify_inclusion(0, 512, leaves[0], store.inclusion_proof(0), root_of(leaves))
    drop = (
        "DROP TRIGGER log_tile_nodes_append_only ON log_tile_nodes"
        if store.engine.dialect.name == "postgresql"
        else "DROP TRIGGER log_tile_nodes_no_update"
    )
    with store.engine.begin() as conn:
        conn.execute(text(drop))
        conn.execute(
            text("UPDATE log_tile_nodes SET data = :x WHERE width = 256"), {"x": bytes(254 * 32)}
        )
    fresh = LogStore(store.engine)  # empty cache
    with pytest.raises(InclusionProofError):
        verify_inclusion(0, 512, leaves[0], fresh.inclusion_proof(0), root_of(leaves))
    # the warm store kept its cached tiles: still right
    verify_inclusion(0, 512, leaves[0], store.inclusion_proof(0), root_of(leaves))


def test_tile_cache_is_bounded_in_bytes(store: LogStore, signer: NoteSigner) -> None:
    data = entries(256 * 12 + 7)
    store.integrate(data, signing(signer), NOW)
    small = LogStore(store.engine, tile_cache_bytes=3 * 16_520)
    leaves = [hash_leaf(e) for e in data]
    root = root_of(leaves)
    for index in range(0, len(data), 97):
        verify_inclusion(index, len(data), leaves[index], small.inclusion_proof(index), root)
        assert small._cache.used <= 3 * 16_520


def test_sqlite_entry_index_is_the_rowid(tmp_path: Path, signer: NoteSigner) -> None:
    store = LogStore(make_engine(f"sqlite:///{tmp_path / 'rowid.db'}"))
    store.initialise(ORIGIN, signing(signer), NOW)
    with store.engine.connect() as conn:
        indexes = conn.execute(text("PRAGMA index_list(log_entries)")).all()
        columns = {row[1]: row[2] for row in conn.execute(text("PRAGMA table_info(log_entries)"))}
    store.engine.dispose()
    assert indexes == []  # no separate primary-key index: idx is the rowid
    assert columns["idx"] == "INTEGER"


def test_proofs_from_the_store_verify(store: LogStore, signer: NoteSigner) -> None:
    data = entries(1100)
    for start in range(0, 1100, 170):
        store.integrate(data[start : start + 170], signing(signer), NOW)
    leaves = [hash_leaf(e) for e in data]
    for size in (1, 2, 255, 256, 257, 511, 700, 1100):
        root = root_of(leaves[:size])
        for index in {0, size // 3, size - 1}:
            verify_inclusion(index, size, leaves[index], store.inclusion_proof(index, size), root)
        for old in {1, size // 2 or 1, size}:
            proof = store.consistency_proof(old, size)
            verify_consistency(old, size, proof, root_of(leaves[:old]), root)
    with pytest.raises(RangeError):
        store.inclusion_proof(5, 1101)
    with pytest.raises(RangeError):
        store.consistency_proof(0, 10)


def test_receipt_verifies_offline(store: LogStore, signer: NoteSigner) -> None:
    data = entries(300)
    store.integrate(data, signing(signer), NOW)
    for index in (0, 255, 299):
        receipt = store.receipt(index)
        checkpoint = verify_receipt(receipt, data[index], signer.verifier())
        assert checkpoint.size == 300
    with pytest.raises(RangeError):
        store.receipt(3, tree_size=7)  # no checkpoint was signed at 7


@pytest.mark.parametrize(
    ("batch", "reason"),
    [([b"ok", b""], "entry 1 of the batch is empty"), ([b"x" * 65536], "65536 bytes")],
)
def test_bad_entries_write_nothing(
    store: LogStore, signer: NoteSigner, batch: list[bytes], reason: str
) -> None:
    with pytest.raises(EntryError, match=reason):
        store.integrate(batch, signing(signer), NOW)
    assert store.tree_size() == 0
    assert list(store.entries()) == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE log_entries SET data = :x",
        "DELETE FROM log_entries",
        "UPDATE log_tiles SET data = :x",
        "DELETE FROM log_tiles",
        "UPDATE log_tile_nodes SET data = :x",
        "DELETE FROM log_tile_nodes",
        "UPDATE log_checkpoints SET note = 'forged'",
        "DELETE FROM log_checkpoints",
    ],
)
def test_triggers_refuse_rewriting_the_log(
    store: LogStore, signer: NoteSigner, statement: str
) -> None:
    store.integrate(entries(300), signing(signer), NOW)
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text(statement), {"x": b"forged"})
    assert list(store.entries()) == entries(300)


def test_sequencer_batches_and_returns_after_commit(store: LogStore, signer: NoteSigner) -> None:
    sequencer = Sequencer(
        store, signing(signer), clock=lambda: NOW, batch_size=16, batch_delay=0.005
    )
    results: list[tuple[bytes, int, int]] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(25):
            entry = f"w{n}-{i}".encode()
            done = sequencer.append(entry)
            assert done.index < done.tree_size
            assert store.tree_size() >= done.tree_size  # committed before we heard back
            with lock:
                results.append((entry, done.index, done.tree_size))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sequencer.close()
    assert sorted(index for _, index, _ in results) == list(range(200))
    stored = list(store.entries())
    for entry, index, _ in results:
        assert stored[index] == entry


def test_sequencer_refuses_bad_entries_at_once(store: LogStore, signer: NoteSigner) -> None:
    sequencer = Sequencer(store, signing(signer), clock=lambda: NOW)
    with pytest.raises(EntryError):
        sequencer.append(b"")
    sequencer.close()
    with pytest.raises(StoreError):
        sequencer.append(b"late")


def _append_from_process(url: str, skey: str, worker: int, count: int) -> None:
    signer = NoteSigner.from_skey(skey)
    store = LogStore(make_engine(url))
    for i in range(0, count, 7):
        batch = [f"p{worker}-{j}".encode() for j in range(i, min(count, i + 7))]
        store.integrate(batch, signing(signer), NOW)
    store.engine.dispose()


def test_processes_appending_concurrently_never_fork_skip_or_duplicate(
    store: LogStore, signer: NoteSigner, database_url: str
) -> None:
    context = multiprocessing.get_context("spawn")
    procs = [
        context.Process(target=_append_from_process, args=(database_url, signer.to_skey(), w, 60))
        for w in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    stored = list(store.entries())
    assert len(stored) == 240
    assert sorted(stored) == sorted(f"p{w}-{j}".encode() for w in range(4) for j in range(60))
    root = root_of([hash_leaf(e) for e in stored])
    assert store.latest_checkpoint().root == root
    sizes = [c.tree_size for c in store.checkpoints()]
    assert sizes == sorted(set(sizes))


def test_hooks_commit_with_their_entries_or_not_at_all(store: LogStore, signer: NoteSigner) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TABLE side (idx BIGINT PRIMARY KEY, note TEXT NOT NULL)"))

    def record(note: str):  # type: ignore[no-untyped-def]
        def hook(conn, index):  # type: ignore[no-untyped-def]
            conn.execute(text("INSERT INTO side VALUES (:i, :n)"), {"i": index, "n": note})

        return hook

    def broken(conn, index):  # type: ignore[no-untyped-def]
        raise RuntimeError("hook failed")

    store.integrate([b"a", b"b"], signing(signer), NOW, [record("a"), None])
    with pytest.raises(RuntimeError):
        store.integrate([b"c", b"d"], signing(signer), NOW, [record("c"), broken])
    assert list(store.entries()) == [b"a", b"b"]  # the failed batch left nothing
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT idx, note FROM side")).all() == [(0, "a")]

    sequencer = Sequencer(store, signing(signer), clock=lambda: NOW, batch_size=8, batch_delay=0.05)
    futures = [
        sequencer.submit(b"e", record("e")),
        sequencer.submit(b"f", broken),
        sequencer.submit(b"g", record("g")),
    ]
    sequencer.close()
    assert futures[0].result().index == 2
    with pytest.raises(RuntimeError):
        futures[1].result()
    assert futures[2].result().index == 3
    assert list(store.entries()) == [b"a", b"b", b"e", b"g"]
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT idx, note FROM side ORDER BY idx")).all()
    assert rows == [(0, "a"), (2, "e"), (3, "g")]
