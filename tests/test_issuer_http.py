"""Issuing through the HTTP API: labels, VC-API issue and status, grades, rules, tokens."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.runtime import Runtime, utcnow
from app.settings import Settings
from credentials.statuslist import read_status
from ledger.note import NoteVerifier
from ledger.receipt import Receipt, verify_receipt
from schemas.logentry import credential_digest, entry_bytes

ROOT = Path(__file__).resolve().parent.parent
REQUEST = json.loads((ROOT / "schemas/examples/label-request.room-ac.json").read_text())
RULE = json.loads((ROOT / "examples/grading-rule.json").read_text())
USCC = "12440000MB2C401574"


@pytest.fixture
def api(deployment: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    runtime = Runtime(deployment)
    now = utcnow()
    runtime.directory.add_org(
        slug="gd-clc",
        name="广东省碳标签专业委员会",
        uscc=USCC,
        credential_types=["CarbonLabelCredential", "GradeResultCredential"],
        product_categories=["room-air-conditioner"],
        now=now,
        authority=True,  # the committee is also the label authority, which publishes rules
    )
    tokens = {
        "issue": runtime.directory.new_token("gd-clc", ["issue"], "t", now),
        "status": runtime.directory.new_token("gd-clc", ["status"], "t", now),
        "admin": runtime.directory.new_token("gd-clc", ["admin"], "t", now),
        "authority": runtime.directory.new_token("gd-clc", ["authority"], "t", now),
    }
    with TestClient(create_app(deployment, runtime)) as client:
        yield client, tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def log_key(client: TestClient) -> NoteVerifier:
    return client.app.state.runtime.log_verifier  # type: ignore[attr-defined,no-any-return]


def issue(client: TestClient, tokens: dict[str, str], **headers: str) -> Any:
    response = client.post("/labels", json=REQUEST, headers={**bearer(tokens["issue"]), **headers})
    assert response.status_code == 201, response.text
    return response.json()


def test_issue_a_label_with_its_receipt(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    body = issue(client, tokens)
    credential = body["verifiableCredential"]
    assert body["labelNumber"].startswith("GDCL-")
    assert body["digitalLink"].endswith(f"/01/06901234567892?label={body['labelNumber']}")
    assert credential["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    entry = body["logEntry"]
    assert entry["digest"] == credential_digest(credential)
    assert "footprint" not in json.dumps(entry).lower()  # never the study data
    checkpoint = verify_receipt(
        Receipt.from_json(body["receipt"]), entry_bytes(entry), log_key(client)
    )
    assert checkpoint.size == body["logIndex"] + 1 or checkpoint.size > body["logIndex"]
    stored = client.get(f"/labels/{body['labelNumber']}").json()
    assert stored["verifiableCredential"] == credential
    assert stored["status"] == {"revocation": False, "suspension": False}


def test_invalid_request_lists_every_error(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    bad = copy.deepcopy(REQUEST)
    bad["product"]["gtin"] = "6901234567890"  # wrong check digit
    bad["footprint"]["boundary"] = "gate-to-gate"
    del bad["manufacturer"]["uscc"]
    response = client.post("/labels", json=bad, headers=bearer(tokens["issue"]))
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert {"/product/gtin", "/footprint/boundary", "/manufacturer/uscc"} <= pointers
    size = client.get("/healthz").json()["tree_size"]
    assert size == 0  # nothing was logged


@pytest.mark.parametrize(
    ("token", "status"), [(None, 401), ("cll_nope", 401), ("status", 403), ("admin", 403)]
)
def test_issuing_needs_an_issue_token(
    api: tuple[TestClient, dict[str, str]], token: str | None, status: int
) -> None:
    client, tokens = api
    headers = {} if token is None else bearer(tokens.get(token, token))
    response = client.post("/labels", json=REQUEST, headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_revoked_token_is_refused(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    runtime.directory.revoke_token(tokens["issue"], utcnow())
    assert client.post("/labels", json=REQUEST, headers=bearer(tokens["issue"])).status_code == 401


def test_issuer_outside_its_category_is_forbidden(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    other = copy.deepcopy(REQUEST)
    other["product"]["productCategory"] = "lithium-battery"
    response = client.post("/labels", json=other, headers=bearer(tokens["issue"]))
    assert response.status_code == 403
    assert "lithium-battery" in response.json()["detail"]


def test_idempotency_key_returns_the_first_result(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    first = issue(client, tokens, **{"Idempotency-Key": "order-1"})
    again = issue(client, tokens, **{"Idempotency-Key": "order-1"})
    assert again["verifiableCredential"] == first["verifiableCredential"]
    assert client.get("/healthz").json()["tree_size"] == 1
    changed = copy.deepcopy(REQUEST)
    changed["product"]["name"] = "another"
    response = client.post(
        "/labels", json=changed, headers={**bearer(tokens["issue"]), "Idempotency-Key": "order-1"}
    )
    assert response.status_code == 409


def status_bit(client: TestClient, credential: dict[str, Any], purpose: str) -> bool:
    entry = next(e for e in credential["credentialStatus"] if e["statusPurpose"] == purpose)
    path = entry["statusListCredential"].split("/status/")[1]
    response = client.get(f"/status/{path}")
    assert response.status_code == 200
    assert "max-age" in response.headers["cache-control"]
    return read_status(entry, response.json())


def test_suspend_reinstate_revoke(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    credential = issue(client, tokens)["verifiableCredential"]

    def change(purpose: str, value: bool, token: str = "status") -> Any:
        return client.post(
            "/credentials/status",
            json={
                "credentialId": credential["id"],
                "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose},
                "status": value,
            },
            headers=bearer(tokens[token]),
        )

    assert change("suspension", True, "issue").status_code == 403
    assert change("suspension", True).json()["status"]["suspension"] is True
    assert status_bit(client, credential, "suspension") is True
    assert change("suspension", False).json()["status"]["suspension"] is False
    assert status_bit(client, credential, "suspension") is False
    assert change("revocation", True).json()["status"]["revocation"] is True
    assert status_bit(client, credential, "revocation") is True
    assert change("revocation", False).status_code == 409  # revocation is permanent
    entries = [
        json.loads(client.get(f"/log/entries/{i}").json()["text"])
        for i in range(client.get("/healthz").json()["tree_size"])
    ]
    assert [e["kind"] for e in entries] == ["issue", "status", "status", "status"]


def test_rules_and_grades(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    assert (
        client.post("/grading-rules", json=RULE, headers=bearer(tokens["issue"])).status_code == 403
    )
    assert (
        client.post("/grading-rules", json=RULE, headers=bearer(tokens["admin"])).status_code == 403
    )
    response = client.post("/grading-rules", json=RULE, headers=bearer(tokens["authority"]))
    assert response.status_code == 201, response.text
    served = client.get(f"/grading-rules/{RULE['id']}/{RULE['version']}")
    assert served.json() == RULE
    label = issue(client, tokens)
    response = client.post(
        "/grades",
        json={
            "label": label["labelNumber"],
            "rule": {"id": RULE["id"], "version": RULE["version"]},
        },
        headers=bearer(tokens["issue"]),
    )
    assert response.status_code == 201, response.text
    grade = response.json()["verifiableCredential"]
    assert "GradeResultCredential" in grade["type"]
    stored = client.get(f"/labels/{label['labelNumber']}").json()
    assert stored["grades"][0]["verifiableCredential"] == grade

    # revoking the label revokes its grade too
    client.post(
        "/credentials/status",
        json={
            "credentialId": label["verifiableCredential"]["id"],
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status": True,
        },
        headers=bearer(tokens["status"]),
    )
    assert status_bit(client, grade, "revocation") is True


def test_ungradable_label_is_422_with_the_reason(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    rule = copy.deepcopy(RULE)
    rule["version"] = "9.0.0"
    rule["boundary"] = "cradle-to-gate"
    assert (
        client.post("/grading-rules", json=rule, headers=bearer(tokens["authority"])).status_code
        == 201
    )
    label = issue(client, tokens)
    response = client.post(
        "/grades",
        json={"label": label["labelNumber"], "rule": {"id": rule["id"], "version": "9.0.0"}},
        headers=bearer(tokens["issue"]),
    )
    assert response.status_code == 422
    assert response.json()["reason"] == "boundary-mismatch"


def test_vc_api_issue(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    label = issue(client, tokens)["verifiableCredential"]
    unsigned = {k: v for k, v in label.items() if k not in ("proof", "id", "credentialStatus")}
    unsigned["credentialSubject"] = {
        **unsigned["credentialSubject"],
        "labelNumber": "GDCL-2026-AC-900001",
    }
    response = client.post(
        "/credentials/issue",
        json={"credential": unsigned, "options": {}},
        headers=bearer(tokens["issue"]),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["verifiableCredential"]["proof"]["type"] == "DataIntegrityProof"
    assert body["labelNumber"] == "GDCL-2026-AC-900001"
    unsigned["issuer"] = "did:web:someone-else.example"
    response = client.post(
        "/credentials/issue", json={"credential": unsigned}, headers=bearer(tokens["issue"])
    )
    assert response.status_code == 403


def test_did_documents(api: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = api
    issuer_doc = client.get("/issuers/gd-clc/did.json").json()
    assert issuer_doc["id"].endswith(":issuers:gd-clc")
    assert issuer_doc["assertionMethod"]
    assert client.get("/.well-known/did.json").json()["id"].startswith("did:web:127.0.0.1")
    assert client.get("/issuers/nobody/did.json").status_code == 404


def test_qr_codes_and_printable_labels_decode(api: tuple[TestClient, dict[str, str]]) -> None:
    import io

    import zxingcpp
    from PIL import Image

    from credentials.dataintegrity import verify
    from issuer.qr import decode_offline

    client, tokens = api
    body = issue(client, tokens)
    number = body["labelNumber"]
    png = client.get(f"/labels/{number}/qr.png")
    assert png.headers["content-type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert [d.text for d in decoded] == [body["digitalLink"]]
    assert client.get(f"/labels/{number}/qr.svg").text.lstrip().startswith("<svg")
    svg = client.get(f"/labels/{number}/label.svg").text
    assert number in svg and "5900.5" in svg
    assert client.get(f"/labels/{number}/label.pdf").content.startswith(b"%PDF")

    offline = client.get(f"/labels/{number}/offline-qr.png")
    assert offline.status_code == 200, offline.text
    texts = [d.text for d in zxingcpp.read_barcodes(Image.open(io.BytesIO(offline.content)))]
    assert len(texts) == 1
    document = decode_offline(texts[0])
    assert document["credentialSubject"]["labelNumber"] == number
    assert document["credentialSubject"]["labelDigest"] == credential_digest(
        body["verifiableCredential"]
    )
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    org = runtime.directory.org("gd-clc")
    version = runtime.keystore.current(org.key_name)

    def resolve(method: str) -> Any:
        from credentials.dataintegrity import ResolvedVerificationMethod

        assert method == version.verification_method_id(org.did)
        return ResolvedVerificationMethod(
            method, org.did, version.public_key(), frozenset({"assertionMethod"})
        )

    verify(document, resolve_method=resolve)
    assert client.get("/labels/GDCL-2026-AC-999999/qr.png").status_code == 404


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE issued_credentials SET document = 'forged'",
        "DELETE FROM issued_credentials",
        "UPDATE status_events SET value = NOT value",
        "DELETE FROM grading_rules",
    ],
)
def test_issued_credentials_cannot_be_rewritten(
    api: tuple[TestClient, dict[str, str]], statement: str
) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    client, tokens = api
    credential = issue(client, tokens)["verifiableCredential"]
    client.post(
        "/credentials/status",
        json={
            "credentialId": credential["id"],
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"},
            "status": True,
        },
        headers=bearer(tokens["status"]),
    )
    assert client.post("/grading-rules", json=RULE, headers=bearer(tokens["authority"])).is_success
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with pytest.raises(DBAPIError, match="append-only"), runtime.engine.begin() as conn:
        conn.execute(text(statement))
