"""SQL storage of the log (SQLite and PostgreSQL through one code path)."""

from ledger.store.engine import make_engine
from ledger.store.log import Appended, LogStore, StoredCheckpoint

__all__ = ["Appended", "LogStore", "StoredCheckpoint", "make_engine"]
