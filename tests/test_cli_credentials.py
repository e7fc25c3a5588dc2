"""`carbonlabel keys ...` and `carbonlabel credential ...` through main(argv)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cli import main

ROOT = Path(__file__).resolve().parent.parent
LABEL = ROOT / "schemas/examples/label-credential.room-ac.json"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CARBONLABEL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CARBONLABEL_KEYSTORE_PASSPHRASE", "a test passphrase")
    monkeypatch.delenv("CARBONLABEL_DATABASE_URL", raising=False)
    yield tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def unsigned_label() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(LABEL.read_text())
    document.pop("proof", None)
    document["issuer"].pop("id")
    return document


def test_keys_new_list_rotate_did(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "keys", "new", "--name", "gd-clc")
    assert code == 0
    first = out.strip()
    assert re.fullmatch(r"did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+", first)
    assert run(capsys, "keys", "did", "gd-clc")[1].strip() == first
    code, out, _ = run(capsys, "keys", "rotate", "gd-clc")
    assert code == 0 and "#key-2 is current" in out
    second = run(capsys, "keys", "did", "gd-clc")[1].strip()
    assert second != first
    listing = run(capsys, "keys", "list")[1]
    assert "#key-1\tretired" in listing and first in listing
    assert "#key-2\tcurrent" in listing and second in listing
    code, out, _ = run(capsys, "keys", "did", "gd-clc", "--web", "https://labels.example.org")
    document = json.loads(out)
    assert document["id"] == "did:web:labels.example.org"
    assert len(document["assertionMethod"]) == 2  # the retired key still verifies old labels


def test_keys_new_refuses_a_duplicate_and_a_bad_name(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "keys", "new", "--name", "k")[0] == 0
    code, _, err = run(capsys, "keys", "new", "--name", "k")
    assert code == 1 and "exists" in err
    code, _, err = run(capsys, "keys", "new", "--name", "Bad Name")
    assert code == 1 and "name" in err


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_sign_then_verify_a_label(
    env: Path, capsys: pytest.CaptureFixture[str], suite: str
) -> None:
    did = run(capsys, "keys", "new", "--name", "gd-clc")[1].strip()
    unsigned = env / "label.json"
    unsigned.write_text(json.dumps(unsigned_label(), ensure_ascii=False))
    code, out, err = run(
        capsys, "credential", "sign", str(unsigned), "--key", "gd-clc", "--suite", suite
    )
    assert code == 0, err
    signed = json.loads(out)
    assert signed["issuer"]["id"] == did
    assert signed["proof"]["cryptosuite"] == suite
    path = env / "signed.json"
    path.write_text(out)
    code, out, err = run(
        capsys, "credential", "verify", str(path), "--at", "2027-01-01T00:00:00+00:00"
    )
    assert code == 0, err
    for check in ("structure", "proof", "validity"):
        assert re.search(rf"passed\s+{check}:", err)

    signed["credentialSubject"]["name"] = "tampered"
    path.write_text(json.dumps(signed, ensure_ascii=False))
    code, _, err = run(
        capsys, "credential", "verify", str(path), "--at", "2027-01-01T00:00:00+00:00"
    )
    assert code == 1
    assert re.search(r"failed\s+proof: SIGNATURE_MISMATCH", err)


def test_verify_reports_an_expired_label(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "keys", "new", "--name", "gd-clc")
    unsigned = env / "label.json"
    unsigned.write_text(json.dumps(unsigned_label(), ensure_ascii=False))
    signed = env / "signed.json"
    signed.write_text(run(capsys, "credential", "sign", str(unsigned), "--key", "gd-clc")[1])
    code, _, err = run(
        capsys, "credential", "verify", str(signed), "--at", "2099-01-01T00:00:00+00:00"
    )
    assert code == 1
    assert re.search(r"failed\s+validity: EXPIRED", err)
    assert re.search(r"passed\s+proof:", err)


def test_sign_refuses_another_issuer(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "keys", "new", "--name", "gd-clc")
    document = unsigned_label()
    document["issuer"] = "did:web:someone-else.example"
    path = env / "label.json"
    path.write_text(json.dumps(document))
    code, _, err = run(capsys, "credential", "sign", str(path), "--key", "gd-clc")
    assert code == 1 and "refusing to sign" in err


def test_sign_refuses_an_undefined_term(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "keys", "new", "--name", "gd-clc")
    document = unsigned_label()
    document["credentialSubject"]["notInAnyContext"] = "silently dropped?"
    path = env / "label.json"
    path.write_text(json.dumps(document))
    code, _, err = run(capsys, "credential", "sign", str(path), "--key", "gd-clc")
    assert code == 1 and "notInAnyContext" in err


def test_validate_lists_every_error_with_its_pointer(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document: dict[str, Any] = json.loads(LABEL.read_text())
    assert run(capsys, "credential", "validate", str(LABEL))[0] == 0
    document.pop("validFrom", None)
    document["credentialSubject"]["name"] = 42
    path = env / "bad.json"
    path.write_text(json.dumps(document))
    code, _, err = run(capsys, "credential", "validate", str(path))
    assert code == 1
    assert "/credentialSubject/name" in err
    assert "error(s) against CarbonLabelCredential" in err
