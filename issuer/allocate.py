"""Allocating label numbers and status-list positions, serialised in the database.

Both counters are taken under the database's write lock (``BEGIN IMMEDIATE`` on
SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL), so processes sharing a
database never hand out the same number twice. A number allocated for an
issuance that then fails is not reused: label numbers may have gaps, never
duplicates.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
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
    return next_label_sequences(engine, year, {category_code: count})[category_code]


def next_label_sequences(engine: Engine, year: int, counts: Mapping[str, int]) -> dict[str, int]:
    """Reserve ``counts[code]`` numbers for each category of ``year`` in one transaction.

    Returns the first number reserved per category code (as :func:`next_label_sequence`).
    """
    first: dict[str, int] = {}
    with WriteTransaction(engine) as conn:
        for category_code, count in sorted(counts.items()):  # one lock order for every writer
            _ensure_counter(conn, year, category_code)
            where = (label_counters.c.year == year, label_counters.c.category_code == category_code)
            current = conn.execute(
                select(label_counters.c.next_sequence).where(*where).with_for_update()
            ).scalar_one()
            conn.execute(update(label_counters).where(*where).values(next_sequence=current + count))
            first[category_code] = int(current)
    return first


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
    issuing threads rarely touch the write lock; :meth:`reserve` takes what a
    batch of labels needs in one transaction. Numbers stay unique across
    processes; a process that stops leaves the rest of its blocks as gaps.
    """

    def __init__(self, engine: Engine, block: int = 64) -> None:
        self.engine = engine
        self.block = block
        self._lock = threading.Lock()
        self._labels: dict[tuple[int, str], list[range]] = {}
        self._status: dict[int, list[_StatusBlock]] = {}

    def label_sequence(self, year: int, category_code: str) -> int:
        key = (year, category_code)
        with self._lock:
            blocks = self._labels.setdefault(key, [])
            if not blocks:
                start = next_label_sequence(self.engine, year, category_code, self.block)
                blocks.append(range(start, start + self.block))
            return _take(blocks)

    def status(self, org_id: int, org_slug: str) -> tuple[StatusPosition, bool]:
        """The next status position; True when new lists were opened for it."""
        with self._lock:
            blocks = self._status.setdefault(org_id, [])
            if not blocks:
                blocks.append(
                    _StatusBlock(*allocate_status(self.engine, org_id, org_slug, self.block))
                )
            block = blocks[0]
            position = StatusPosition(
                block.first.index + block.used,
                block.first.revocation_list,
                block.first.suspension_list,
            )
            opened = block.opened and block.used == 0
            block.used += 1
            if block.used == block.taken:
                blocks.pop(0)
            return position, opened

    def reserve(
        self, year: int, labels: Mapping[str, int], org_id: int, org_slug: str, positions: int
    ) -> None:
        """Make sure the next ``labels[code]`` label numbers of each category of ``year``
        and the next ``positions`` status positions of the issuer are held by this
        process, reserving what is missing in one transaction per kind.

        A batch calls this first, so that its labels do not reserve block after block.
        """
        with self._lock:
            missing = {
                code: count - sum(len(r) for r in self._labels.get((year, code), []))
                for code, count in labels.items()
            }
            missing = {code: count for code, count in missing.items() if count > 0}
            if missing:
                for code, start in next_label_sequences(self.engine, year, missing).items():
                    self._labels.setdefault((year, code), []).append(
                        range(start, start + missing[code])
                    )
            blocks = self._status.setdefault(org_id, [])
            left = positions - sum(b.taken - b.used for b in blocks)
            while left > 0:  # more than one call when a list fills up
                block = _StatusBlock(*allocate_status(self.engine, org_id, org_slug, left))
                blocks.append(block)
                left -= block.taken


def _take(blocks: list[range]) -> int:
    """The first number of the first block, removed from it."""
    number = blocks[0].start
    blocks[0] = blocks[0][1:]
    if not blocks[0]:
        blocks.pop(0)
    return number


@dataclass
class _StatusBlock:
    """Consecutive positions from :func:`allocate_status`; ``used`` of them handed out."""

    first: StatusPosition
    taken: int
    opened: bool
    used: int = 0
