"""Kill the issuing process mid-batch: the log and the credential store still agree.

A credential row is written by an entry hook inside the log's integrating
transaction, so after SIGKILL at any point every logged issuance has its stored
credential (same digest, same index) and every stored credential its entry.

``issue batch`` signs a chunk of labels and then commits it in a few quick
sequencer batches, so the file holds the example rows three times (two chunks):
the kill lands after the first commit and before the last.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from app.cli import main
from app.runtime import Runtime
from app.settings import Settings
from issuer.store.tables import issued_credentials
from ledger.audit import audit
from schemas.logentry import entry_bytes

ROOT = Path(__file__).resolve().parent.parent


def test_sigkill_mid_batch_leaves_log_and_store_consistent(
    deployment: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "issuer",
                "add",
                "--slug",
                "gd-clc",
                "--name",
                "n",
                "--uscc",
                "12440000MB2C401574",
                "--categories",
                "room-air-conditioner,lithium-battery",
            ]
        )
        == 0
    )
    header, _, body = (ROOT / "examples/labels.csv").read_text("utf-8").partition("\n")
    lines = body.count("\n")
    big = tmp_path / "labels-x3.csv"
    big.write_text(header + "\n" + body * 3, "utf-8")
    runtime = Runtime(deployment)
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from app.cli import run; run()",
            "issue",
            "batch",
            str(big),
            "--issuer",
            "gd-clc",
            "--out",
            str(tmp_path / "out"),
        ],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while runtime.store.tree_size() < 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    size = runtime.store.tree_size()
    assert 20 <= size < 3 * lines, "the batch should have been killed mid-way"

    with runtime.engine.connect() as conn:
        rows = conn.execute(select(issued_credentials)).all()
    by_index = {row.log_index: row for row in rows}
    issued_entries = 0
    for index in range(size):
        entry = json.loads(runtime.store.entry(index))
        if entry["kind"] != "issue":
            continue
        issued_entries += 1
        row = by_index.get(index)
        assert row is not None, f"log entry {index} has no stored credential"
        assert entry_bytes(json.loads(row.entry)) == runtime.store.entry(index)
        assert row.credential_id == entry["credential"]
    assert issued_entries == len(rows), "a stored credential has no log entry"
    audit(runtime.store, runtime.log_verifier)
    runtime.close()

    # The service picks up where it stopped: the same batch can run again.
    capsys.readouterr()
    assert (
        main(
            [
                "issue",
                "batch",
                str(ROOT / "examples/labels.csv"),
                "--issuer",
                "gd-clc",
                "--out",
                str(tmp_path / "again"),
            ]
        )
        == 0
    )
