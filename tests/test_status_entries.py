"""Issue 10 defect 3: the deployment owns the status entries of what it issues.

``POST /credentials/issue`` used to keep a client-supplied ``credentialStatus``
(``[]``, or entries pointing elsewhere): the label was signed and logged,
``POST /credentials/status`` answered ``revocation: true``, and verification still
said genuine. Such a request is now refused (422, nothing logged), and the verifier
refuses a label or grade credential without exactly the issuer's revocation and
suspension entries.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.runtime import Runtime, utcnow
from credentials.dataintegrity import sign
from tests.test_issuer_http import api, bearer, issue  # noqa: F401 (the fixture)


def _tree_size(client: TestClient) -> int:
    size: int = client.get("/healthz").json()["tree_size"]
    return size


def _unsigned(label: dict[str, Any], number: str) -> dict[str, Any]:
    unsigned = {k: v for k, v in label.items() if k not in ("proof", "id", "credentialStatus")}
    unsigned["credentialSubject"] = {**unsigned["credentialSubject"], "labelNumber": number}
    return unsigned


def _elsewhere(label: dict[str, Any]) -> list[dict[str, Any]]:
    entries = copy.deepcopy(label["credentialStatus"])
    for entry in entries:
        entry["statusListIndex"] = str(int(entry["statusListIndex"]) + 1000)
    return entries


@pytest.mark.parametrize(
    "status",
    [
        pytest.param(lambda label: [], id="empty"),
        pytest.param(_elsewhere, id="entries-pointing-elsewhere"),
        pytest.param(
            lambda label: [
                {**label["credentialStatus"][0], "statusListCredential": "https://x.example/s/1"}
            ],
            id="foreign-list",
        ),
    ],
)
def test_a_label_with_its_own_credential_status_is_refused_before_the_log(
    api: tuple[TestClient, dict[str, str]],  # noqa: F811
    status: Any,
) -> None:
    client, tokens = api
    label = issue(client, tokens)["verifiableCredential"]
    before = _tree_size(client)
    unsigned = _unsigned(label, "GDCL-2026-AC-900002")
    unsigned["credentialStatus"] = status(label)
    response = client.post(
        "/credentials/issue", json={"credential": unsigned}, headers=bearer(tokens["issue"])
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert [e["pointer"] for e in body["errors"]] == ["/credential/credentialStatus"]
    assert "refused, not replaced" in body["errors"][0]["reason"]
    assert _tree_size(client) == before
    assert client.get("/labels/GDCL-2026-AC-900002").status_code == 404


def test_other_credential_types_are_refused_too(
    api: tuple[TestClient, dict[str, str]],  # noqa: F811
) -> None:
    client, tokens = api
    before = _tree_size(client)
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:subject"},
        "credentialStatus": [],
    }
    response = client.post(
        "/credentials/issue", json={"credential": document}, headers=bearer(tokens["issue"])
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/credential/credentialStatus"
    assert _tree_size(client) == before


def test_vc_api_issue_adds_the_deployments_entries_and_revocation_reaches_verify(
    api: tuple[TestClient, dict[str, str]],  # noqa: F811
) -> None:
    client, tokens = api
    label = issue(client, tokens)["verifiableCredential"]
    unsigned = _unsigned(label, "GDCL-2026-AC-900003")
    response = client.post(
        "/credentials/issue", json={"credential": unsigned}, headers=bearer(tokens["issue"])
    )
    assert response.status_code == 201, response.text
    credential = response.json()["verifiableCredential"]
    purposes = sorted(e["statusPurpose"] for e in credential["credentialStatus"])
    assert purposes == ["revocation", "suspension"]
    genuine = client.post("/credentials/verify", json={"verifiableCredential": credential})
    assert genuine.status_code == 200, genuine.text
    revoked = client.post(
        "/credentials/status",
        json={
            "credentialId": credential["id"],
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status": True,
        },
        headers=bearer(tokens["status"]),
    )
    assert revoked.status_code == 200 and revoked.json()["status"]["revocation"] is True
    after = client.post("/credentials/verify", json={"verifiableCredential": credential}).json()
    assert after["verified"] is False and after["verdict"] == "revoked"


@pytest.mark.parametrize("status", [None, []], ids=["absent", "empty"])
def test_a_label_signed_without_status_entries_does_not_verify(
    api: tuple[TestClient, dict[str, str]],  # noqa: F811
    status: Any,
) -> None:
    client, tokens = api
    label = issue(client, tokens)["verifiableCredential"]
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    pair, method = runtime.issuer.signing_key(runtime.directory.org("gd-clc"))
    unsigned = {k: v for k, v in label.items() if k not in ("proof", "credentialStatus")}
    unsigned["id"] = "urn:uuid:00000000-0000-4000-8000-000000000003"
    if status is not None:
        unsigned["credentialStatus"] = status
    forged = sign(unsigned, pair, verification_method=method, created=utcnow())
    response = client.post("/credentials/verify", json={"verifiableCredential": forged})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["verified"] is False and body["verdict"] == "invalid"
    failed = {(e["check"], e.get("reason")) for e in body["errors"]}
    assert ("status", "STATUS_ENTRIES_MISSING") in failed, body
    assert "proof" in body["checks"]  # the issuer's key did sign it
