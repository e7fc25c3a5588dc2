"""Issue 10 defect 4: ``POST /badges/verify`` verifies the document it was given.

It used to look the submitted credential up by ``id`` and verify the *stored* one,
so an altered footprint under a genuine id answered ``verified: true, "genuine"``.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient

from tests.test_verifier_http import REQUEST, SELLER, api  # noqa: F401 (the fixture)

FOOTPRINT = REQUEST["footprint"]["pcfExcludingBiogenicUptake"]


def _claims(value: str = FOOTPRINT) -> dict[str, Any]:
    return {
        "gtin": REQUEST["product"]["gtin"],
        "seller": SELLER,
        "footprint": {"value": value, "unit": "piece"},
    }


def _failed(body: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {(r["check"], r.get("reason")) for r in body["reasons"]}


def test_the_genuine_document_verifies(api: tuple[TestClient, dict[str, Any]]) -> None:  # noqa: F811
    client, ctx = api
    credential = ctx["label"]["verifiableCredential"]
    response = client.post("/badges/verify", json={"credential": credential, **_claims()})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is True and body["verdict"] == "genuine", body
    grade = ctx["grade"]["verifiableCredential"]
    body = client.post("/badges/verify", json={"credential": grade, **_claims()}).json()
    assert body["verified"] is True and body["grade"] == grade["credentialSubject"]["grade"]


def test_an_altered_footprint_under_a_genuine_id_fails_by_name(
    api: tuple[TestClient, dict[str, Any]],  # noqa: F811
) -> None:
    client, ctx = api
    forged = copy.deepcopy(ctx["label"]["verifiableCredential"])
    forged["credentialSubject"]["carbonFootprint"]["pcfExcludingBiogenicUptake"] = "12.5"
    body = client.post("/badges/verify", json={"credential": forged, **_claims("12.5")}).json()
    assert body["verified"] is False and body["verdict"] == "invalid", body
    failed = _failed(body)
    assert ("log", "DIGEST_MISMATCH") in failed, body
    assert any(check == "proof" for check, _ in failed), body


def test_a_document_without_its_proof_fails(api: tuple[TestClient, dict[str, Any]]) -> None:  # noqa: F811
    client, ctx = api
    stripped = {k: v for k, v in ctx["label"]["verifiableCredential"].items() if k != "proof"}
    body = client.post("/badges/verify", json={"credential": stripped, **_claims()}).json()
    assert body["verified"] is False and body["verdict"] == "invalid", body
    assert any(check == "proof" for check, _ in _failed(body)), body


def test_an_inflated_grade_document_fails(api: tuple[TestClient, dict[str, Any]]) -> None:  # noqa: F811
    client, ctx = api
    grade = copy.deepcopy(ctx["grade"]["verifiableCredential"])
    grade["credentialSubject"]["grade"] = "1"
    body = client.post("/badges/verify", json={"credential": grade, **_claims()}).json()
    assert body["verified"] is False, body
    assert ("log", "DIGEST_MISMATCH") in _failed(body), body
