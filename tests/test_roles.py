"""Two roles (issue 10, defect 12): the label authority (scope ``authority``: grading rules,
every issuer's alerts) and an issuer organisation's ``admin`` (its own organisation only).
Through the CLI and HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.main import create_app
from app.runtime import Runtime, utcnow
from app.settings import Settings
from issuer.store.tables import api_tokens
from tests.test_cli_issuer import run

ROOT = Path(__file__).resolve().parent.parent
REQUEST = json.loads((ROOT / "schemas/examples/label-request.room-ac.json").read_text())
RULE = json.loads((ROOT / "examples/grading-rule.json").read_text())
AUTHORITY_USCC = "12440000MB2C401574"
ISSUER_USCC = "91440606MA4WK7R2X8"
OTHER_GTIN = "6901234567908"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def add(capsys: pytest.CaptureFixture[str], slug: str, uscc: str, *extra: str) -> tuple[int, str]:
    code, out, err = run(
        capsys, "issuer", "add", "--slug", slug, "--name", slug, "--uscc", uscc, *extra
    )
    return code, out + err


def new_token(capsys: pytest.CaptureFixture[str], slug: str, *scopes: str) -> tuple[int, str]:
    argv = ["token", "new", "--issuer", slug]
    for scope in scopes:
        argv += ["--scope", scope]
    code, out, err = run(capsys, *argv)
    return code, (out.strip().splitlines() or [""])[-1] if code == 0 else err


def test_only_the_authority_organisation_gets_an_authority_token(
    deployment: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add(capsys, "acme-cert", ISSUER_USCC)[0] == 0
    code, err = new_token(capsys, "acme-cert", "authority")
    assert code == 1 and "authority" in err
    assert new_token(capsys, "acme-cert", "admin", "issue")[0] == 0

    code, out = add(capsys, "gd-clc", AUTHORITY_USCC, "--authority")
    assert code == 0, out
    code, token = new_token(capsys, "gd-clc", "authority")
    assert code == 0 and token.startswith("cll_")
    code, out, _ = run(capsys, "issuer", "list")
    assert "gd-clc" in out and "authority" in out.split("gd-clc", 1)[1].splitlines()[0]
    shown = json.loads(run(capsys, "issuer", "show", "gd-clc")[1])
    assert shown["authority"] is True

    # one authority per deployment
    code, out = add(capsys, "gd-other", "91440101MA5CQ8H31X", "--authority")
    assert code == 1 and "already" in out
    code, _, err = run(capsys, "issuer", "authority", "acme-cert")
    assert code == 1 and "already" in err
    code, out, _ = run(capsys, "issuer", "authority", "gd-clc")  # idempotent
    assert code == 0 and "label authority" in out


@pytest.fixture
def two_orgs(deployment: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The committee (the label authority) and an issuer, each with a label, and tokens."""
    runtime = Runtime(deployment)
    now = utcnow()
    for slug, uscc, authority in (
        ("gd-clc", AUTHORITY_USCC, True),
        ("acme-cert", ISSUER_USCC, False),
    ):
        runtime.directory.add_org(
            slug=slug,
            name=slug,
            uscc=uscc,
            credential_types=["CarbonLabelCredential", "GradeResultCredential"],
            product_categories=["room-air-conditioner"],
            now=now,
            authority=authority,
        )
    tokens = {
        "authority": runtime.directory.new_token("gd-clc", ["authority"], "t", now),
        "clc-admin": runtime.directory.new_token("gd-clc", ["admin", "issue"], "t", now),
        "acme-admin": runtime.directory.new_token("acme-cert", ["admin", "issue"], "t", now),
        "acme-issue": runtime.directory.new_token("acme-cert", ["issue"], "t", now),
    }
    with TestClient(create_app(deployment, runtime)) as client:
        clc = client.post("/labels", json=REQUEST, headers=bearer(tokens["clc-admin"]))
        assert clc.status_code == 201, clc.text
        request: dict[str, Any] = copy.deepcopy(REQUEST)
        request["product"]["gtin"] = OTHER_GTIN
        acme = client.post("/labels", json=request, headers=bearer(tokens["acme-admin"]))
        assert acme.status_code == 201, acme.text
        tokens["clc-label"] = clc.json()["labelNumber"]
        tokens["acme-label"] = acme.json()["labelNumber"]
        yield client, tokens


def test_an_organisation_admin_cannot_publish_grading_rules(
    two_orgs: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = two_orgs
    for name in ("acme-admin", "clc-admin", "acme-issue"):
        response = client.post("/grading-rules", json=RULE, headers=bearer(tokens[name]))
        assert response.status_code == 403, (name, response.text)
        assert "authority" in response.json()["detail"]
    response = client.post("/grading-rules", json=RULE, headers=bearer(tokens["authority"]))
    assert response.status_code == 201, response.text


def test_an_authority_scope_outside_the_authority_does_not_count(
    two_orgs: tuple[TestClient, dict[str, str]],
) -> None:
    """A token row that claims ``authority`` for a mere issuer (written behind the
    directory's back) gains nothing."""
    client, tokens = two_orgs
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    prefix = tokens["acme-admin"].split("_")[1]
    with runtime.engine.begin() as conn:
        conn.execute(
            update(api_tokens)
            .where(api_tokens.c.prefix == prefix)
            .values(scopes="admin authority issue")
        )
    response = client.post("/grading-rules", json=RULE, headers=bearer(tokens["acme-admin"]))
    assert response.status_code == 403
    labels = {a["label"] for a in alerts_seen(client, tokens["acme-admin"])}
    assert labels <= {tokens["acme-label"]}


def alerts_seen(client: TestClient, token: str) -> list[dict[str, Any]]:
    response = client.get("/alerts", headers=bearer(token))
    assert response.status_code == 200, response.text
    alerts: list[dict[str, Any]] = response.json()["alerts"]
    return alerts


def test_an_admin_sees_only_its_own_organisations_alerts(
    two_orgs: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = two_orgs
    for name in ("clc-label", "acme-label"):  # scans outside the labels' market regions
        assert client.get(f"/scan/{tokens[name]}", params={"region": "US"}).status_code == 200
    assert client.get("/01/06901234567991").status_code == 404  # a GTIN no label answers

    every = alerts_seen(client, tokens["authority"])
    assert {a["label"] for a in every} == {tokens["clc-label"], tokens["acme-label"], "-"}
    acme = alerts_seen(client, tokens["acme-admin"])
    assert acme and {a["label"] for a in acme} == {tokens["acme-label"]}
    clc = alerts_seen(client, tokens["clc-admin"])  # the authority org's own admin token
    assert clc and {a["label"] for a in clc} == {tokens["clc-label"]}
    assert client.get("/alerts", headers=bearer(tokens["acme-issue"])).status_code == 403
    assert client.get("/alerts").status_code == 401


def test_the_demo_publishes_its_rule_as_the_authority(
    deployment: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "demo", "--json")
    assert code == 0, err
    tokens = json.loads(out)["tokens"]
    saved = json.loads((deployment.data_dir / "demo-tokens.json").read_text())
    assert saved == tokens and {"admin", "issue", "authority"} <= set(saved)
    with TestClient(create_app(deployment)) as client:
        rule = {**RULE, "version": "9.9.9"}
        assert (
            client.post("/grading-rules", json=rule, headers=bearer(tokens["admin"])).status_code
            == 403
        )
        response = client.post("/grading-rules", json=rule, headers=bearer(tokens["authority"]))
        assert response.status_code == 201, response.text
        assert client.get("/alerts", headers=bearer(tokens["authority"])).status_code == 200


def test_the_demo_adds_an_authority_token_to_an_older_token_file(
    deployment: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "demo", "--json")[0] == 0
    path = deployment.data_dir / "demo-tokens.json"
    older = json.loads(path.read_text())
    del older["authority"]
    path.write_text(json.dumps(older))
    code, out, err = run(capsys, "demo", "--json")
    assert code == 0, err
    tokens = json.loads(out)["tokens"]
    assert {k: tokens[k] for k in older} == older and tokens["authority"].startswith("cll_")
