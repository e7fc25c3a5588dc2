"""Allocating label numbers and status-list positions, serialised in the database.

Both counters are taken under the database's write lock (``BEGIN IMMEDIATE`` on
SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL), so processes sharing a
database never hand out the same number twice.

**Label numbers are not gapless; every skipped number is listed.** A label number
is inside the signed credential, so it is taken before signing, and a gapless
sequence would have to hold the counter until the label's log entry commits:
one signing process at a time per category. Instead a process reserves numbers
in blocks (:class:`Allocator`, ``block`` for single labels, exactly what a batch
needs for batches) and

* every reservation is recorded, in the transaction that takes it, in
  ``label_reservations``: which numbers, for which issuer, by which process
  (``<host> pid <pid>``), when;
* on a clean exit (:meth:`Allocator.close`, called by ``Runtime.close``) a process
  returns what it never handed out: the unused tail goes back to the counter when
  no later number was reserved meanwhile (so consecutive CLI runs leave no gap),
  otherwise it is marked "returned unused";
* a number is never handed out twice, even when its issuance failed: a label
  whose log commit timed out may still commit.

:func:`skipped_numbers` lists every number below the counter that no logged label
carries, as ranges with the reason (``carbonlabel label gaps``, ``GET /labels/gaps``):
returned unused, handed to an issuance that was not logged, held by a process that
has not returned it (still running, or killed), or reserved before reservations
were recorded.
"""

from __future__ import annotations

import os
import socket
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from issuer.build import label_number
from issuer.store.tables import (
    issued_credentials,
    issuer_orgs,
    label_counters,
    label_reservations,
    status_lists,
)
from ledger.store.engine import WriteTransaction

PURPOSES = ("revocation", "suspension")
STATUS_LIST_CAPACITY = 131_072  # Bitstring Status List v1.0 §6.1 minimum, for herd privacy
MAX_LABEL_SEQUENCE = 999_999  # six digits: issuer.build.label_number


@dataclass(frozen=True)
class StatusPosition:
    """Where a credential's status bits live: one index in a revocation and a suspension list."""

    index: int
    revocation_list: str
    suspension_list: str

    def list_for(self, purpose: str) -> str:
        return self.revocation_list if purpose == "revocation" else self.suspension_list


def holder_name() -> str:
    """Who reserves label numbers from this process: ``<host> pid <pid>``."""
    return f"{socket.gethostname()} pid {os.getpid()}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def next_label_sequence(
    engine: Engine,
    year: int,
    category_code: str,
    count: int = 1,
    *,
    org_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Reserve ``count`` label sequence numbers for (year, category); returns the first.

    Numbers start at 1; a reserved number that is never used is a gap, never a
    duplicate. The reservation is recorded (see :func:`next_label_sequences`).
    """
    first = next_label_sequences(engine, year, {category_code: count}, org_id=org_id, now=now)
    return first[category_code][0]


def next_label_sequences(
    engine: Engine,
    year: int,
    counts: Mapping[str, int],
    *,
    org_id: int | None = None,
    now: datetime | None = None,
    holder: str | None = None,
) -> dict[str, tuple[int, int]]:
    """Reserve ``counts[code]`` numbers for each category of ``year`` in one transaction.

    Returns, per category code, the first number reserved and the id of its
    ``label_reservations`` row, written in the same transaction (for ``org_id``,
    by ``holder``, default :func:`holder_name`, at ``now``).
    """
    first: dict[str, tuple[int, int]] = {}
    now = now or _utcnow()
    with WriteTransaction(engine) as conn:
        for category_code, count in sorted(counts.items()):  # one lock order for every writer
            _ensure_counter(conn, year, category_code)
            where = (label_counters.c.year == year, label_counters.c.category_code == category_code)
            current = int(
                conn.execute(
                    select(label_counters.c.next_sequence).where(*where).with_for_update()
                ).scalar_one()
            )
            conn.execute(update(label_counters).where(*where).values(next_sequence=current + count))
            reservation = conn.execute(
                insert(label_reservations)
                .values(
                    year=year,
                    category_code=category_code,
                    first_sequence=current,
                    last_sequence=current + count - 1,
                    org_id=org_id,
                    holder=holder or holder_name(),
                    reserved_at=now,
                )
                .returning(label_reservations.c.id)
            ).scalar_one()
            first[category_code] = (current, int(reservation))
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
    batch of labels needs in one transaction. Label numbers are held per issuer
    (``org_id``), so a skipped number belongs to the issuer it was reserved for.
    Numbers stay unique across processes; :meth:`close` returns what this process
    did not hand out, and every reservation is recorded, so a number that no label
    carries is listed by :func:`skipped_numbers` rather than read as a missing label.
    """

    def __init__(
        self, engine: Engine, block: int = 64, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self.engine = engine
        self.block = block
        self.clock = clock
        self._lock = threading.Lock()
        self._labels: dict[tuple[int, str, int | None], list[_LabelBlock]] = {}
        self._reservations: list[int] = []
        self._status: dict[int, list[_StatusBlock]] = {}

    def label_sequence(self, year: int, category_code: str, org_id: int | None = None) -> int:
        """The next label sequence number of (year, category) held for issuer ``org_id``."""
        key = (year, category_code, org_id)
        with self._lock:
            blocks = self._labels.setdefault(key, [])
            if not blocks:
                self._reserve_labels(year, {category_code: self.block}, org_id)
            return _take(blocks)

    def _reserve_labels(self, year: int, counts: Mapping[str, int], org_id: int | None) -> None:
        reserved = next_label_sequences(self.engine, year, counts, org_id=org_id, now=self.clock())
        for code, (start, reservation) in reserved.items():
            self._labels.setdefault((year, code, org_id), []).append(
                _LabelBlock(reservation, range(start, start + counts[code]))
            )
            self._reservations.append(reservation)

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
                code: count
                - sum(len(b.numbers) for b in self._labels.get((year, code, org_id), []))
                for code, count in labels.items()
            }
            missing = {code: count for code, count in missing.items() if count > 0}
            if missing:
                self._reserve_labels(year, missing, org_id)
            blocks = self._status.setdefault(org_id, [])
            left = positions - sum(b.taken - b.used for b in blocks)
            while left > 0:  # more than one call when a list fills up
                block = _StatusBlock(*allocate_status(self.engine, org_id, org_slug, left))
                blocks.append(block)
                left -= block.taken

    def close(self) -> None:
        """Return the label numbers this process holds and has not handed out.

        Per (year, category), in one transaction under the counter's lock: an unused
        tail that ends where the counter stands goes back to the counter (its
        reservation shrinks, or is deleted when none of it was used); an unused
        range with later numbers reserved by others is marked returned from its
        first unused number. Every reservation of this process is marked returned.
        Numbers already handed out are never given back (their issuance may still
        commit). The allocator stays usable: later numbers come from new blocks.
        """
        with self._lock:
            now = self.clock()
            held = self._labels
            reservations = self._reservations
            self._labels, self._reservations = {}, []
            by_counter: dict[tuple[int, str], list[_LabelBlock]] = {}
            for (year, code, _), blocks in held.items():
                by_counter.setdefault((year, code), []).extend(b for b in blocks if b.numbers)
            if not reservations:
                return
            with WriteTransaction(self.engine) as conn:
                for (year, code), blocks in sorted(by_counter.items()):
                    _give_back(conn, year, code, blocks, now)
                conn.execute(
                    update(label_reservations)
                    .where(
                        label_reservations.c.id.in_(reservations),
                        label_reservations.c.returned_at.is_(None),
                    )
                    .values(returned_at=now)
                )


def _give_back(
    conn: Connection, year: int, code: str, blocks: list[_LabelBlock], now: datetime
) -> None:
    """Return the unused ranges of one counter (see :meth:`Allocator.close`)."""
    where = (label_counters.c.year == year, label_counters.c.category_code == code)
    counter = int(
        conn.execute(
            select(label_counters.c.next_sequence).where(*where).with_for_update()
        ).scalar_one()
    )
    lowered = counter
    for block in sorted(blocks, key=lambda b: b.numbers.start, reverse=True):
        numbers = block.numbers
        row = label_reservations.c.id == block.reservation
        if numbers.stop == lowered:  # nothing reserved after it: the counter takes it back
            lowered = numbers.start
            first = conn.execute(
                select(label_reservations.c.first_sequence).where(row)
            ).scalar_one()
            if first == numbers.start:  # none of it was handed out
                conn.execute(delete(label_reservations).where(row))
            else:
                conn.execute(
                    update(label_reservations)
                    .where(row)
                    .values(last_sequence=numbers.start - 1, returned_at=now)
                )
        else:
            conn.execute(
                update(label_reservations)
                .where(row)
                .values(unused_from=numbers.start, returned_at=now)
            )
    if lowered != counter:
        conn.execute(update(label_counters).where(*where).values(next_sequence=lowered))


def _take(blocks: list[_LabelBlock]) -> int:
    """The first number of the first block, removed from it."""
    number = blocks[0].numbers.start
    blocks[0].numbers = blocks[0].numbers[1:]
    if not blocks[0].numbers:
        blocks.pop(0)
    return number


@dataclass
class _LabelBlock:
    """Label numbers of one reservation (``label_reservations.id``) not handed out yet."""

    reservation: int
    numbers: range


@dataclass
class _StatusBlock:
    """Consecutive positions from :func:`allocate_status`; ``used`` of them handed out."""

    first: StatusPosition
    taken: int
    opened: bool
    used: int = 0


# --- skipped label numbers -------------------------------------------------------------

SKIP_REASONS: Mapping[str, str] = {
    "returned-unused": "reserved by a process that returned it unused; numbers after it were "
    "already reserved by another process, so it could not go back to the counter",
    "not-logged": "handed to an issuance that was not logged (refused or failed after it "
    "was numbered); never reused, since a label whose commit timed out may still be logged",
    "not-returned": "reserved by a process that has not returned it: still running, or "
    "stopped without returning it (killed or crashed)",
    "unrecorded": "reserved before reservations were recorded",
}
"""Why a label number below the counter is carried by no logged label (a reason code each)."""


@dataclass(frozen=True)
class SkippedRange:
    """Consecutive label numbers of one (year, category) that no logged label carries."""

    year: int
    category_code: str
    first: int
    last: int
    reason: str
    """A key of :data:`SKIP_REASONS`."""
    issuer: str | None
    """Slug of the issuer the numbers were reserved for (None: not recorded)."""
    holder: str | None
    reserved_at: datetime | None
    returned_at: datetime | None

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    def to_json(self, *, with_holder: bool = True) -> dict[str, Any]:
        """The range as JSON; ``with_holder=False`` leaves out host and process id."""
        body: dict[str, Any] = {
            "year": self.year,
            "categoryCode": self.category_code,
            "first": label_number(self.year, self.category_code, self.first),
            "last": label_number(self.year, self.category_code, self.last),
            "count": self.count,
            "issuer": self.issuer,
            "reason": self.reason,
            "detail": SKIP_REASONS[self.reason],
            "reservedAt": _iso(self.reserved_at),
            "returnedAt": _iso(self.returned_at),
        }
        if with_holder:
            body["holder"] = self.holder
        return body


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def skipped_numbers(engine: Engine, year: int | None, org: str | None) -> list[SkippedRange]:
    """Every label number below its counter that no logged label carries, with why.

    ``year`` None means every year. With ``org`` (an issuer slug) only the numbers
    reserved for that issuer are listed; without it also numbers no recorded
    reservation covers (``unrecorded``). Ranges come in (year, category, number)
    order; a number carried by a stored (hence logged) label is never listed.
    Reads the store only (``label_counters``, ``label_reservations``,
    ``issued_credentials``); pure otherwise. Raises LookupError for an unknown
    ``org`` slug.
    """
    with engine.connect() as conn:
        slugs = {int(r.id): str(r.slug) for r in conn.execute(select(issuer_orgs)).all()}
        org_id = None
        if org is not None:
            org_id = next((i for i, slug in slugs.items() if slug == org), None)
            if org_id is None:
                raise LookupError(f"no issuer {org!r}")
        counters = select(label_counters).order_by(
            label_counters.c.year, label_counters.c.category_code
        )
        if year is not None:
            counters = counters.where(label_counters.c.year == year)
        skipped: list[SkippedRange] = []
        for counter in conn.execute(counters).all():
            reservations = select(label_reservations).where(
                label_reservations.c.year == counter.year,
                label_reservations.c.category_code == counter.category_code,
            )
            if org_id is not None:
                reservations = reservations.where(label_reservations.c.org_id == org_id)
            rows = conn.execute(reservations.order_by(label_reservations.c.first_sequence)).all()
            logged = _logged_sequences(conn, int(counter.year), str(counter.category_code))
            below = min(
                int(counter.next_sequence), MAX_LABEL_SEQUENCE + 1
            )  # none beyond is printable
            segments = _segments(rows, below, covered_only=org is not None)
            for first, last, row in segments:
                skipped.extend(
                    _skipped_in(
                        logged, first, last, int(counter.year), counter.category_code, row, slugs
                    )
                )
    return skipped


def _logged_sequences(conn: Connection, year: int, code: str) -> array[int]:
    """The sequence numbers of the stored labels of (year, category), sorted."""
    prefix = label_number(year, code, 1)[:-6]
    numbers: array[int] = array("q")
    result = conn.execution_options(stream_results=True).execute(
        select(issued_credentials.c.label_number).where(
            issued_credentials.c.label_number.like(prefix + "%")
        )
    )
    for (number,) in result:
        tail = str(number)[len(prefix) :]
        if tail.isascii() and tail.isdigit():
            numbers.append(int(tail))
    return array("q", sorted(numbers))


def _segments(
    rows: Sequence[Any], counter: int, *, covered_only: bool
) -> list[tuple[int, int, Any]]:
    """[first, last] ranges below ``counter``: each reservation, and (unless
    ``covered_only``) the stretches no reservation covers (row None)."""
    segments: list[tuple[int, int, Any]] = []
    at = 1
    for row in rows:
        first, last = int(row.first_sequence), min(int(row.last_sequence), counter - 1)
        if first > at and not covered_only:
            segments.append((at, min(first, counter) - 1, None))
        if first <= last:
            segments.append((first, last, row))
        at = max(at, last + 1)
    if at < counter and not covered_only:
        segments.append((at, counter - 1, None))
    return segments


def _skipped_in(
    logged: array[int],
    first: int,
    last: int,
    year: int,
    code: str,
    row: Any,
    slugs: Mapping[int, str],
) -> list[SkippedRange]:
    """The numbers of [first, last] not in ``logged``, as ranges with their reason."""
    missing: list[tuple[int, int]] = []
    at = first
    for index in range(bisect_left(logged, first), bisect_right(logged, last)):
        if logged[index] > at:
            missing.append((at, logged[index] - 1))
        at = max(at, logged[index] + 1)
    if at <= last:
        missing.append((at, last))
    result: list[SkippedRange] = []
    for start, end in missing:
        for piece_start, piece_end, reason in _reasons(start, end, row):
            result.append(
                SkippedRange(
                    year=year,
                    category_code=code,
                    first=piece_start,
                    last=piece_end,
                    reason=reason,
                    issuer=None if row is None or row.org_id is None else slugs.get(row.org_id),
                    holder=None if row is None else row.holder,
                    reserved_at=None if row is None else row.reserved_at,
                    returned_at=None if row is None else row.returned_at,
                )
            )
    return result


def _reasons(start: int, end: int, row: Any) -> list[tuple[int, int, str]]:
    """Split [start, end] of one reservation by why its numbers were skipped."""
    if row is None:
        return [(start, end, "unrecorded")]
    if row.returned_at is None:
        return [(start, end, "not-returned")]
    unused = end + 1 if row.unused_from is None else int(row.unused_from)
    pieces = []
    if start < unused:
        pieces.append((start, min(end, unused - 1), "not-logged"))
    if end >= unused:
        pieces.append((max(start, unused), end, "returned-unused"))
    return pieces
