"""Append-only tables: database triggers that refuse UPDATE and DELETE (and TRUNCATE).

Used by the migrations of every package whose rows must never be rewritten
(the log's entries, tiles and checkpoints; issued credentials and status events).
PostgreSQL's ``INSERT ... ON CONFLICT DO UPDATE`` fires the UPDATE trigger; SQLite's
``REPLACE`` / ``INSERT OR REPLACE`` fires the DELETE trigger on the row it would
replace because every connection turns ``recursive_triggers`` on
(:mod:`ledger.store.engine`), so both are refused too.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

_FUNCTION = """
CREATE OR REPLACE FUNCTION carbonlabel_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def install(tables: Sequence[str]) -> None:
    """Create the refusing triggers on ``tables`` (inside an Alembic migration)."""
    if op.get_context().dialect.name == "postgresql":
        op.execute(_FUNCTION)
        for table in tables:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION carbonlabel_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION carbonlabel_refuse_change()"
            )
        return
    for table in tables:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
            )


def remove(tables: Sequence[str]) -> None:
    """Drop the triggers created by :func:`install` (the shared function stays)."""
    postgres = op.get_context().dialect.name == "postgresql"
    for table in tables:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
