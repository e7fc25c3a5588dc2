"""`carbonlabel issuer|token|issue batch|demo` through main(argv)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from app import cli_issuer
from app.cli import main
from app.runtime import Runtime
from app.settings import Settings
from ledger.receipt import Receipt, verify_receipt
from schemas.logentry import entry_bytes

ROOT = Path(__file__).resolve().parent.parent
USCC = "12440000MB2C401574"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def add_issuer(capsys: pytest.CaptureFixture[str]) -> str:
    code, out, err = run(
        capsys,
        "issuer",
        "add",
        "--slug",
        "gd-clc",
        "--name",
        "广东省碳标签专业委员会",
        "--uscc",
        USCC,
        "--categories",
        "room-air-conditioner,lithium-battery",
    )
    assert code == 0, err
    return out.strip()


def test_issuer_add_list_show(deployment: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    did = add_issuer(capsys)
    assert did == "did:web:127.0.0.1%3A8000:issuers:gd-clc"
    assert "gd-clc" in run(capsys, "issuer", "list")[1]
    shown = json.loads(run(capsys, "issuer", "show", "gd-clc")[1])
    assert shown["uscc"] == USCC and shown["didDocument"]["id"] == did
    code, _, err = run(
        capsys, "issuer", "add", "--slug", "x-y", "--name", "n", "--uscc", "12440000MB2C401575"
    )
    assert code == 1 and "uscc" in err
    code, _, err = run(capsys, "issuer", "add", "--slug", "gd-clc", "--name", "n", "--uscc", USCC)
    assert code == 1 and "exists" in err


def test_tokens_are_shown_once_and_can_be_revoked(
    deployment: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    add_issuer(capsys)
    code, out, _ = run(capsys, "token", "new", "--issuer", "gd-clc", "--scope", "issue")
    assert code == 0
    token = out.strip().splitlines()[-1]
    assert token.startswith("cll_")
    runtime = Runtime(deployment)
    assert runtime.directory.authenticate(f"Bearer {token}").scopes == {"issue"}
    shown = json.loads(run(capsys, "issuer", "show", "gd-clc")[1])
    assert token not in json.dumps(shown)  # stored hashed, never shown again
    assert run(capsys, "token", "revoke", token.split("_")[1])[0] == 0
    with pytest.raises(Exception, match="revoked"):
        runtime.directory.authenticate(f"Bearer {token}")
    runtime.close()
    code, _, err = run(capsys, "token", "new", "--issuer", "gd-clc", "--scope", "root")
    assert code == 1 and "scopes" in err


def issued_bundles(deployment: Settings, out: Path) -> list[dict[str, Any]]:
    """The label bundles written to ``out``: the whole log, in it once each, receipts verified."""
    bundles = [json.loads(p.read_text()) for p in out.glob("GDCL-*[0-9].json")]
    runtime = Runtime(deployment)
    assert runtime.store.tree_size() == len(bundles)
    assert sorted(b["receipt"]["index"] for b in bundles) == list(range(len(bundles)))
    for bundle in bundles:
        receipt = Receipt.from_json(bundle["receipt"])
        verify_receipt(receipt, entry_bytes(bundle["logEntry"]), runtime.log_verifier)
    runtime.close()
    return bundles


@pytest.mark.parametrize("chunk", [256, 5], ids=["one-batch", "pipelined-batches"])
def test_issue_batch_skips_bad_rows_by_line(
    deployment: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    chunk: int,
) -> None:
    """With chunks of 5 the 12 good rows go as 3 batches, each signed while the last commits;
    what the run keeps is frozen out of the collector once, after the first batch."""
    monkeypatch.setattr(cli_issuer, "CHUNK", chunk)
    frozen: list[int] = []
    monkeypatch.setattr(cli_issuer, "freeze_loaded_objects", lambda: frozen.append(1))
    add_issuer(capsys)
    with (ROOT / "examples/labels.csv").open(newline="") as handle:
        records = list(csv.reader(handle))
    header, rows = records[0], records[1:13]
    bad_gtin = list(rows[0])
    bad_gtin[header.index("gtin")] = "6923517001016"  # wrong check digit
    bad_boundary = list(rows[1])
    bad_boundary[header.index("boundary")] = "gate-to-gate"
    path = tmp_path / "some.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows([header, *rows[:5], bad_gtin, *rows[5:], bad_boundary])
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys, "issue", "batch", str(path), "--issuer", "gd-clc", "--out", str(out)
    )
    assert code == 0, err
    assert "issued 12 labels" in stdout and "skipped 2 bad rows" in stdout
    assert "some.csv:7: skipped" in err and "gtin" in err
    assert "some.csv:15: skipped" in err and "boundary" in err
    assert len(list(out.glob("GDCL-*[0-9].json"))) == 12
    assert len(list(out.glob("GDCL-*.png"))) == 12
    assert len(list(out.glob("GDCL-*.receipt.json"))) == 12
    assert frozen == [1]
    assert len(issued_bundles(deployment, out)) == 12


def test_issue_batch_with_two_workers_issues_every_row_once(
    deployment: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--workers 2`: two processes, each with its own runtime, issue a share of the file."""
    add_issuer(capsys)
    with (ROOT / "examples/labels.csv").open(newline="") as handle:
        records = list(csv.reader(handle))
    header, rows = records[0], records[1:41]
    bad = list(rows[0])
    bad[header.index("gtin")] = "6923517001016"  # wrong check digit
    path = tmp_path / "some.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *rows, bad])
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys, "issue", "batch", str(path), "--issuer", "gd-clc", "--out", str(out),
        "--workers", "2",
    )  # fmt: skip
    assert code == 0, err
    assert "issued 40 labels" in stdout and "skipped 1 bad rows" in stdout
    assert "some.csv:42: skipped" in err and "gtin" in err
    bundles = issued_bundles(deployment, out)
    assert len(bundles) == 40 and len(list(out.glob("GDCL-*.png"))) == 40
    numbers = {b["verifiableCredential"]["credentialSubject"]["labelNumber"] for b in bundles}
    assert len(numbers) == 40


def test_demo_seeds_once(deployment: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "demo", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert set(first["tokens"]) == {"admin", "issue", "authority"}
    assert first["issuer"].startswith("did:web:")
    assert len(first["labels"]) >= 100
    assert {"number", "uri", "credential_id"} <= set(first["labels"][0])
    runtime = Runtime(deployment)
    size = runtime.store.tree_size()
    code, out, _ = run(capsys, "demo", "--json")
    assert code == 0
    assert json.loads(out) == first
    assert runtime.store.tree_size() == size  # nothing duplicated
    runtime.close()
