"""Batch issuance through ``POST /labels/batch``: per-label results, one log commit, no strays."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from app.cli import main
from app.runtime import Runtime
from credentials.dataintegrity import verification_method_from_document, verify
from issuer.batchfile import read_batch
from issuer.directory import Principal
from issuer.errors import InvalidRequest, IssuerError
from issuer.service import MAX_BATCH, Issued
from issuer.store.tables import issued_credentials
from ledger.receipt import Receipt, verify_receipt
from schemas.logentry import credential_digest, entry_bytes
from tests import test_issuer_http
from tests.test_issuer_http import bearer

api = test_issuer_http.api
"""The issuer HTTP fixture: a deployment with the gd-clc issuer and its tokens."""

ROOT = Path(__file__).resolve().parent.parent
REQUEST = json.loads((ROOT / "schemas/examples/label-request.room-ac.json").read_text())
ROWS = [row.request for row in read_batch(ROOT / "examples/labels.csv") if row.request]


def runtime_of(client: TestClient) -> Runtime:
    return client.app.state.runtime  # type: ignore[attr-defined,no-any-return]


def post_batch(client: TestClient, token: str, labels: list[Any], **headers: str) -> Any:
    response = client.post(
        "/labels/batch", json={"labels": labels}, headers={**bearer(token), **headers}
    )
    assert response.status_code == 201, response.text
    return response.json()


def stored_count(client: TestClient) -> int:
    with runtime_of(client).engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(issued_credentials)).scalar_one())


def test_good_labels_are_issued_and_bad_ones_reported_by_pointer(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = api
    bad = copy.deepcopy(REQUEST)
    bad["product"]["gtin"] = "6901234567890"  # wrong check digit
    del bad["manufacturer"]["uscc"]
    outside = copy.deepcopy(REQUEST)
    outside["product"]["productCategory"] = "lithium-battery"
    body = post_batch(client, tokens["issue"], [REQUEST, bad, outside, ROWS[0]])

    assert (body["issued"], body["failed"]) == (2, 2)
    first, invalid, forbidden, last = body["results"]
    assert invalid["status"] == 422 and invalid["type"] == "invalid-request"
    pointers = {e["pointer"] for e in invalid["errors"]}
    assert {"/labels/1/product/gtin", "/labels/1/manufacturer/uscc"} <= pointers
    assert forbidden["status"] == 403 and "lithium-battery" in forbidden["detail"]

    verifier = runtime_of(client).log_verifier
    checkpoints = set()
    for item in (first, last):
        assert item["status"] == 201 and item["labelNumber"].startswith("GDCL-")
        credential, entry = item["verifiableCredential"], item["logEntry"]
        assert entry["digest"] == credential_digest(credential)
        receipt = Receipt.from_json(item["receipt"])
        assert receipt.index == item["logIndex"]
        checkpoints.add(verify_receipt(receipt, entry_bytes(entry), verifier).size)
        stored = client.get(f"/labels/{item['labelNumber']}").json()
        assert stored["verifiableCredential"] == credential
    assert checkpoints == {2}  # both entries in one commit, proved against its checkpoint
    assert client.get("/healthz").json()["tree_size"] == 2
    assert stored_count(client) == 2  # nothing of the refused labels


def test_a_label_whose_commit_fails_is_not_returned_nor_stored(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    """The credential row is written in the log's transaction: a database refusing it
    (here a trigger on one GTIN) fails that label's commit, and only that label's."""
    client, tokens = api
    engine = runtime_of(client).engine
    refused = ROWS[1]["product"]["gtin"].zfill(14)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON issued_credentials "
                    f"WHEN NEW.gtin = '{refused}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF NEW.gtin = '{refused}' THEN RAISE EXCEPTION 'refused'; END IF; "
                    "RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON issued_credentials "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
    body = post_batch(client, tokens["issue"], [ROWS[0], ROWS[1], ROWS[2]])
    statuses = [item["status"] for item in body["results"]]
    assert statuses == [201, 503, 201]
    assert body["results"][1]["type"] == "issuance-failed"
    assert "verifiableCredential" not in body["results"][1]
    assert client.get("/healthz").json()["tree_size"] == 2
    assert stored_count(client) == 2
    logged = [json.loads(runtime_of(client).store.entry(i)) for i in range(2)]
    issued = [item["verifiableCredential"]["id"] for item in body["results"] if "logIndex" in item]
    assert sorted(entry["credential"] for entry in logged) == sorted(issued)


def test_idempotency_key_makes_a_batch_retry_safe(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    labels = [ROWS[0], ROWS[1]]
    first = post_batch(client, tokens["issue"], labels, **{"Idempotency-Key": "shipment-7"})
    again = post_batch(client, tokens["issue"], labels, **{"Idempotency-Key": "shipment-7"})
    numbers = [item["labelNumber"] for item in first["results"]]
    assert [item["labelNumber"] for item in again["results"]] == numbers
    assert client.get("/healthz").json()["tree_size"] == 2


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"labels": []}, "/labels"),
        ({"labels": [{}] * (MAX_BATCH + 1)}, "/labels"),
        ({"labels": [REQUEST, 7]}, "/labels/1"),
        ({"label": [REQUEST]}, "/labels"),
    ],
    ids=["empty", "too-many", "not-an-object", "misnamed"],
)
def test_malformed_batches_are_refused_whole(
    api: tuple[TestClient, dict[str, str]], body: dict[str, Any], pointer: str
) -> None:
    client, tokens = api
    response = client.post("/labels/batch", json=body, headers=bearer(tokens["issue"]))
    assert response.status_code == 422
    assert pointer in {e["pointer"] for e in response.json()["errors"]}
    assert client.get("/healthz").json()["tree_size"] == 0


@pytest.mark.parametrize(("token", "status"), [(None, 401), ("status", 403)])
def test_batch_needs_an_issue_token(
    api: tuple[TestClient, dict[str, str]], token: str | None, status: int
) -> None:
    client, tokens = api
    headers = {} if token is None else bearer(tokens[token])
    response = client.post("/labels/batch", json={"labels": [REQUEST]}, headers=headers)
    assert response.status_code == status
    assert client.get("/healthz").json()["tree_size"] == 0


def test_batch_is_documented(api: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = api
    operation = client.get("/openapi.json").json()["paths"]["/labels/batch"]["post"]
    assert operation["summary"] == "Issue many carbon labels"
    assert "/labels/<i>" in operation["description"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/LabelBatch")


def test_a_rotated_key_signs_the_next_labels(
    api: tuple[TestClient, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """The service keeps the current key; a rotation by another process (the CLI) is
    picked up by the next signature, and both credentials verify, each signed while its
    key was in service (whole seconds, as the verifier's KEY_NOT_IN_SERVICE check)."""
    client, tokens = api
    before = post_batch(client, tokens["issue"], [REQUEST])["results"][0]
    assert main(["keys", "rotate", "org-gd-clc"]) == 0
    after = post_batch(client, tokens["issue"], [REQUEST])["results"][0]
    did_document = client.get("/issuers/gd-clc/did.json").json()
    keystore = runtime_of(client).keystore
    for item, version in ((before, 1), (after, 2)):
        credential = item["verifiableCredential"]
        assert credential["proof"]["verificationMethod"].endswith(f"#key-{version}")
        verify(
            credential,
            resolve_method=lambda m: verification_method_from_document(did_document, m),
        )
        created = datetime.fromisoformat(credential["proof"]["created"].replace("Z", "+00:00"))
        key = keystore.version("org-gd-clc", version)
        assert key.created.replace(microsecond=0) <= created
        assert key.not_after is None or created < key.not_after


# -- pipelined batches (carbonlabel issue batch): the next batch is signed while one commits --


def issuing(client: TestClient) -> Principal:
    return Principal(runtime_of(client).directory.org("gd-clc"), frozenset({"issue"}), "test")


def test_pipelined_batches_are_issued_in_order_each_with_its_receipt(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, _ = api
    runtime = runtime_of(client)
    batches = [(ROWS[0:3], None), (ROWS[3:4], None), ([ROWS[4], {}], None), (ROWS[5:7], None)]
    results = list(runtime.issuer.issue_label_batches(issuing(client), iter(batches)))

    assert [len(r) for r in results] == [3, 1, 2, 2]
    flat = [item for batch in results for item in batch]
    assert isinstance(flat[5], InvalidRequest)  # the empty request, on its own
    issued = [item for item in flat if not isinstance(item, IssuerError)]
    assert len(issued) == 7 and len({i.label_number for i in issued}) == 7
    assert [i.log_index for i in issued] == list(range(7))  # the log keeps the batches' order
    for item in issued:
        receipt = Receipt.from_json(item.receipt)
        assert receipt.index == item.log_index
        verify_receipt(receipt, entry_bytes(item.entry), runtime.log_verifier)
    assert stored_count(client) == 7


def test_a_key_still_in_flight_is_not_issued_twice(api: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = api
    batches = [([ROWS[0], ROWS[1]], ["a", "b"]), ([ROWS[1]], ["b"])]
    first, second = runtime_of(client).issuer.issue_label_batches(issuing(client), batches)
    assert isinstance(first[1], Issued) and isinstance(second[0], Issued)
    assert second[0].credential == first[1].credential
    assert client.get("/healthz").json()["tree_size"] == 2


def test_a_refused_batch_reports_the_one_in_flight_first(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, _ = api
    batches = [([ROWS[0]], None), ([ROWS[1]] * (MAX_BATCH + 1), None)]
    stream = runtime_of(client).issuer.issue_label_batches(issuing(client), batches)
    (first,) = next(stream)
    assert isinstance(first, Issued) and first.log_index == 0
    with pytest.raises(InvalidRequest, match="at most"):
        next(stream)
    assert stored_count(client) == 1
