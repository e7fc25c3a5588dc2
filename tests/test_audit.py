"""The audit recomputes everything and names the first tampered row (triggers dropped)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger.audit import audit
from ledger.errors import AuditError
from ledger.note import NoteSigner
from ledger.store.log import LogStore
from ledger.store.tables import APPEND_ONLY_TABLES
from tests.conftest import NOW, signing


def fill(store: LogStore, signer: NoteSigner, total: int = 700, batch: int = 90) -> None:
    for start in range(0, total, batch):
        chunk = [f"entry {i}".encode() for i in range(start, min(total, start + batch))]
        store.integrate(chunk, signing(signer), NOW)


def drop_triggers(store: LogStore) -> None:
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "postgresql":
            for table in APPEND_ONLY_TABLES:
                conn.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))
        else:
            for table in APPEND_ONLY_TABLES:
                for action in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER {table}_no_{action}"))


def test_clean_log_passes(store: LogStore, signer: NoteSigner) -> None:
    fill(store, signer)
    seen: list[int] = []
    report = audit(store, signer.verifier(), seen.append)
    assert report.tree_size == 700
    assert report.checkpoints == 1 + len(range(0, 700, 90))
    assert report.root == store.latest_checkpoint().root
    assert report.interiors == report.tiles
    assert seen[-1] == 700


def test_wrong_key_fails(store: LogStore, signer: NoteSigner) -> None:
    fill(store, signer, 10, 10)
    other = NoteSigner.generate(signer.name)
    with pytest.raises(AuditError, match="checkpoint at tree size 0"):
        audit(store, other.verifier())


TAMPERING = {
    "entry": (
        "UPDATE log_entries SET data = :forged WHERE idx = 300",
        r"tile tile/0/001(\.p/\d+)?: hash 44 differs",
    ),
    "leaf-tile-hash": (
        "UPDATE log_tiles SET data = :forged_tile WHERE level = 0 AND idx = 0 AND width = 256",
        r"tile tile/0/000: hash 0 differs",
    ),
    "upper-tile-hash": (
        "UPDATE log_tiles SET data = :forged_tile WHERE level = 1 AND idx = 0",
        r"tile tile/1/000\.p/\d: hash 0 differs",
    ),
    "interior-node": (
        "UPDATE log_tile_nodes SET data = :forged_interior "
        "WHERE level = 0 AND idx = 1 AND width = 256",
        r"interior of tile tile/0/001: node 200 differs",
    ),
    "deleted-interior": (
        "DELETE FROM log_tile_nodes WHERE level = 0 AND idx = 0 AND width = 256",
        r"interior of tile tile/0/000 is missing",
    ),
    "stray-bundle": (
        "INSERT INTO log_tiles (level, idx, width, data) VALUES (-1, 0, 256, :forged)",
        r"the store holds \d+ tile rows but the tree accounts for \d+",
    ),
    "stray-interior": (
        "INSERT INTO log_tile_nodes (level, idx, width, data) VALUES (0, 5, 1, :forged)",
        r"the store holds (\d+) tile interior rows for (?!\1)\d+ tile rows",
    ),
    "checkpoint-note": (
        "UPDATE log_checkpoints SET note = replace(note, 'test', 'tost') WHERE tree_size = 360",
        r"checkpoint at tree size 360",
    ),
    "checkpoint-root": (
        "UPDATE log_checkpoints SET root = :forged_hash WHERE tree_size = 450",
        r"checkpoint at tree size 450: the stored root differs",
    ),
    "deleted-entry": (
        "DELETE FROM log_entries WHERE idx = 699",
        r"entry 699 is missing",
    ),
    "partial-interior-node": (
        "UPDATE log_tile_nodes SET data = :forged_hash WHERE level = 1 AND idx = 0 AND width = 2",
        r"interior of tile tile/1/000\.p/2: node 0 differs",
    ),
    "deleted-checkpoint-tile": (
        "DELETE FROM log_tiles WHERE level = 0 AND idx = 2",
        r"tile tile/0/002\.p/188 is missing",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_audit_catches_tampering(store: LogStore, signer: NoteSigner, case: str) -> None:
    fill(store, signer)
    audit(store, signer.verifier())
    interior = store.stored_interiors(0, 1)[256]
    forged_interior = interior[: 200 * 32] + b"\x02" * 32 + interior[201 * 32 :]
    drop_triggers(store)
    statement, message = TAMPERING[case]
    with store.engine.begin() as conn:
        conn.execute(
            text(statement),
            {
                "forged": b"forged",
                "forged_tile": b"\x00" * 32 * 256,
                "forged_hash": b"\x01" * 32,
                "forged_interior": forged_interior,
            },
        )
    with pytest.raises(AuditError, match=message):
        audit(store, signer.verifier())
