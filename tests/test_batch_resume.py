"""Kill `carbonlabel issue batch` mid-run, run it again: each row issued once, with its files.

The killed run is a real process (its whole process group gets SIGKILL, the
``--workers 2`` children too), killed once some labels are committed and before
the last. The second run of the same command resumes: rows committed by the
first come back as they were (and their missing output files are written),
the rest are issued, each row exactly once. Before, the second run issued
every committed row again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from app.cli import main
from app.runtime import Runtime
from app.settings import Settings
from issuer import build
from issuer.allocate import skipped_numbers
from issuer.store.tables import issued_credentials

ROOT = Path(__file__).resolve().parent.parent
USCC = "12440000MB2C401574"
COPIES = 3  # the example rows three times: identical rows are distinct labels


def add_issuer() -> None:
    argv = ["issuer", "add", "--slug", "gd-clc", "--name", "n", "--uscc", USCC]
    assert main([*argv, "--categories", "room-air-conditioner,lithium-battery"]) == 0


def batch_file(tmp_path: Path) -> tuple[Path, int]:
    header, _, body = (ROOT / "examples/labels.csv").read_text("utf-8").partition("\n")
    path = tmp_path / "labels-x3.csv"
    path.write_text(header + "\n" + body * COPIES, "utf-8")
    return path, body.count("\n") * COPIES


def kill_mid_run(argv: list[str], runtime: Runtime, rows: int) -> int:
    """Start ``carbonlabel *argv``, SIGKILL its process group after >= 20 labels are
    committed; the number of log entries then."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import run; run()", *argv],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while runtime.store.tree_size() < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)
    size = runtime.store.tree_size()
    assert 20 <= size < rows, f"the run should have been killed mid-way ({size} of {rows})"
    return size


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_killed_batch_resumes_each_row_once_with_its_files(
    deployment: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: str
) -> None:
    add_issuer()
    path, rows = batch_file(tmp_path)
    out = tmp_path / "out"
    argv = ["issue", "batch", str(path), "--issuer", "gd-clc", "--out", str(out)]
    argv += ["--workers", workers]
    runtime = Runtime(deployment)
    committed = kill_mid_run(argv, runtime, rows)
    written = len(list(out.glob("GDCL-*[0-9].png")))

    capsys.readouterr()
    assert main(argv) == 0
    report = capsys.readouterr().out
    assert f"issued {rows} labels" in report
    assert f"({rows - committed} new, {committed} resumed" in report, report

    entries = [json.loads(runtime.store.entry(i)) for i in range(runtime.store.tree_size())]
    assert sum(1 for e in entries if e["kind"] == "issue") == rows, "a row was issued twice"
    with runtime.engine.connect() as conn:
        stored = conn.execute(
            select(issued_credentials.c.idempotency_key, issued_credentials.c.label_number)
        ).all()
    keys = Counter(row.idempotency_key for row in stored)
    assert len(keys) == rows and set(keys.values()) == {1}
    assert all(key.startswith("batch:") for key in keys)
    numbers = {row.label_number for row in stored}
    assert len(numbers) == rows
    for suffix in (".json", ".receipt.json", ".png"):
        names = {p.name.removesuffix(suffix) for p in out.glob(f"GDCL-*[0-9]{suffix}")}
        assert names == numbers, f"missing {suffix} files"
    assert not list(out.glob(".*")), "a temporary file was left behind"
    assert written < rows  # the kill left files to write: the re-run wrote them
    for bundle in out.glob("GDCL-*[0-9].json"):
        assert json.loads(bundle.read_text())["logEntry"]["labelNumber"] == bundle.stem

    # A third run issues nothing and rewrites nothing.
    stamps = {p: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main(argv) == 0
    assert f"(0 new, {rows} resumed" in capsys.readouterr().out
    assert runtime.store.tree_size() == len(entries)
    assert {p: p.stat().st_mtime_ns for p in out.iterdir()} == stamps

    # Numbers the killed run reserved and never logged are listed as skipped; no issued one.
    skipped = skipped_numbers(runtime.engine, None, None)
    listed = {
        build.label_number(gap.year, gap.category_code, n)
        for gap in skipped
        for n in range(gap.first, gap.last + 1)
    }
    assert not listed & numbers
    by_code = Counter(number.rsplit("-", 1)[0] for number in numbers | listed)
    for prefix, count in by_code.items():  # every number below the counter, one or the other
        highest = max(int(n.rsplit("-", 1)[1]) for n in numbers | listed if n.startswith(prefix))
        assert highest == count
    runtime.close()


def test_an_edited_row_is_issued_once_and_the_others_resume(
    deployment: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The key is the row's own content: fixing one bad row (which shifts no other key,
    even when its line count changes) issues that row only."""
    add_issuer()
    header, _, body = (ROOT / "examples/labels.csv").read_text("utf-8").partition("\n")
    lines = body.splitlines()[:6]
    bad = lines[2].replace(",room-air-conditioner,", ",no-such-category,")
    path = tmp_path / "labels.csv"
    path.write_text("\n".join([header, *lines[:2], bad, *lines[3:]]) + "\n", "utf-8")
    out = tmp_path / "out"
    argv = ["issue", "batch", str(path), "--issuer", "gd-clc", "--out", str(out)]
    capsys.readouterr()
    assert main(argv) == 0
    assert "issued 5 labels into" in capsys.readouterr().out
    path.write_text("\n".join([header, "", *lines]) + "\n", "utf-8")  # fixed, and a blank line
    assert main(argv) == 0
    assert "(1 new, 5 resumed" in capsys.readouterr().out
    runtime = Runtime(deployment)
    assert runtime.store.tree_size() == 6
    runtime.close()
    assert len(list(out.glob("GDCL-*[0-9].json"))) == 6
    # A new run name issues identical rows again, on purpose.
    assert main([*argv, "--run", "second-print"]) == 0
    assert "(6 new, 0 resumed" in capsys.readouterr().out
