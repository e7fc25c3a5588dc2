"""The verifier through HTTP: VC-API verify, the Digital Link resolver, scans, badges, alerts."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.runtime import Runtime, utcnow
from app.settings import Settings
from credentials.dataintegrity import sign
from credentials.didkey import did_key_from_public_key, did_key_verification_method_id
from credentials.multikey import Ed25519KeyPair
from verifier.trustlist import load_trust_list

ROOT = Path(__file__).resolve().parent.parent
REQUEST = json.loads((ROOT / "examples/label.json").read_text())
RULE = json.loads((ROOT / "examples/grading-rule.json").read_text())
SELLER = REQUEST["authorisedDistributors"][0]["uscc"]


@pytest.fixture
def api(deployment: Settings) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    runtime = Runtime(deployment)
    now = utcnow()
    runtime.directory.add_org(
        slug="gd-clc",
        name="广东省碳标签专业委员会",
        uscc="12440000MB2C401574",
        credential_types=["CarbonLabelCredential", "GradeResultCredential"],
        product_categories=["room-air-conditioner"],
        now=now,
        authority=True,  # the committee is also the label authority (rules, every alert)
    )
    token = runtime.directory.new_token(
        "gd-clc", ["issue", "status", "admin", "authority"], "t", now
    )
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(deployment, runtime)) as client:
        label = client.post("/labels", json=REQUEST, headers=headers).json()
        client.post("/grading-rules", json=RULE, headers=headers)
        grade = client.post(
            "/grades",
            json={
                "label": label["labelNumber"],
                "rule": {"id": RULE["id"], "version": RULE["version"]},
            },
            headers=headers,
        ).json()
        yield client, {"headers": headers, "label": label, "grade": grade}


def revoke(client: TestClient, ctx: dict[str, Any], purpose: str = "revocation") -> None:
    response = client.post(
        "/credentials/status",
        json={
            "credentialId": ctx["label"]["verifiableCredential"]["id"],
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose},
            "status": True,
        },
        headers=ctx["headers"],
    )
    assert response.status_code == 200


def test_vc_api_verify_a_genuine_label(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, ctx = api
    label = ctx["label"]
    response = client.post(
        "/credentials/verify",
        json={
            "verifiableCredential": label["verifiableCredential"],
            "logEntry": label["logEntry"],
            "receipt": label["receipt"],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is True and body["verdict"] == "genuine"
    assert {"structure", "proof", "issuer", "status", "validity", "log"} <= set(body["checks"])
    # without the bundle, a credential issued here is found by id and digest
    alone = client.post(
        "/credentials/verify", json={"verifiableCredential": label["verifiableCredential"]}
    )
    assert alone.status_code == 200 and "log" in alone.json()["checks"]
    grade = client.post(
        "/credentials/verify", json={"verifiableCredential": ctx["grade"]["verifiableCredential"]}
    )
    assert grade.status_code == 200, grade.text
    assert "grade" in grade.json()["checks"]


def test_vc_api_verify_rejects_a_tampered_label(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, ctx = api
    forged = copy.deepcopy(ctx["label"]["verifiableCredential"])
    forged["credentialSubject"]["carbonFootprint"]["pcfExcludingBiogenicUptake"] = "1000.0"
    response = client.post("/credentials/verify", json={"verifiableCredential": forged})
    assert response.status_code == 400
    body = response.json()
    assert body["verified"] is False
    assert any(e["check"] == "proof" for e in body["errors"])


def test_revoked_and_suspended(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, ctx = api
    revoke(client, ctx, "suspension")
    body = client.post(
        "/credentials/verify", json={"verifiableCredential": ctx["label"]["verifiableCredential"]}
    ).json()
    assert body["verdict"] == "suspended"
    revoke(client, ctx)
    body = client.post(
        "/credentials/verify", json={"verifiableCredential": ctx["label"]["verifiableCredential"]}
    ).json()
    assert body["verdict"] == "revoked" and body["verified"] is False


def test_presentation_verify_with_challenge(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, ctx = api
    holder = Ed25519KeyPair.generate()
    did = did_key_from_public_key(holder.public_key)
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": did,
        "verifiableCredential": [ctx["label"]["verifiableCredential"]],
    }
    signed = sign(
        presentation,
        holder,
        verification_method=did_key_verification_method_id(did),
        proof_purpose="authentication",
        challenge="nonce-1",
        domain="shop.example",
        created=utcnow(),
    )
    ok = client.post(
        "/presentations/verify",
        json={
            "verifiablePresentation": signed,
            "options": {"challenge": "nonce-1", "domain": "shop.example"},
        },
    )
    assert ok.status_code == 200, ok.text
    bad = client.post(
        "/presentations/verify",
        json={
            "verifiablePresentation": signed,
            "options": {"challenge": "replayed", "domain": "shop.example"},
        },
    )
    assert bad.status_code == 400


def test_digital_link_resolver(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, ctx = api
    link = ctx["label"]["digitalLink"]
    path = "/01/" + link.split("/01/")[1]
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"].startswith(f"/scan/{ctx['label']['labelNumber']}")
    assert "gs1.org/voc" in response.headers["link"]
    # the printed URI names its label (?label=…): further parameters go after it
    assert "?label=" in path
    bundle = client.get(f"{path}&linkType=gs1:certificationInfo").json()
    assert bundle["verifiableCredential"] == ctx["label"]["verifiableCredential"]
    assert client.get(f"{path}&linkType=untp:dcc").status_code == 200
    linkset = client.get(f"{path}&linkType=linkset")
    assert linkset.headers["content-type"].startswith("application/linkset+json")
    assert linkset.json()["linkset"][0]["anchor"].endswith(path)
    assert client.get("/01/06901234567890").status_code == 400  # bad check digit
    unknown = client.get("/01/06901234567915")
    assert unknown.status_code == 404 and "<html" in unknown.text.lower()


def test_scan_page_and_alerts(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, ctx = api
    number = ctx["label"]["labelNumber"]
    page = client.get(f"/scan/{number}", params={"lang": "en"})
    assert page.status_code == 200
    assert number in page.text and "<script" not in page.text.lower()
    assert (
        client.get(f"/scan/{number}", headers={"Accept-Language": "pt-PT"}).text.count(number) >= 1
    )
    outside = client.get(f"/scan/{number}", params={"lang": "en", "region": "US"})
    assert outside.status_code == 200
    ghost = client.get(f"/scan/{number}", params={"serial": "GHOSTSERIAL01"})
    assert ghost.status_code == 200
    assert client.get("/alerts").status_code == 401
    alerts = client.get("/alerts", headers=ctx["headers"]).json()["alerts"]
    codes = {a["code"] for a in alerts}
    assert {"outside-market", "ghost-serial"} <= codes
    assert all("127.0.0.1" not in json.dumps(a) for a in alerts)
    assert client.get("/scan/GDCL-2026-AC-999999").status_code == 404


def test_badges(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, ctx = api
    number = ctx["label"]["labelNumber"]
    grade = ctx["grade"]["verifiableCredential"]["credentialSubject"]["grade"]
    value = REQUEST["footprint"]["pcfExcludingBiogenicUptake"]
    honest = {
        "label": number,
        "gtin": REQUEST["product"]["gtin"],
        "seller": SELLER,
        "grade": grade,
        "footprint": {"value": value, "unit": "piece"},
    }
    response = client.post("/badges/verify", json=honest)
    assert response.status_code == 200 and response.json()["verified"] is True, response.text
    cases = {
        "GTIN_NOT_COVERED": {"gtin": "6901234567908"},
        "SELLER_NOT_AUTHORISED": {"seller": "91440300MA5FL2N977"},
        "GRADE_INFLATED": {"grade": "1"},
        "VALUE_MISSTATED": {"footprint": {"value": "3000", "unit": "piece"}},
    }
    for code, change in cases.items():
        body = client.post("/badges/verify", json={**honest, **change}).json()
        assert body["verified"] is False, code
        assert code in json.dumps(body["reasons"]), (code, body)
    svg = client.get(f"/badges/{number}.svg", params={"lang": "en"})
    assert svg.headers["content-type"].startswith("image/svg+xml") and "<svg" in svg.text
    revoke(client, ctx)
    body = client.post("/badges/verify", json=honest).json()
    assert body["verified"] is False and body["verdict"] == "revoked"


def test_trust_list_is_signed_by_the_authority(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, _ = api
    document = client.get("/trust-list.json").json()
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    authority = did_key_from_public_key(runtime.keystore.current("authority").public_key())
    trust = load_trust_list(document, authority=authority, now=utcnow())
    assert trust.issuer(runtime.directory.org("gd-clc").did) is not None


def test_hostile_and_oversized_input(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, _ = api
    deep: Any = {}
    for _ in range(200):
        deep = {"a": deep}
    response = client.post("/credentials/verify", json={"verifiableCredential": deep})
    assert response.status_code == 400 and response.json()["type"] == "too-deeply-nested"
    huge = {"verifiableCredential": {"x": "y" * 2_000_000}}
    assert client.post("/credentials/verify", json=huge).status_code == 413
    remote = copy.deepcopy(client.get("/trust-list.json").json())
    remote = {"@context": ["https://evil.example/context.jsonld"], "type": ["VerifiableCredential"]}
    response = client.post("/credentials/verify", json={"verifiableCredential": remote})
    assert response.status_code == 400


def test_rate_limit(deployment: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = deployment.model_copy(update={"rate_limit_per_minute": 5})
    with TestClient(create_app(settings)) as client:
        codes = [client.get("/log/checkpoint").status_code for _ in range(8)]
        assert codes[:5] == [200] * 5 and codes[-1] == 429
        limited = client.get("/log/checkpoint")
        assert int(limited.headers["retry-after"]) >= 1
        assert client.get("/healthz").status_code == 200


def test_key_rotation_old_labels_verify_and_retired_keys_cannot_sign(
    api: tuple[TestClient, dict[str, Any]],
) -> None:
    from app.cli import main
    from credentials.multikey import Ed25519KeyPair

    client, ctx = api
    old = ctx["label"]["verifiableCredential"]
    assert main(["keys", "rotate", "org-gd-clc"]) == 0
    new = client.post("/labels", json=REQUEST, headers=ctx["headers"]).json()
    assert new["verifiableCredential"]["proof"]["verificationMethod"].endswith("#key-2")
    for credential in (old, new["verifiableCredential"]):
        response = client.post("/credentials/verify", json={"verifiableCredential": credential})
        assert response.status_code == 200, response.text

    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    retired = runtime.keystore.version("org-gd-clc", 1)
    pair = Ed25519KeyPair(
        public_key=retired.public_key(), private_key=runtime.keystore.private_key("org-gd-clc", 1)
    )
    unsigned = {k: v for k, v in old.items() if k != "proof"}
    time.sleep(1.1)  # proof times have whole seconds: be clearly after the retirement
    late = sign(
        unsigned,
        pair,
        verification_method=old["proof"]["verificationMethod"],
        created=utcnow(),
    )
    response = client.post("/credentials/verify", json={"verifiableCredential": late})
    assert response.status_code == 400
    reasons = {e.get("reason") for e in response.json()["errors"]}
    assert "KEY_NOT_IN_SERVICE" in reasons, response.json()
