"""`carbonlabel log ...` through main(argv), as an operator runs it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from app.cli import main
from app.runtime import Runtime
from app.settings import Settings
from ledger.note import NoteVerifier
from tests.conftest import ORIGIN


def write_lines(path: Path, count: int, start: int = 0) -> Path:
    path.write_text("".join(f'{{"n":{i}}}\n' for i in range(start, start + count)))
    return path


def test_init_is_idempotent_and_keeps_the_key(
    deployment: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["log", "public-key"]) == 0
    key = capsys.readouterr().out.strip()
    assert re.fullmatch(re.escape(ORIGIN) + r"\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+", key)
    NoteVerifier.from_vkey(key)
    assert main(["log", "init"]) == 0
    out = capsys.readouterr().out
    assert "kept existing log key" in out and "kept existing log store" in out
    assert main(["log", "public-key"]) == 0
    assert capsys.readouterr().out.strip() == key


def test_key_files_are_encrypted(deployment: Settings) -> None:
    seed = Runtime(deployment).keystore.private_key("log").private_bytes_raw()
    for path in deployment.keys_dir.iterdir():
        assert seed not in path.read_bytes()
        assert seed.hex().encode() not in path.read_bytes()


def test_append_prove_verify_audit(
    deployment: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = write_lines(tmp_path / "a.txt", 150)
    assert main(["log", "append", "--lines", str(lines)]) == 0
    assert "indexes 0..149" in capsys.readouterr().out
    assert main(["log", "append", "--lines", str(write_lines(tmp_path / "b.txt", 3, 150))]) == 0
    assert "tree size 153" in capsys.readouterr().out

    assert main(["log", "checkpoint"]) == 0
    note = capsys.readouterr().out
    assert note.splitlines()[:2] == [ORIGIN, "153"]

    assert main(["log", "prove", "151"]) == 0
    receipt = tmp_path / "receipt.json"
    receipt.write_text(capsys.readouterr().out)
    assert main(["log", "verify-receipt", str(receipt)]) == 0
    assert "entry 151 is in" in capsys.readouterr().out

    assert main(["log", "public-key"]) == 0
    key = capsys.readouterr().out.strip()
    assert main(["log", "verify-receipt", str(receipt), "--public-key", key]) == 0
    assert "entry 151 is in" in capsys.readouterr().out

    assert main(["log", "prove", "151", "--text"]) == 0
    text_receipt = tmp_path / "receipt.tlog-proof"
    text_receipt.write_text(capsys.readouterr().out)
    entry = tmp_path / "entry"
    entry.write_bytes(b'{"n":151}')
    assert main(["log", "verify-receipt", str(text_receipt), "--entry", str(entry)]) == 0

    assert main(["log", "audit"]) == 0
    assert "153 entries" in capsys.readouterr().out


def test_verify_receipt_rejects_a_forged_entry(
    deployment: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["log", "append", "--lines", str(write_lines(tmp_path / "a.txt", 20))]) == 0
    capsys.readouterr()
    assert main(["log", "prove", "3"]) == 0
    bundle = json.loads(capsys.readouterr().out)
    bundle["entry"] = "eyJuIjo0fQ=="  # {"n":4}
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(bundle))
    assert main(["log", "verify-receipt", str(forged)]) == 1
    assert "inclusion proof does not verify" in capsys.readouterr().err


def test_verify_receipt_rejects_another_log_key(
    deployment: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["log", "append", "--lines", str(write_lines(tmp_path / "a.txt", 5))]) == 0
    capsys.readouterr()
    assert main(["log", "prove", "0"]) == 0
    receipt = tmp_path / "r.json"
    receipt.write_text(capsys.readouterr().out)
    other = "test.carbonlabel.local/log+00000000+AXSx3VYvZ8yDkM0qMx8rkBq6LZ9kFlyC+Ff/uG0lSTlt"
    code = main(["log", "verify-receipt", str(receipt), "--public-key", other])
    assert code == 1


def test_append_refuses_an_empty_line(
    deployment: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text('{"n":1}\n\n{"n":2}\n')
    assert main(["log", "append", "--lines", str(bad)]) == 1
    assert "bad.txt:2: empty line" in capsys.readouterr().err
    runtime = Runtime(deployment)
    assert runtime.store.tree_size() == 0
    runtime.close()


def test_audit_fails_naming_the_tampered_entry(
    deployment: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["log", "append", "--lines", str(write_lines(tmp_path / "a.txt", 40))]) == 0
    runtime = Runtime(deployment)
    with runtime.engine.begin() as conn:
        if runtime.engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER log_entries_append_only ON log_entries"))
        else:
            conn.execute(text("DROP TRIGGER log_entries_no_update"))
        conn.execute(text("UPDATE log_entries SET data = :d WHERE idx = 9"), {"d": b"forged"})
    runtime.close()
    capsys.readouterr()
    assert main(["log", "audit"]) == 1
    assert "tile tile/0/000.p/40: hash 9 differs" in capsys.readouterr().err


def test_missing_passphrase_is_a_clear_error(
    deployment: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CARBONLABEL_KEYSTORE_PASSPHRASE")
    assert main(["log", "public-key"]) == 1
    assert "CARBONLABEL_KEYSTORE_PASSPHRASE" in capsys.readouterr().err


def test_wrong_passphrase_is_a_clear_error(
    deployment: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CARBONLABEL_KEYSTORE_PASSPHRASE", "not the passphrase")
    assert main(["log", "public-key"]) == 1
    assert "passphrase" in capsys.readouterr().err
