"""`carbonlabel audit`: the store against the log, rollback, REPLACE refused (issue 10, defect 7).

Each tampering is what a hostile DBA can do (triggers dropped or disabled first) and
each must end the audit with exit 1 naming the first disagreement; a clean store exits 0.
Stores are built by issuing real labels through the CLI (``carbonlabel demo`` on a few
rows, then ``label revoke`` / ``suspend`` / ``reinstate``).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from app import cli_issuer
from app.cli import main
from app.runtime import Runtime
from app.settings import Settings
from credentials.statuslist import Bitstring, status_list_credential
from issuer.store.tables import APPEND_ONLY as ISSUER_APPEND_ONLY
from ledger.store.engine import make_engine
from ledger.store.tables import APPEND_ONLY_TABLES
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parent.parent
LABELS = 4
TRIGGERED = (*APPEND_ONLY_TABLES, *ISSUER_APPEND_ONLY)


@dataclass
class Built:
    settings: Settings
    labels: list[dict[str, str]]

    def engine(self) -> Engine:
        return make_engine(self.settings.resolved_database_url)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def audit_fails(capsys: pytest.CaptureFixture[str], pattern: str, *extra: str) -> str:
    code, out, err = run(capsys, "audit", *extra)
    message = " ".join(err.split())  # rich wraps long lines
    assert code == 1, out + err
    assert "Traceback" not in err
    assert re.search(pattern, message), message
    return message


@pytest.fixture
def built(
    deployment: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Built:
    """Labels, their grades and a grading rule issued by ``carbonlabel demo``; the first
    label revoked (and its grade with it), the second suspended and reinstated."""
    examples = tmp_path / "examples"
    examples.mkdir()
    shutil.copy(ROOT / "examples/grading-rule.json", examples)
    lines = (ROOT / "examples/labels.csv").read_text("utf-8").splitlines(keepends=True)
    (examples / "labels.csv").write_text("".join(lines[: 1 + LABELS]), "utf-8")
    monkeypatch.setattr(cli_issuer, "EXAMPLES", examples)
    code, out, err = run(capsys, "demo", "--json")
    assert code == 0, err
    labels = json.loads(out)["labels"]
    assert run(capsys, "label", "revoke", labels[0]["number"], "--reason", "test")[0] == 0
    assert run(capsys, "label", "suspend", labels[1]["number"])[0] == 0
    assert run(capsys, "label", "reinstate", labels[1]["number"])[0] == 0
    return Built(deployment, labels)


@contextmanager
def hostile(built: Built) -> Iterator[Connection]:
    """A transaction that bypasses the append-only triggers, as a hostile DBA's can: on
    SQLite the triggers are dropped, on PostgreSQL triggers are off for the session."""
    engine = built.engine()
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            else:
                names = conn.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                ).scalars()
                for name in list(names):
                    conn.execute(text(f"DROP TRIGGER {name}"))
            yield conn
    finally:
        engine.dispose()


def scalar(built: Built, sql: str, **params: Any) -> Any:
    engine = built.engine()
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar_one()
    finally:
        engine.dispose()


def log_index(built: Built, credential_id: str) -> int:
    return int(
        scalar(
            built,
            "SELECT log_index FROM issued_credentials WHERE credential_id = :c",
            c=credential_id,
        )
    )


def test_clean_store_passes(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "audit")
    assert code == 0, err
    assert "not rolled back: the store extends the kept checkpoint" in out
    events = scalar(built, "SELECT count(*) FROM status_events")
    assert events >= 4  # the revocation of a label and its grade, a suspension, a reinstatement
    graded = LABELS  # every demo row is in the rule's product category
    assert (
        f"OK: store: {LABELS + graded} credentials, {events} status events, 1 grading rules" in out
    ), out
    assert run(capsys, "log", "audit")[0] == 0  # the log-only audit still works


def test_deleted_revocation_and_versions_since(
    built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    """The revoked label would read genuine again; the audit names the logged revocation."""
    revoked = built.labels[0]["credential_id"]
    with hostile(built) as conn:
        first = conn.execute(
            text(
                "SELECT log_index, credential_id FROM status_events "
                "WHERE list_id LIKE '%revocation%' ORDER BY log_index"
            )
        ).first()
        assert first is not None
        conn.execute(text("DELETE FROM status_events WHERE list_id LIKE '%revocation%'"))
        conn.execute(
            text(
                "DELETE FROM status_list_versions WHERE list_id LIKE '%revocation%' AND version > 0"
            )
        )
    runtime = Runtime(built.settings)
    try:
        assert runtime.issuer.status_of(revoked)["revocation"] is False  # "genuine" again
    finally:
        runtime.close()
    audit_fails(
        capsys,
        rf"audit failed: log entry {first.log_index} "
        rf"\(status of '{re.escape(first.credential_id)}'\) has no status_events row",
    )


def test_newest_status_list_lacks_a_logged_revocation(
    built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    with hostile(built) as conn:
        list_id, _ = conn.execute(
            text(
                "SELECT list_id, log_index FROM status_events WHERE list_id LIKE '%revocation%' "
                "ORDER BY log_index DESC"
            )
        ).first()  # type: ignore[misc]
        conn.execute(
            text("DELETE FROM status_list_versions WHERE list_id = :l AND version > 0"),
            {"l": list_id},
        )
    audit_fails(
        capsys,
        rf"status_list_versions row list_id='{list_id}' version=0 \(the newest\): bit \d+ is 0, "
        rf"but the status change logged at log index \d+ made it 1: the published "
        "list lacks a logged status change",
    )


def test_status_list_version_claims_a_bit_no_event_set(
    built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    with hostile(built) as conn:
        list_id, version = conn.execute(
            text(
                "SELECT list_id, max(version) FROM status_list_versions "
                "WHERE list_id LIKE '%suspension%' GROUP BY list_id"
            )
        ).one()
        bits = Bitstring()
        bits.set(1000)
        url = f"{built.settings.public_url}/status/{list_id}"
        document = status_list_credential(url, "did:example:x", "suspension", bits, NOW)
        conn.execute(
            text(
                "INSERT INTO status_list_versions (list_id, version, document, created_at) "
                "VALUES (:l, :v, :d, :at)"
            ),
            {"l": list_id, "v": version + 1, "d": json.dumps(document), "at": NOW},
        )
    audit_fails(
        capsys,
        rf"status_list_versions row list_id='{list_id}' version={version + 1}: bit 1000 is "
        "set, but no logged status event ever set it",
    )


def test_deleted_credential_row(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    credential = built.labels[2]["credential_id"]
    index = log_index(built, credential)
    with hostile(built) as conn:
        conn.execute(
            text("DELETE FROM issued_credentials WHERE credential_id = :c"), {"c": credential}
        )
    audit_fails(
        capsys,
        rf"log entry {index} \(issue of '{re.escape(credential)}'\) has no issued_credentials row",
    )


def test_altered_credential_document(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    credential = built.labels[1]["credential_id"]
    index = log_index(built, credential)
    with hostile(built) as conn:
        stored = conn.execute(
            text("SELECT document FROM issued_credentials WHERE credential_id = :c"),
            {"c": credential},
        ).scalar_one()
        document = json.loads(stored)
        footprint = document["credentialSubject"]["carbonFootprint"]
        footprint["pcfExcludingBiogenicUptake"] = 0.001  # a much greener product
        conn.execute(
            text("UPDATE issued_credentials SET document = :d WHERE credential_id = :c"),
            {"d": json.dumps(document, ensure_ascii=False), "c": credential},
        )
    audit_fails(
        capsys,
        rf"issued_credentials row credential_id='{re.escape(credential)}' \(log index {index}\): "
        rf"the stored document hashes to sha256:[0-9a-f]{{64}}, but log entry {index} says "
        r"sha256:[0-9a-f]{64}: the document was altered",
    )


def test_altered_grading_rule(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    with hostile(built) as conn:
        rule_id, stored, index = conn.execute(
            text("SELECT rule_id, document, log_index FROM grading_rules")
        ).one()
        rule = json.loads(stored)
        rule["title"] = "a friendlier rule"
        conn.execute(
            text("UPDATE grading_rules SET document = :d WHERE rule_id = :r"),
            {"d": json.dumps(rule), "r": rule_id},
        )
    audit_fails(
        capsys,
        rf"grading_rules row rule_id='{re.escape(rule_id)}' .*\(log index {index}\): the stored "
        rf"rule hashes to sha256:[0-9a-f]{{64}}, but log entry {index} says .*the rule was altered",
    )


def test_status_event_without_its_entry(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    credential = built.labels[3]["credential_id"]
    index = log_index(built, credential)
    row = {"c": credential, "l": "x-revocation-0", "at": NOW, "v": True}
    statement = text(
        "INSERT INTO status_events (log_index, list_id, status_index, value, credential_id, "
        "created_at) VALUES (:i, :l, 0, :v, :c, :at)"
    )
    with hostile(built) as conn:
        conn.execute(statement, {**row, "i": index})
    audit_fails(
        capsys,
        rf"status_events row log_index={index}: log entry {index} is of kind 'issue'; no "
        "status_events row belongs to it",
    )
    with hostile(built) as conn:
        conn.execute(text("DELETE FROM status_events WHERE log_index = :i"), {"i": index})
        conn.execute(statement, {**row, "i": 10**6})
    audit_fails(capsys, r"status_events row log_index=1000000: the log has no entry 1000000")


def test_garbage_values_name_their_row(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    """A BLOB where TEXT belongs (SQLite), a NULL (PostgreSQL, NOT NULL dropped), invalid
    JSON, a boolean that is not one: each names its row, never a traceback."""
    credential = built.labels[0]["credential_id"]
    index = log_index(built, credential)
    where = rf"issued_credentials row credential_id='{re.escape(credential)}' \(log index {index}\)"
    sqlite = built.settings.resolved_database_url.startswith("sqlite")
    with hostile(built) as conn:
        if sqlite:
            conn.execute(
                text("UPDATE issued_credentials SET document = :d WHERE credential_id = :c"),
                {"d": b"\x00\xff\x10", "c": credential},
            )
            expected = rf"{where}: column document holds a BLOB of 3 bytes, not text"
        else:
            conn.execute(text("ALTER TABLE issued_credentials ALTER COLUMN entry DROP NOT NULL"))
            conn.execute(
                text("UPDATE issued_credentials SET entry = NULL WHERE credential_id = :c"),
                {"c": credential},
            )
            expected = rf"{where}: column entry holds NULL, not text"
    audit_fails(capsys, expected)
    with hostile(built) as conn:
        conn.execute(
            text("UPDATE issued_credentials SET entry = :e WHERE credential_id = :c"),
            {"e": "{not json", "c": credential},
        )
    audit_fails(capsys, rf"{where}: column entry is not JSON")
    if sqlite:
        with hostile(built) as conn:
            event = conn.execute(text("SELECT min(log_index) FROM status_events")).scalar_one()
            conn.execute(
                text("DELETE FROM issued_credentials WHERE credential_id = :c"), {"c": credential}
            )
            conn.execute(
                text("UPDATE status_events SET value = 'yes' WHERE log_index = :i"), {"i": event}
            )
        audit_fails(
            capsys,
            rf"(log entry {index} \(issue of .*\) has no issued_credentials row"
            rf"|status_events row log_index={event}: column value holds 'yes', not a boolean)",
        )


PRIMARY_KEYS = {
    "log_entries": ("idx",),
    "log_tiles": ("level", "idx", "width"),
    "log_tile_nodes": ("level", "idx", "width"),
    "log_checkpoints": ("tree_size",),
    "issued_credentials": ("credential_id",),
    "status_events": ("log_index",),
    "status_list_versions": ("list_id", "version"),
    "grading_rules": ("rule_id", "version"),
    "gtin_assignments": ("log_index",),
}


def snapshot(built: Built) -> dict[str, set[tuple[Any, ...]]]:
    """The primary keys of every append-only row."""
    keys: dict[str, set[tuple[Any, ...]]] = {}
    engine = built.engine()
    try:
        with engine.connect() as conn:
            for table in TRIGGERED:
                columns = ", ".join(PRIMARY_KEYS[table])
                rows = conn.execute(text(f"SELECT {columns} FROM {table}"))
                keys[table] = {tuple(row) for row in rows}
    finally:
        engine.dispose()
    return keys


def roll_back(built: Built, to: dict[str, set[tuple[Any, ...]]], tree_size: int) -> None:
    """Remove every append-only row written since ``to`` and set the state back: a
    consistent rollback, as restoring a backup would leave it."""
    with hostile(built) as conn:
        for table in TRIGGERED:
            columns = PRIMARY_KEYS[table]
            rows = conn.execute(text(f"SELECT {', '.join(columns)} FROM {table}")).all()
            condition = " AND ".join(f"{c} = :{c}" for c in columns)
            for row in rows:
                if tuple(row) not in to[table]:
                    conn.execute(
                        text(f"DELETE FROM {table} WHERE {condition}"),
                        dict(zip(columns, row, strict=True)),
                    )
        conn.execute(text("UPDATE log_state SET tree_size = :s"), {"s": tree_size})


def test_consistent_rollback_of_the_last_batch(
    built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(built)
    size = int(scalar(built, "SELECT tree_size FROM log_state"))
    assert run(capsys, "label", "suspend", built.labels[2]["number"])[0] == 0
    roll_back(built, before, size)
    assert run(capsys, "log", "audit")[0] == 0  # the log alone cannot see it
    audit_fails(
        capsys,
        rf"audit failed: rollback: .*checkpoint\.latest \(the newest checkpoint this log "
        rf"signed\) holds a checkpoint signed at tree size {size + 1}, but the store's newest "
        rf"checkpoint is at tree size {size}: 1 entries were removed",
    )
    # Issuing on from the rolled-back store forks the log; the kept file is not overwritten.
    assert run(capsys, "label", "suspend", built.labels[3]["number"])[0] == 0
    audit_fails(
        capsys,
        rf"audit failed: fork: .*checkpoint\.latest .* holds a checkpoint at tree size "
        rf"{size + 1} with another root than the store's",
    )


def test_witness_checkpoint(
    built: Built, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """With the kept file gone too, a checkpoint a witness saw still shows the rollback."""
    before = snapshot(built)
    size = int(scalar(built, "SELECT tree_size FROM log_state"))
    assert run(capsys, "label", "suspend", built.labels[2]["number"])[0] == 0
    seen = tmp_path / "witnessed.checkpoint"
    _, note, _ = run(capsys, "log", "checkpoint")
    seen.write_text(note)
    code, out, err = run(capsys, "audit", "--witness-checkpoint", str(seen))
    assert code == 0, err
    assert f"witnessed.checkpoint (tree size {size + 1})" in out
    roll_back(built, before, size)
    (built.settings.data_dir / "checkpoint.latest").unlink()
    code, out, _ = run(capsys, "audit")
    assert code == 0 and "rollback unchecked" in out
    audit_fails(
        capsys,
        rf"rollback: {re.escape(str(seen))} \(a witness\) holds a checkpoint signed at tree "
        rf"size {size + 1}, but the store's newest checkpoint is at tree size {size}",
        "--witness-checkpoint",
        str(seen),
    )
    forged = tmp_path / "forged.checkpoint"
    forged.write_text(note.replace(f"\n{size + 1}\n", f"\n{size + 5}\n", 1))
    audit_fails(
        capsys,
        "forged.checkpoint: not a checkpoint signed by this log's key",
        "--witness-checkpoint",
        str(forged),
    )


MUTABLE = {
    "log_entries": "data",
    "log_tiles": "data",
    "log_tile_nodes": "data",
    "log_checkpoints": "note",
    "issued_credentials": "document",
    "status_events": "reason",
    "status_list_versions": "document",
    "grading_rules": "document",
    "gtin_assignments": "reason",
}


def test_replace_is_refused(built: Built) -> None:
    """SQLite: INSERT OR REPLACE and REPLACE; PostgreSQL: INSERT ... ON CONFLICT DO UPDATE.
    Into every append-only table, each is refused like UPDATE and DELETE; the row is kept."""
    engine = built.engine()
    try:
        for table in TRIGGERED:
            keys = ", ".join(PRIMARY_KEYS[table])
            column = MUTABLE[table]
            value: Any = b"tampered" if column == "data" else "tampered"
            first = f"SELECT * FROM {table} ORDER BY {keys} LIMIT 1"
            with engine.connect() as conn:
                result = conn.execute(text(first))
                columns = list(result.keys())
                original = result.one()
            values = ", ".join(":value" if c == column else c for c in columns)
            body = f"INTO {table} ({', '.join(columns)}) SELECT {values} FROM ({first}) AS f"
            if engine.dialect.name == "sqlite":
                statements = [f"INSERT OR REPLACE {body}", f"REPLACE {body}"]
            else:
                update = f"ON CONFLICT ({keys}) DO UPDATE SET {column} = EXCLUDED.{column}"
                statements = [f"INSERT {body} {update}"]
            for statement in statements:
                with (
                    pytest.raises(Exception, match=f"{table} is append-only"),
                    engine.begin() as conn,
                ):
                    conn.execute(text(statement), {"value": value})
                with engine.connect() as conn:
                    assert conn.execute(text(first)).one() == original, statement
    finally:
        engine.dispose()


def test_the_kept_checkpoint_follows_the_store(
    built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    _, note, _ = run(capsys, "log", "checkpoint")
    assert (built.settings.data_dir / "checkpoint.latest").read_text() == note


def bits(*positions: int) -> Bitstring:
    value = Bitstring()
    for position in positions:
        value.set(position)
    return value


@pytest.mark.parametrize(
    ("versions", "events", "error"),
    [
        pytest.param(
            [(), (5,), ()], [(1, 5, True), (2, 5, False)], None, id="suspend-and-reinstate"
        ),
        pytest.param(
            [(), (5, 6), (5,)],
            [(1, 5, True), (2, 6, True)],
            r"version=2 \(the newest\): bit 6 is 0, but the status change logged at log "
            "index 2 made it 1",
            id="newest-lacks-a-change",
        ),
        pytest.param(
            [(), (5, 6), (5,), (5, 6)],
            [(1, 5, True), (2, 6, True)],
            r"version=2: its bits are not the list's state at any point of its logged status "
            r"events after the previous version \(first difference: bit 6",
            id="a-version-went-back",
        ),
        pytest.param(
            [(), (7,)], [(1, 5, True)], "version=1: bit 7 is set, but no logged", id="claimed-bit"
        ),
        pytest.param([], [(4, 5, True)], "log index 4 was never published", id="no-version"),
    ],
)
def test_status_list_versions_against_events(
    versions: list[tuple[int, ...]], events: list[tuple[int, int, bool]], error: str | None
) -> None:
    from issuer.audit import check_status_list
    from issuer.errors import StoreAuditError

    numbered = iter([(number, bits(*set_bits)) for number, set_bits in enumerate(versions)])
    if error is None:
        assert check_status_list("l", numbered, iter(events)) == len(versions)
        return
    with pytest.raises(StoreAuditError, match=error):
        check_status_list("l", numbered, iter(events))


def test_a_missing_version_number_is_named() -> None:
    from issuer.audit import check_status_list
    from issuer.errors import StoreAuditError

    with pytest.raises(StoreAuditError, match="version=2: version 1 is missing"):
        check_status_list("l", iter([(0, bits()), (2, bits())]), iter([]))
