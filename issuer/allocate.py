"""Allocating label numbers and status-list positions, serialised in the database.

Both counters are taken under the database's write lock (``BEGIN IMMEDIATE`` on
SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL), so processes sharing a
database never hand out the same number twice. A number allocated for an
issuance that then fails is not reused: label numbers may have gaps, never
duplicates.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from issuer.store.tables import issuer_orgs, label_counters, status_lists
from ledger.store.engine import WriteTransaction

PURPOSES = ("revocation", "suspension")
STATUS_LIST_CAPACITY = 131_072  # Bitstring Status List v1.0 §6.1 minimum, for herd privacy


@dataclass(frozen=True)
class StatusPosition:
    """Where a credential's status bits live: one index in a revocation and a suspension list."""

    index: int
    revocation_list: str
    suspension_list: str

    def list_for(self, purpose: str) -> str:
        return self.revocation_list if purpose == "revocation" else self.suspension_list


def next_label_sequence(engine: Engine, year: int, category_code: str, count: int = 1) -> int:
    """Reserve ``count`` label sequence numbers for (year, category); returns the first.

    Numbers start at 1; a reserved number that is never used is a gap, never a duplicate.
    """
    with WriteTransaction(engine) as conn:
        _ensure_counter(conn, year, category_code)
        current = conn.execute(
            select(label_counters.c.next_sequence)
            .where(label_counters.c.year == year, label_counters.c.category_code == category_code)
            .with_for_update()
        ).scalar_one()
        conn.execute(
            update(label_counters)
            .where(label_counters.c.year == year, label_counters.c.category_code == category_code)
            .values(next_sequence=current + count)
        )
    return int(current)


def _ensure_counter(conn: Connection, year: int, category_code: str) -> None:
    values = {"year": year, "category_code": category_code, "next_sequence": 1}
    if conn.dialect.name == "postgresql":
        conn.execute(pg_insert(label_counters).values(**values).on_conflict_do_nothing())
    else:
        conn.execute(sqlite_insert(label_counters).values(**values).on_conflict_do_nothing())


def list_id(org_slug: str, purpose: str, sequence: int) -> str:
    return f"{org_slug}-{purpose}-{sequence}"


def allocate_status(
    engine: Engine, org_id: int, org_slug: str, count: int = 1
) -> tuple[StatusPosition, int, bool]:
    """Reserve up to ``count`` consecutive free indexes in the issuer's current lists.

    Returns the first position, how many indexes were reserved (fewer when the
    list fills up), and whether new lists were opened (the caller then publishes
    their first, all-zero status-list credentials).
    """
    with WriteTransaction(engine) as conn:
        # Lock the issuer's row: it exists even before its first list does.
        conn.execute(select(issuer_orgs.c.id).where(issuer_orgs.c.id == org_id).with_for_update())
        row = conn.execute(
            select(status_lists)
            .where(status_lists.c.org_id == org_id, status_lists.c.purpose == "revocation")
            .order_by(status_lists.c.sequence.desc())
            .limit(1)
            .with_for_update()
        ).first()
        opened = row is None or row.next_index >= row.capacity
        sequence = 1 if row is None else (row.sequence + 1 if opened else row.sequence)
        index = 0 if opened else int(row.next_index)  # type: ignore[union-attr]
        taken = min(count, STATUS_LIST_CAPACITY - index)
        if opened:
            for purpose in PURPOSES:
                conn.execute(
                    insert(status_lists).values(
                        list_id=list_id(org_slug, purpose, sequence),
                        org_id=org_id,
                        purpose=purpose,
                        sequence=sequence,
                        capacity=STATUS_LIST_CAPACITY,
                        next_index=taken,
                    )
                )
        else:
            conn.execute(
                update(status_lists)
                .where(status_lists.c.org_id == org_id, status_lists.c.sequence == sequence)
                .values(next_index=index + taken)
            )
    return (
        StatusPosition(
            index,
            list_id(org_slug, "revocation", sequence),
            list_id(org_slug, "suspension", sequence),
        ),
        taken,
        opened,
    )


class Allocator:
    """Hands out label numbers and status positions from blocks reserved in the database.

    One database transaction reserves ``block`` numbers for this process, so
    issuing threads rarely touch the write lock. Numbers stay unique across
    processes; a process that stops leaves the rest of its block as gaps.
    """

    def __init__(self, engine: Engine, block: int = 64) -> None:
        self.engine = engine
        self.block = block
        self._lock = threading.Lock()
        self._labels: dict[tuple[int, str], tuple[int, int]] = {}
        self._status: dict[int, tuple[StatusPosition, int]] = {}

    def label_sequence(self, year: int, category_code: str) -> int:
        key = (year, category_code)
        with self._lock:
            start, end = self._labels.get(key, (0, 0))
            if start >= end:
                start = next_label_sequence(self.engine, year, category_code, self.block)
                end = start + self.block
            self._labels[key] = (start + 1, end)
            return start

    def status(self, org_id: int, org_slug: str) -> tuple[StatusPosition, bool]:
        """The next status position; True when new lists were opened for it."""
        with self._lock:
            reserved = self._status.get(org_id)
            opened = False
            if reserved is None or reserved[1] == 0:
                first, taken, opened = allocate_status(self.engine, org_id, org_slug, self.block)
                reserved = (first, taken)
            position, left = reserved
            self._status[org_id] = (
                StatusPosition(
                    position.index + 1, position.revocation_list, position.suspension_list
                ),
                left - 1,
            )
            return position, opened
