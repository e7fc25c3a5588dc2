"""GTIN owners: every GTIN belongs to one manufacturer, and the log says which.

The rule, replayable from the log alone:

- the first ``issue`` entry of a label for a GTIN binds the GTIN to the
  manufacturer it names: ``products.manufacturer``, the USCC of the label's
  ``credentialSubject.issuedToParty`` (the LabelRequest's ``manufacturer.uscc``);
- a ``gtin-assignment`` entry ``{gtin, manufacturer, previous, issuer, at,
  reason}`` binds it to another manufacturer. Only the label authority writes
  one (token scope ``authority``, or the operator's ``carbonlabel gtin
  reassign``);
- a label whose manufacturer is not the GTIN's owner is never logged: it is
  refused with a 409 problem (:class:`issuer.errors.GtinTaken`) naming the GTIN's
  pointer in the request, whichever organisation issues it.

``gtin_assignments`` (issuer/store/tables.py) holds one row per binding entry,
written by that entry's hook in the log's integrating transaction; the owner is
the manufacturer of the newest row. The refusal is checked twice: before
anything is signed or logged (:meth:`GtinRegistry.check`, the usual answer; an
owner this process has seen lets its own labels skip that query, never refuses
one), and again inside the integrating transaction
(:meth:`GtinRegistry.binding`), which
holds the log's write lock (``BEGIN IMMEDIATE`` on SQLite, the ``log_state`` row
lock on PostgreSQL) in every process. So of two first labels for one GTIN naming
different manufacturers, committed at once by two processes, exactly one binds
the GTIN and the other is refused, its entry rolled back; and a label racing a
reassignment is judged against the owner at its own position in the log.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from issuer.errors import FieldProblem, GtinTaken
from issuer.store.tables import gtin_assignments

_CHUNK = 500
"""GTINs per ``IN`` query (well under SQLite's bound-parameter limit)."""
_SEEN = 65536
"""Owners kept in memory to let labels of known owners skip the pre-check's query."""


@dataclass(frozen=True)
class Binding:
    """One row of a GTIN's history: who bound it to which manufacturer, at which entry."""

    log_index: int
    gtin: str
    kind: str
    manufacturer: str
    previous: str | None
    issuer: str
    credential_id: str | None
    reason: str | None
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "logIndex": self.log_index,
            "kind": self.kind,
            "manufacturer": self.manufacturer,
            "previous": self.previous,
            "issuer": self.issuer,
            "credential": self.credential_id,
            "reason": self.reason,
            "at": self.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


def refused(gtin: str, owner: str, manufacturer: str, pointer: str) -> GtinTaken:
    """The 409 for a label naming ``manufacturer`` for a GTIN that ``owner`` holds."""
    return GtinTaken(
        f"GTIN {gtin} belongs to manufacturer {owner}, not {manufacturer}; "
        "only the label authority can reassign it (POST /gtins/{gtin}/assignment)",
        [FieldProblem(pointer, f"belongs to manufacturer {owner}")],
    )


class GtinRegistry:
    """Reads and enforces GTIN owners in the issuer's store (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._in_flight: Counter[str] = Counter()
        self._transaction: tuple[Connection, dict[str, str | None]] | None = None
        self._seen: OrderedDict[str, str] = OrderedDict()

    # -- reading -----------------------------------------------------------------------

    def owners(self, gtins: Iterable[str], conn: Connection | None = None) -> dict[str, str]:
        """The current owner of each GTIN that has one (GTINs without one are left out)."""
        wanted = sorted(set(gtins))
        found: dict[str, str] = {}
        if not wanted:
            return found
        with self._connection(conn) as connection:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                rows = connection.execute(
                    select(gtin_assignments.c.gtin, gtin_assignments.c.manufacturer)
                    .where(gtin_assignments.c.gtin.in_(chunk))
                    .order_by(gtin_assignments.c.log_index)
                ).all()
                for gtin, manufacturer in rows:  # the newest row wins
                    found[gtin] = manufacturer
        return found

    def owner(self, gtin: str) -> str | None:
        """The manufacturer (USCC) that owns ``gtin`` now, or None."""
        return self.owners([gtin]).get(gtin)

    def history(self, gtin: str) -> list[Binding]:
        """Every binding of ``gtin``, oldest first (empty: the GTIN was never bound)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(gtin_assignments)
                .where(gtin_assignments.c.gtin == gtin)
                .order_by(gtin_assignments.c.log_index)
            ).all()
        return [
            Binding(
                log_index=row.log_index,
                gtin=row.gtin,
                kind=row.kind,
                manufacturer=row.manufacturer,
                previous=row.previous,
                issuer=row.issuer,
                credential_id=row.credential_id,
                reason=row.reason,
                at=row.created_at,
            )
            for row in rows
        ]

    @contextmanager
    def _connection(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
            return
        with self.engine.connect() as connection:
            yield connection

    # -- before logging ----------------------------------------------------------------

    def check(self, gtin: str, manufacturer: str, pointer: str) -> None:
        """Refuse a label for ``gtin`` naming ``manufacturer`` if another one owns the GTIN.

        Raises GtinTaken (409, ``pointer``). Read outside the log's transaction: the
        hook of :meth:`binding` checks again when the entry commits. An owner seen
        before is trusted only to let a label through (the hook decides then), never
        to refuse one: a refusal is always read from the store.
        """
        with self._lock:
            if self._seen.get(gtin) == manufacturer:
                return
        owner = self.owner(gtin)
        if owner is None:
            return
        with self._lock:
            self._remember(gtin, owner)
        if owner != manufacturer:
            raise refused(gtin, owner, manufacturer, pointer)

    def assigned(self, gtin: str, owner: str) -> None:
        """A reassignment of ``gtin`` to ``owner`` committed (in this process)."""
        with self._lock:
            self._remember(gtin, owner)

    def _remember(self, gtin: str, owner: str) -> None:
        """Keep an owner seen (caller holds the lock); at most :data:`_SEEN` of them."""
        self._seen[gtin] = owner
        self._seen.move_to_end(gtin)
        while len(self._seen) > _SEEN:
            self._seen.popitem(last=False)

    def add_in_flight(self, gtins: Iterable[str]) -> None:
        """Labels for ``gtins`` are on their way to the log: the hooks of one transaction
        read the owners of all of them in one query. Undo with :meth:`remove_in_flight`."""
        with self._lock:
            self._in_flight.update(gtins)

    def remove_in_flight(self, gtins: Iterable[str]) -> None:
        with self._lock:
            self._in_flight.subtract(gtins)
            self._in_flight = +self._in_flight

    # -- inside the log's transaction --------------------------------------------------

    def binding(
        self,
        gtin: str,
        manufacturer: str,
        issuer: str,
        credential_id: str,
        now: datetime,
        pointer: str,
    ) -> Callable[[Connection, int], None]:
        """The check-and-bind hook of a label's ``issue`` entry (a RowHook's ``before``).

        In the integrating transaction: the GTIN unbound → bind it to
        ``manufacturer`` at the entry's index; bound to ``manufacturer`` → nothing;
        bound to another → raise GtinTaken, which rolls the entry back.
        """

        def bind(conn: Connection, index: int) -> None:
            owners = self._owners_in(conn, gtin)
            owner = owners.get(gtin)
            if owner is None:
                conn.execute(
                    insert(gtin_assignments).values(
                        log_index=index,
                        gtin=gtin,
                        kind="label",
                        manufacturer=manufacturer,
                        previous=None,
                        issuer=issuer,
                        credential_id=credential_id,
                        reason=None,
                        created_at=now,
                    )
                )
                owners[gtin] = manufacturer
            elif owner != manufacturer:
                with self._lock:  # the pre-check let it through on an owner seen before
                    self._seen.pop(gtin, None)
                raise refused(gtin, owner, manufacturer, pointer)

        return bind

    def assignment(
        self,
        gtin: str,
        manufacturer: str,
        previous: str | None,
        issuer: str,
        reason: str,
        now: datetime,
    ) -> Callable[[Connection, int], None]:
        """The hook of a ``gtin-assignment`` entry: records it, if the owner is still
        ``previous`` (else raises GtinTaken: another change came first)."""

        def assign(conn: Connection, index: int) -> None:
            owners = self._owners_in(conn, gtin)
            if owners.get(gtin) != previous:
                raise GtinTaken(
                    f"the owner of GTIN {gtin} changed meanwhile "
                    f"(now {owners.get(gtin)}); read it again and retry"
                )
            conn.execute(
                insert(gtin_assignments).values(
                    log_index=index,
                    gtin=gtin,
                    kind="assignment",
                    manufacturer=manufacturer,
                    previous=previous,
                    issuer=issuer,
                    credential_id=None,
                    reason=reason,
                    created_at=now,
                )
            )
            owners[gtin] = manufacturer

        return assign

    def _owners_in(self, conn: Connection, gtin: str) -> dict[str, str | None]:
        """The owners as this transaction sees them, read once per transaction.

        Hooks run on the sequencer's thread, one transaction at a time; the cache
        belongs to the connection of the transaction and dies with it (a retry after
        a rollback runs on a new connection, so it reads again).
        """
        held = self._transaction
        if held is None or held[0] is not conn:
            held = self._transaction = (conn, {})
        owners = held[1]
        if gtin not in owners:
            with self._lock:
                wanted = {gtin, *self._in_flight}
            missing = [g for g in wanted if g not in owners]
            found: Mapping[str, str] = self.owners(missing, conn)
            for g in missing:
                owners[g] = found.get(g)
        return owners
