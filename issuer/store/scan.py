"""Streaming reads of the issuer's append-only tables, for the store audit.

Rows are read by ranges of log index (or of version), a bounded number at a
time, on one driver cursor in autocommit mode, and returned as plain values
exactly as the database holds them: no SQLAlchemy type processing, so a
garbage value (a BLOB in a TEXT column, a malformed date) reaches the audit,
which names its row, instead of raising inside a result processor.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine

CREDENTIAL_COLUMNS = (
    "log_index",
    "credential_id",
    "kind",
    "label_number",
    "document",
    "digest",
    "entry",
    "gtin",
    "batch",
    "serial",
    "status_list_index",
    "revocation_list",
    "suspension_list",
)
EVENT_COLUMNS = ("log_index", "list_id", "status_index", "value", "credential_id", "reason")
RULE_COLUMNS = ("log_index", "rule_id", "version", "document", "digest")

TABLE_COLUMNS = {
    "issued_credentials": CREDENTIAL_COLUMNS,
    "status_events": EVENT_COLUMNS,
    "grading_rules": RULE_COLUMNS,
}
"""The issuer's tables whose rows each belong to one log entry (by ``log_index``)."""

Row = dict[str, Any]


class StoreScan:
    """Bounded reads of the issuer's append-only rows on one driver connection."""

    def __init__(self, cursor: Any, paramstyle: str) -> None:
        self._cursor = cursor
        self._marker = "?" if paramstyle == "qmark" else "%s"

    @classmethod
    @contextmanager
    def open(cls, engine: Engine) -> Iterator[StoreScan]:
        """A scan on a connection of ``engine`` outside any transaction (autocommit)."""
        raw = engine.raw_connection()
        driver: Any = raw.driver_connection
        postgres = engine.dialect.name == "postgresql"
        try:
            if postgres:
                driver.autocommit = True
            cursor = raw.cursor()
            try:
                yield cls(cursor, engine.dialect.paramstyle)
            finally:
                cursor.close()
                if postgres:
                    driver.autocommit = False
        finally:
            raw.close()

    def _rows(self, sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
        self._cursor.execute(sql.replace("?", self._marker), tuple(parameters))
        return list(self._cursor.fetchall())

    def by_log_index(self, table: str, start: int, stop: int) -> list[Row]:
        """The rows of ``table`` with ``start <= log_index < stop``, by log index."""
        columns = TABLE_COLUMNS[table]
        rows = self._rows(
            f"SELECT {', '.join(columns)} FROM {table} "
            "WHERE log_index >= ? AND log_index < ? ORDER BY log_index",
            (start, stop),
        )
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def first_outside(self, table: str, size: int) -> Row | None:
        """The first row of ``table`` whose log index is not one of ``0 .. size - 1``
        (negative, too large, NULL, or not a number at all), if any."""
        columns = TABLE_COLUMNS[table]
        rows = self._rows(
            f"SELECT {', '.join(columns)} FROM {table} "
            "WHERE log_index IS NULL OR log_index < 0 OR log_index >= ? "
            "ORDER BY log_index LIMIT 1",
            (size,),
        )
        return dict(zip(columns, rows[0], strict=True)) if rows else None

    def version_lists(self) -> list[Any]:
        """Every list id that has a published status-list version."""
        return [
            row[0]
            for row in self._rows(
                "SELECT DISTINCT list_id FROM status_list_versions ORDER BY list_id", ()
            )
        ]

    def versions(self, list_id: str, after: int, limit: int) -> list[tuple[Any, Any]]:
        """(version, document) of ``list_id`` with version above ``after``, by version."""
        rows = self._rows(
            "SELECT version, document FROM status_list_versions "
            "WHERE list_id = ? AND version > ? ORDER BY version LIMIT ?",
            (list_id, after, limit),
        )
        return [(version, document) for version, document in rows]

    def list_events(
        self, list_id: str, after: int, below: int, limit: int
    ) -> list[tuple[Any, Any, Any]]:
        """(log_index, status_index, value) of the status events of ``list_id`` with
        ``after < log_index < below``, by log index."""
        rows = self._rows(
            "SELECT log_index, status_index, value FROM status_events "
            "WHERE list_id = ? AND log_index > ? AND log_index < ? ORDER BY log_index LIMIT ?",
            (list_id, after, below, limit),
        )
        return [(index, position, value) for index, position, value in rows]
