"""Engines for the two supported databases, configured for a durable log.

SQLite runs in WAL mode with ``synchronous=FULL`` (a commit survives power loss)
and a busy timeout, with ``recursive_triggers`` on: then the rows that ``REPLACE``
(or ``INSERT OR REPLACE``) deletes to make room fire the DELETE triggers, so the
append-only tables refuse a REPLACE as they refuse UPDATE and DELETE. A
connection asked for ``sqlite_begin="IMMEDIATE"`` takes the write lock at
``BEGIN``, which is how integration is serialised across processes.
PostgreSQL serialises integration with ``SELECT ... FOR UPDATE`` on ``log_state``.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, pool: bool = True) -> Engine:
    """Create an engine for ``url`` (SQLite file or PostgreSQL)."""
    url = normalise_url(url)
    kwargs: dict[str, Any] = {}
    if not pool:
        kwargs["poolclass"] = NullPool
    else:
        # Issuing threads, the sequencer and readers each hold a connection briefly.
        kwargs.update(pool_size=10, max_overflow=30, pool_timeout=60)
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 60}
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event issues BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Without it SQLite's REPLACE deletes the conflicting row silently, bypassing
        # the append-only DELETE triggers (ledger/store/triggers.py).
        cursor.execute("PRAGMA recursive_triggers=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class WriteTransaction:
    """A transaction holding the database's write lock from its first statement.

    On SQLite it begins with ``BEGIN IMMEDIATE``; on PostgreSQL it is a plain
    transaction in which callers take row locks (``SELECT ... FOR UPDATE``).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None
        self._lock: threading.Lock | None = None

    def __enter__(self) -> Connection:
        if is_sqlite(self._engine):
            # Threads of this process queue here, in order, instead of sleeping in
            # SQLite's busy handler (which leaves the lock idle for up to 100 ms).
            self._lock = _sqlite_write_lock(self._engine)
            self._lock.acquire()
        try:
            conn = self._engine.connect()
            if is_sqlite(self._engine):
                conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            conn.begin()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        self._conn = conn
        return conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self._conn is not None
        try:
            if exc_type is None:
                self._conn.commit()
            else:
                self._conn.rollback()
        finally:
            self._conn.close()
            if self._lock is not None:
                self._lock.release()


_write_locks: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_write_locks_guard = threading.Lock()


def _sqlite_write_lock(engine: Engine) -> threading.Lock:
    with _write_locks_guard:
        lock = _write_locks.get(engine)
        if lock is None:
            lock = _write_locks[engine] = threading.Lock()
        return lock
