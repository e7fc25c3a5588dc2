"""LogStore.receipts: many receipts against one checkpoint equal receipt() one by one."""

from __future__ import annotations

import pytest

import ledger.store.log as log_module
from ledger.errors import RangeError
from ledger.note import NoteSigner
from ledger.receipt import verify_receipt
from ledger.store.log import LogStore
from tests.conftest import NOW, signing

SIZES = (1, 2, 3, 7, 8, 255, 256, 257, 300, 513, 700)
"""Tree sizes with a checkpoint: one entry, powers of two and their neighbours, full and
partial level-0 tiles, and a second level-1 hash."""


def entries(start: int, stop: int) -> list[bytes]:
    return [f'{{"n":{i}}}'.encode() for i in range(start, stop)]


@pytest.fixture
def grown(store: LogStore, signer: NoteSigner) -> LogStore:
    """A log with a checkpoint signed at every size of SIZES."""
    previous = 0
    for size in SIZES:
        store.integrate(entries(previous, size), signing(signer), NOW)
        previous = size
    return store


@pytest.mark.parametrize("size", SIZES)
def test_receipts_equal_receipt_for_every_index(grown: LogStore, size: int) -> None:
    fresh = LogStore(grown.engine)  # a cold tile cache: receipts() reads every tile itself
    together = fresh.receipts(range(size), size)
    assert together == [grown.receipt(index, size) for index in range(size)]


def test_receipts_in_any_order_with_repeats(grown: LogStore, signer: NoteSigner) -> None:
    indices = [699, 0, 256, 256, 3, 512, 698]
    receipts = LogStore(grown.engine).receipts(indices)  # newest checkpoint: 700
    assert [r.index for r in receipts] == indices
    assert receipts == [grown.receipt(index) for index in indices]
    data = entries(0, 700)
    for receipt in receipts:
        assert verify_receipt(receipt, data[receipt.index], signer.verifier()).size == 700


def test_tiles_are_read_in_several_queries_when_many_are_needed(
    grown: LogStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_module, "_TILES_PER_QUERY", 1)
    receipts = LogStore(grown.engine).receipts(range(700), 700)
    assert receipts == [grown.receipt(index, 700) for index in range(700)]


def test_no_indices_no_receipts(grown: LogStore) -> None:
    assert grown.receipts([], 300) == []


def test_receipts_refuse_what_receipt_refuses(grown: LogStore) -> None:
    with pytest.raises(RangeError, match="no checkpoint was signed at tree size 9"):
        grown.receipts([0, 1], 9)
    with pytest.raises(RangeError):
        grown.receipts([0, 300], 300)  # 300 is not below the tree size
    with pytest.raises(RangeError):
        grown.receipts([-1], 300)
