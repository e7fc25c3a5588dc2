"""Label numbers: no jump per process, and every skipped number listed (CLI and HTTP).

Numbers are reserved in blocks before signing (issuer/allocate.py). A process
gives its unused tail back when it exits, so CLI runs one after another number
their labels consecutively (before, each process skipped the rest of a block of
64). A range that cannot go back (another process reserved after it) or that a
killed process still holds is listed by ``carbonlabel label gaps`` and
``GET /labels/gaps`` with the reason; no number on a logged label ever is.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.cli import main
from app.main import create_app
from app.runtime import Runtime, utcnow
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
LABEL = ROOT / "examples/label.json"
USCC = "12440000MB2C401574"


def carbonlabel(*argv: str) -> str:
    """Run ``carbonlabel *argv`` as a process of its own; its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", "from app.cli import run; run()", *argv],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def issue_label(tmp_path: Path, name: str) -> str:
    out = carbonlabel(
        "issue", "label", str(LABEL), "--issuer", "gd-clc", "--out", str(tmp_path / name)
    )
    return out.split("\t")[0]


def sequence(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import run; run()", "serve", "--port", str(port)],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return server
        except OSError:  # not listening yet
            time.sleep(0.1)
    server.kill()
    raise AssertionError("the server did not start")


def post_label(port: int, token: str) -> str:
    """POST /labels to the server on ``port``; the label number."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/labels",
        data=LABEL.read_bytes(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 201
        return str(json.loads(response.read())["labelNumber"])


def cli_gaps(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["label", "gaps", "--json", *argv]) == 0
    body: dict[str, Any] = json.loads(capsys.readouterr().out)
    return body


def test_processes_number_consecutively_and_every_gap_is_listed(
    deployment: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = Runtime(deployment)
    now = utcnow()
    runtime.directory.add_org(
        slug="gd-clc", name="n", uscc=USCC, credential_types=["CarbonLabelCredential"],
        product_categories=["room-air-conditioner"], now=now,
    )  # fmt: skip
    token = runtime.directory.new_token("gd-clc", ["issue"], "t", now)

    # Two CLI processes, one after the other: consecutive numbers (before: 1, then 65).
    first, second = issue_label(tmp_path, "a"), issue_label(tmp_path, "b")
    assert sequence(first) == 1 and sequence(second) == 2
    year = first.split("-")[1]
    assert cli_gaps(capsys)["ranges"] == []

    # A server holds a block; a CLI process reserves after it; the server stops.
    port = free_port()
    server = start_server(port)
    try:
        by_server = post_label(port, token)
        by_cli = issue_label(tmp_path, "c")
    finally:
        server.send_signal(signal.SIGTERM)  # a clean stop: it returns what it holds
        server.wait(60)
    assert sequence(by_server) == 3 and sequence(by_cli) == 67  # the server held 3..66

    # And one killed while holding numbers: they stay reserved, listed as not returned.
    server = start_server(port)
    try:
        killed = post_label(port, token)
    finally:
        server.kill()
        server.wait(60)
    assert sequence(killed) == 68

    issued = {first, second, by_server, by_cli, killed}
    expected = [(4, 66, "returned-unused"), (69, 131, "not-returned")]
    body = cli_gaps(capsys, "--year", year)
    spans = [(sequence(r["first"]), sequence(r["last"]), r["reason"]) for r in body["ranges"]]
    assert spans == expected
    assert body["skipped"] == 63 + 63
    assert all(r["issuer"] == "gd-clc" and r["holder"] for r in body["ranges"])
    assert not {r["first"] for r in body["ranges"]} & issued

    with TestClient(create_app(deployment)) as client:
        answer = client.get(f"/labels/gaps?year={year}&org=gd-clc")
        assert answer.status_code == 200, answer.text
        ranges = answer.json()["ranges"]
        assert [
            (sequence(r["first"]), sequence(r["last"]), r["reason"]) for r in ranges
        ] == expected
        assert "holder" not in ranges[0]  # hosts and process ids stay with the operator
        assert ranges[0]["returnedAt"] and ranges[1]["returnedAt"] is None
        assert client.get("/labels/gaps?year=1999").json()["ranges"] == []
        assert client.get("/labels/gaps?org=nobody").status_code == 404
        bad = client.get("/labels/gaps?year=２０２６")  # fullwidth digits
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["pointer"] == "/year"
        assert client.get(f"/labels/{by_cli}").status_code == 200
    runtime.close()
    capsys.readouterr()
    assert main(["label", "gaps", "--org", "nobody"]) == 1
    assert main(["labels", "gaps", "--year", "20x6"]) == 1
