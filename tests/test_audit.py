"""The audit recomputes everything and names the first tampered row (triggers dropped)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger.audit import audit
from ledger.errors import AuditError
from ledger.note import NoteSigner
from ledger.store.log import LogStore
from tests.conftest import NOW, signing


def fill(store: LogStore, signer: NoteSigner, total: int = 700, batch: int = 90) -> None:
    for start in range(0, total, batch):
        chunk = [f"entry {i}".encode() for i in range(start, min(total, start + batch))]
        store.integrate(chunk, signing(signer), NOW)


def drop_triggers(store: LogStore) -> None:
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "postgresql":
            for table in ("log_entries", "log_tiles", "log_checkpoints"):
                conn.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))
        else:
            for table in ("log_entries", "log_tiles", "log_checkpoints"):
                for action in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER {table}_no_{action}"))


def test_clean_log_passes(store: LogStore, signer: NoteSigner) -> None:
    fill(store, signer)
    seen: list[int] = []
    report = audit(store, signer.verifier(), seen.append)
    assert report.tree_size == 700
    assert report.checkpoints == 1 + len(range(0, 700, 90))
    assert report.root == store.latest_checkpoint().root
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
    "bundle": (
        "UPDATE log_tiles SET data = :forged WHERE level = -1 AND idx = 1",
        r"entry bundle tile/entries/001 differs",
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
    "deleted-checkpoint-tile": (
        "DELETE FROM log_tiles WHERE level = 0 AND idx = 2",
        r"tile tile/0/002\.p/188 is missing",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_audit_catches_tampering(store: LogStore, signer: NoteSigner, case: str) -> None:
    fill(store, signer)
    audit(store, signer.verifier())
    drop_triggers(store)
    statement, message = TAMPERING[case]
    with store.engine.begin() as conn:
        conn.execute(
            text(statement),
            {"forged": b"forged", "forged_tile": b"\x00" * 32 * 256, "forged_hash": b"\x01" * 32},
        )
    with pytest.raises(AuditError, match=message):
        audit(store, signer.verifier())
