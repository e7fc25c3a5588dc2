"""RowHook: rows that carry their entry's index commit with the batch, as one executemany."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection

from ledger.note import NoteSigner
from ledger.store.log import EntryHook, LogStore, RowHook
from tests.conftest import NOW, signing

_metadata = sa.MetaData()
_rows = sa.Table(
    "rowhook_test",
    _metadata,
    sa.Column("log_index", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, nullable=False),
)


@pytest.fixture
def table(store: LogStore) -> sa.Table:
    _metadata.create_all(store.engine)
    return _rows


def _stored(store: LogStore) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(_rows).order_by(_rows.c.log_index))]


def test_row_hooks_of_a_batch_commit_with_their_indices(
    store: LogStore, signer: NoteSigner, table: sa.Table
) -> None:
    insert = sa.insert(table)
    calls: list[int] = []

    def plain(conn: Connection, index: int) -> None:
        calls.append(index)

    store.integrate([b"a"], signing(signer), NOW)
    hooks: list[EntryHook | None] = [
        RowHook(insert, {"name": "x"}),
        plain,
        None,
        RowHook(insert, {"name": "y"}),
    ]
    store.integrate([b"b", b"c", b"d", b"e"], signing(signer), NOW, hooks)
    assert _stored(store) == [(1, "x"), (4, "y")]
    assert calls == [2]


def test_a_failing_row_rolls_the_whole_batch_back(
    store: LogStore, signer: NoteSigner, table: sa.Table
) -> None:
    insert = sa.insert(table)
    hooks = [RowHook(insert, {"name": "ok"}), RowHook(insert, {"name": None})]
    with pytest.raises(sa.exc.IntegrityError):
        store.integrate([b"a", b"b"], signing(signer), NOW, hooks)
    assert store.tree_size() == 0
    assert _stored(store) == []
