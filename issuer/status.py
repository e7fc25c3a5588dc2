"""Status lists as a function of the log.

The status of a credential is what its logged status events say: a
``status_events`` row is written by the row hook of its log entry, so it exists
exactly when the entry is committed, and events commit in log order. Every
signed status-list version is derived from those events: the version with
``through_index = t`` holds, for each index of the list, the value of the last
event of that list with log index ``<= t`` (Bitstring Status List §3.1).

Publication is serialised per list on both databases: the publisher locks the
list's ``status_lists`` row (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite
the transaction holds the database write lock from ``BEGIN IMMEDIATE``), then
reads the newest version and the events committed after it. Since events commit
in log order, what it reads is a prefix of the list's history, and under the
lock no other version can be written in between: versions never collide and the
newest version holds every change committed before it was signed. A publisher
whose events a newer version already holds signs nothing, so concurrent changes
coalesce into one signature.

Freshness: each publication also bumps ``status_lists.published_version`` in the
same transaction. :meth:`StatusLists.generation` sums those counters in one
cheap query over the (few) list rows; a process that caches status lists reads
it at most every few hundred milliseconds and drops its copies when it moved
(see app/verifying.py), so a change published by any process sharing the
database is seen everywhere within a second.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from credentials.errors import StatusListError
from credentials.statuslist import Bitstring, status_list_credential
from issuer.errors import NotFound
from issuer.store.tables import status_events, status_list_versions, status_lists
from ledger.store.engine import WriteTransaction

STATUS_LIST_TTL_MS = 300_000
"""The ``ttl`` published in each list (Bitstring Status List §2.1), for outside relying parties."""

Sign = Callable[[int, dict[str, Any], datetime], dict[str, Any]]
"""Signs an unsigned status-list credential as the issuer organisation ``org_id`` at ``now``."""


@dataclass(frozen=True)
class StatusEvent:
    """One logged status change (a ``status_events`` row, written with its log entry)."""

    log_index: int
    list_id: str
    value: bool
    at: datetime
    reason: str | None


@dataclass(frozen=True)
class Newest:
    """The newest signed version of a list and the last log index it holds (-1: none)."""

    version: int
    through_index: int
    document: str


class StatusLists:
    """Publishes and reads the signed versions of this deployment's status lists."""

    def __init__(
        self,
        engine: Engine,
        *,
        list_url: Callable[[str], str],
        issuer_did: Callable[[int], str],
        sign: Sign,
    ) -> None:
        self.engine = engine
        self.list_url = list_url
        self.issuer_did = issuer_did
        self.sign = sign
        self.listeners: list[Callable[[str], None]] = []
        """Called with a list's URL after this process published a new version of it."""

    # -- writing ------------------------------------------------------------------------

    def publish(self, list_id: str, now: datetime) -> dict[str, Any]:
        """Make the newest version of ``list_id`` hold every committed event; return it.

        Signs and stores a new version only when the newest one lacks an event
        (or none exists yet). Raises NotFound for an unknown list.
        """
        published = False
        with WriteTransaction(self.engine) as conn:
            meta = conn.execute(
                select(status_lists).where(status_lists.c.list_id == list_id).with_for_update()
            ).first()
            if meta is None:
                raise NotFound(f"no status list {list_id!r}")
            newest = _newest(conn, list_id)
            last = _last_event(conn, list_id)
            if newest is not None and newest.through_index >= last:
                document = newest.document
            else:
                bits, start = _base(newest, meta.capacity)
                for index, value in conn.execute(
                    select(status_events.c.status_index, status_events.c.value)
                    .where(status_events.c.list_id == list_id, status_events.c.log_index > start)
                    .order_by(status_events.c.log_index)
                ):
                    bits.set(index, bool(value))
                unsigned = status_list_credential(
                    self.list_url(list_id),
                    self.issuer_did(meta.org_id),
                    meta.purpose,
                    bits,
                    valid_from=now,
                    ttl_ms=STATUS_LIST_TTL_MS,
                )
                version = 0 if newest is None else newest.version + 1
                document = json.dumps(self.sign(meta.org_id, unsigned, now), ensure_ascii=False)
                conn.execute(
                    insert(status_list_versions).values(
                        list_id=list_id,
                        version=version,
                        document=document,
                        through_index=last,
                        created_at=now,
                    )
                )
                conn.execute(
                    update(status_lists)
                    .where(status_lists.c.list_id == list_id)
                    .values(published_version=version)
                )
                published = True
        if published:
            url = self.list_url(list_id)
            for listener in self.listeners:
                listener(url)
        result: dict[str, Any] = json.loads(document)
        return result

    def publish_all(self, list_ids: Iterable[str], now: datetime) -> None:
        """:meth:`publish` each list once, in a fixed order (one lock order for every writer)."""
        for list_id in sorted(set(list_ids)):
            self.publish(list_id, now)

    # -- reading ------------------------------------------------------------------------

    def newest(self, list_id: str, now: datetime) -> dict[str, Any]:
        """The newest signed version, re-published first if it lacks a committed event.

        A change whose publication was cut short (a crash between its log entry
        and its list) is thus never hidden from readers. Raises NotFound.
        """
        with self.engine.connect() as conn:
            newest = _newest(conn, list_id)
            last = _last_event(conn, list_id)
        if newest is None or newest.through_index < last:
            return self.publish(list_id, now)
        result: dict[str, Any] = json.loads(newest.document)
        return result

    def generation(self) -> int:
        """A number that grows whenever any process publishes a version of any list."""
        with self.engine.connect() as conn:
            total = conn.execute(
                select(func.coalesce(func.sum(status_lists.c.published_version + 1), 0))
            ).scalar_one()
        return int(total)

    def events(self, credential_id: str) -> list[StatusEvent]:
        """The logged status events of a credential, in log order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    status_events.c.log_index,
                    status_events.c.list_id,
                    status_events.c.value,
                    status_events.c.created_at,
                    status_events.c.reason,
                )
                .where(status_events.c.credential_id == credential_id)
                .order_by(status_events.c.log_index)
            ).all()
        return [
            StatusEvent(int(r.log_index), r.list_id, bool(r.value), r.created_at, r.reason)
            for r in rows
        ]


def _newest(conn: Connection, list_id: str) -> Newest | None:
    row = conn.execute(
        select(
            status_list_versions.c.version,
            status_list_versions.c.through_index,
            status_list_versions.c.document,
        )
        .where(status_list_versions.c.list_id == list_id)
        .order_by(status_list_versions.c.version.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    # A version written before through_index existed holds an unknown prefix: -2 makes
    # it stale (every event is re-read) without being taken for "no events" (-1).
    through = -2 if row.through_index is None else int(row.through_index)
    return Newest(int(row.version), through, row.document)


def _last_event(conn: Connection, list_id: str) -> int:
    last = conn.execute(
        select(func.max(status_events.c.log_index)).where(status_events.c.list_id == list_id)
    ).scalar_one_or_none()
    return -1 if last is None else int(last)


def _base(newest: Newest | None, capacity: int) -> tuple[Bitstring, int]:
    """The bits to fold later events into, and the last log index they hold."""
    if newest is None or newest.through_index < -1:
        return Bitstring(capacity), -1
    try:
        subject = json.loads(newest.document)["credentialSubject"]
        bits = Bitstring.decode(subject["encodedList"], minimum_length=capacity)
    except (ValueError, KeyError, TypeError, StatusListError):
        return Bitstring(capacity), -1  # an unreadable version: fold the whole history
    if len(bits) != capacity:
        return Bitstring(capacity), -1
    return bits, newest.through_index
