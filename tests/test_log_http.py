"""The log's HTTP routes through FastAPI's TestClient, on both databases."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.cli import main
from app.main import create_app
from app.settings import Settings
from ledger.checkpoint import open_checkpoint
from ledger.note import NoteVerifier
from ledger.proof import verify_consistency, verify_inclusion
from ledger.receipt import Receipt, verify_receipt
from ledger.rfc9162 import hash_leaf, root_of
from ledger.tiles import decode_bundle, split_hashes

ENTRIES = [f'{{"kind":"test","n":{i}}}'.encode() for i in range(600)]


@pytest.fixture
def client(deployment: Settings, tmp_path: Path) -> Iterator[TestClient]:
    lines = tmp_path / "entries.txt"
    lines.write_bytes(b"\n".join(ENTRIES) + b"\n")
    assert main(["log", "append", "--lines", str(lines)]) == 0
    with TestClient(create_app(deployment)) as test_client:
        yield test_client


def log_key(client: TestClient) -> NoteVerifier:
    signer = client.app.state.runtime.log_signer  # type: ignore[attr-defined]
    return NoteVerifier.from_vkey(signer.vkey())


def test_checkpoint_is_a_signed_note(client: TestClient) -> None:
    response = client.get("/log/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["cache-control"] == "no-cache"
    checkpoint = open_checkpoint(response.text, log_key(client))
    assert checkpoint.size == 600
    assert checkpoint.root == root_of([hash_leaf(e) for e in ENTRIES])


def test_full_and_partial_tiles(client: TestClient) -> None:
    full = client.get("/log/tile/0/000")
    assert full.status_code == 200
    assert "immutable" in full.headers["cache-control"]
    assert split_hashes(full.content) == [hash_leaf(e) for e in ENTRIES[:256]]
    partial = client.get("/log/tile/0/002.p/88")
    assert partial.status_code == 200
    assert "immutable" not in partial.headers["cache-control"]
    assert split_hashes(partial.content) == [hash_leaf(e) for e in ENTRIES[512:]]
    assert client.get("/log/tile/1/000.p/2").content == b"".join(
        [root_of([hash_leaf(e) for e in ENTRIES[i : i + 256]]) for i in (0, 256)]
    )
    assert decode_bundle(client.get("/log/tile/entries/001").content) == ENTRIES[256:512]
    assert decode_bundle(client.get("/log/tile/entries/002.p/88").content) == ENTRIES[512:]


@pytest.mark.parametrize("path", ["/log/tile/0/002", "/log/tile/0/002.p/89", "/log/tile/2/000.p/1"])
def test_tiles_beyond_the_tree_are_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["type"] == "beyond-tree"


@pytest.mark.parametrize("path", ["/log/tile/0/2", "/log/tile/x/000", "/log/tile/0/000.p/0"])
def test_bad_tile_paths_are_400(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "invalid-tile-path"


def test_json_helpers(client: TestClient) -> None:
    leaves = [hash_leaf(e) for e in ENTRIES]
    entry = client.get("/log/entries/7").json()
    assert base64.b64decode(entry["data"]) == ENTRIES[7]
    assert entry["text"] == ENTRIES[7].decode()
    inclusion = client.get("/log/proof/inclusion", params={"index": 7, "size": 300}).json()
    proof = [base64.b64decode(h) for h in inclusion["inclusion_proof"]]
    verify_inclusion(7, 300, leaves[7], proof, root_of(leaves[:300]))
    consistency = client.get("/log/proof/consistency", params={"old": 300}).json()
    assert consistency["new"] == 600
    proof = [base64.b64decode(h) for h in consistency["consistency_proof"]]
    verify_consistency(300, 600, proof, root_of(leaves[:300]), root_of(leaves))
    receipt = Receipt.from_json(client.get("/log/receipts/42").json())
    verify_receipt(receipt, ENTRIES[42], log_key(client))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("/log/proof/inclusion", "'index' is required"),
        ("/log/proof/inclusion?index=-1", "'index' must be a non-negative decimal"),
        ("/log/proof/inclusion?index=abc", "'index' must be a non-negative decimal"),
        ("/log/proof/inclusion?index=5&size=601", "beyond the newest checkpoint"),
        ("/log/proof/inclusion?index=600", "index 600"),
        ("/log/proof/consistency?old=0", "0"),
        ("/log/proof/consistency?old=10&new=5", "5"),
        ("/log/proof/consistency?old=01", "'old' must be a non-negative decimal"),
    ],
)
def test_bad_parameters_are_400_with_a_reason(client: TestClient, url: str, reason: str) -> None:
    response = client.get(url)
    assert response.status_code == 400, response.text
    assert reason in response.json()["detail"]


def test_entry_beyond_the_tree_is_404(client: TestClient) -> None:
    assert client.get("/log/entries/600").status_code == 404


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json()["tree_size"] == 600
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/log/checkpoint", "/log/tile/{path}", "/log/proof/inclusion", "/healthz"):
        assert path in paths
    assert client.get("/docs").status_code == 200
