"""RDFC canonicalization is safe from many threads at once (pyld's caches are shared)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from credentials import canonical

LABEL = json.loads(
    (
        Path(__file__).resolve().parent.parent / "schemas/examples/label-credential.room-ac.json"
    ).read_text()
)


def test_concurrent_canonicalization_agrees_with_serial() -> None:
    documents = []
    for i in range(24):
        document = json.loads(json.dumps(LABEL))
        document["credentialSubject"]["name"] = f"label {i}"
        documents.append(document)
    serial = [canonical.canonicalize_rdfc(d) for d in documents]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(canonical.canonicalize_rdfc, documents))
    assert parallel == serial
