"""Column types shared by every package's tables.

:class:`UTCDateTime` is how every time stamp is stored: SQLite has no time-zone
type, so SQLAlchemy's ``DateTime(timezone=True)`` hands back *naive* datetimes
there (and drops the offset of an aware one it writes), while PostgreSQL's
``timestamptz`` hands back aware ones. Comparing a value read from SQLite with
``now`` (aware) then raises ``TypeError: can't subtract offset-naive and
offset-aware datetimes``. This type converts on the way in (to UTC) and on the
way out (a naive value read back is UTC), so both stores give aware UTC
datetimes and the rest of the code never sees a naive one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["UTCDateTime"]


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always reads and writes aware UTC datetimes.

    A naive value written is taken to be UTC already (as :func:`app.runtime.utcnow`
    and the tests' pinned clocks give); an aware one is converted to UTC, so SQLite
    (which stores the wall time without its offset) keeps the right instant.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):  # pragma: no cover - the driver parses it
            raise TypeError(f"a time stamp column held {type(value).__name__}, not a datetime")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
