"""Hostile and careless input through HTTP: a 4xx problem naming the field, never a 500,
and nothing logged for a refused request (issue 10, defects 9, 10 and 11)."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.runtime import Runtime, utcnow
from app.settings import Settings
from schemas.issuable import FUTURE_TOLERANCE
from tests.test_issuer_http import api, bearer, issue  # noqa: F401  (api is a fixture)

ROOT = Path(__file__).resolve().parent.parent
REQUEST = json.loads((ROOT / "schemas/examples/label-request.room-ac.json").read_text())

Api = tuple[TestClient, dict[str, str]]


def tree_size(client: TestClient) -> int:
    return int(client.get("/healthz").json()["tree_size"])


def pointers(response: Any) -> set[str]:
    return {e["pointer"] for e in response.json().get("errors", [])}


def _iso(delta: timedelta) -> str:
    return (utcnow() + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- defect 9: honest issuance --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "pointer"),
    [
        (("validUntil",), "expired", "/validUntil"),
        (("validUntil",), "now", "/validUntil"),
        (("certification", "assessmentDate"), "2999-01-01", "/certification/assessmentDate"),
        (
            ("footprint", "referencePeriodEnd"),
            "2999-01-01T00:00:00Z",
            "/footprint/referencePeriodEnd",
        ),
        (("product", "name"), "n" * 257, "/product/name"),
        (("manufacturer", "name"), "m" * 1000, "/manufacturer/name"),
        (
            ("footprint", "boundaryProcessesDescription"),
            "d" * 4001,
            "/footprint/boundaryProcessesDescription",
        ),
    ],
    ids=[
        "expired",
        "valid-until-now",
        "assessed-in-the-future",
        "reference-period-in-the-future",
        "long-product-name",
        "long-manufacturer-name",
        "long-description",
    ],
)
def test_dishonest_label_requests_are_422_and_not_logged(
    api: Api,  # noqa: F811
    path: tuple[str, ...],
    value: str,
    pointer: str,
) -> None:
    client, tokens = api
    request = copy.deepcopy(REQUEST)
    if value == "expired":
        value = "2001-01-01T00:00:00Z"
    elif value == "now":
        value = _iso(timedelta(0))
    node = request
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    size = tree_size(client)
    response = client.post("/labels", json=request, headers=bearer(tokens["issue"]))
    assert response.status_code == 422, response.text
    assert pointer in pointers(response)
    assert tree_size(client) == size


def test_assessment_within_the_tolerance_is_issued(api: Api) -> None:  # noqa: F811
    client, tokens = api
    request = copy.deepcopy(REQUEST)
    request["certification"]["assessmentDate"] = (
        (utcnow() + FUTURE_TOLERANCE / 2).date().isoformat()
    )
    request["footprint"]["referencePeriodEnd"] = _iso(FUTURE_TOLERANCE / 2)
    response = client.post("/labels", json=request, headers=bearer(tokens["issue"]))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("raw", "pointer"),
    [
        ('"\\ud800"', "/product/name"),
        ('"Air \\udfff conditioner"', "/product/name"),
        ('"with a NUL \\u0000 inside"', "/product/name"),
    ],
    ids=["lone-high-surrogate", "lone-low-surrogate", "nul"],
)
def test_lone_surrogates_and_nul_are_422_naming_the_pointer(
    api: Api,  # noqa: F811
    raw: str,
    pointer: str,
) -> None:
    client, tokens = api
    body = json.dumps(REQUEST).replace(json.dumps(REQUEST["product"]["name"]), raw, 1)
    size = tree_size(client)
    for path, content, expected in (
        ("/labels", body, pointer),
        ("/labels/batch", '{"labels": [' + body + "]}", "/labels/0" + pointer),
    ):
        response = client.post(
            path,
            content=content.encode(),
            headers={**bearer(tokens["issue"]), "Content-Type": "application/json"},
        )
        assert response.status_code == 422, response.text
        assert pointers(response) == {expected}
    assert tree_size(client) == size


def test_the_issuer_refuses_such_text_without_http_too(
    api: Api,  # noqa: F811
) -> None:
    """The same check in the issuing service itself (the CLI and library door)."""
    from issuer.errors import InvalidRequest

    client, tokens = api
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    principal = runtime.directory.authenticate(f"Bearer {tokens['issue']}")
    request = copy.deepcopy(REQUEST)
    request["product"]["model"] = "KFR\x00"
    request["manufacturer"]["name"] = "\udc00"
    with pytest.raises(InvalidRequest) as caught:
        runtime.issuer.issue_label(principal, request)
    assert {e.pointer for e in caught.value.errors} == {"/product/model", "/manufacturer/name"}


@pytest.mark.parametrize(
    ("path", "body", "pointer"),
    [
        (
            "/credentials/verify",
            '{"verifiableCredential": {"id": "\\ud800"}}',
            "/verifiableCredential/id",
        ),
        ("/badges/verify", '{"credential": {"id": "\\ud800"}}', "/credential/id"),
        ("/grades", '{"label": "\\udbff", "rule": {"id": "r", "version": "1"}}', "/label"),
        (
            "/credentials/status",
            '{"credentialId": "urn:\\u0000", "credentialStatus": '
            '{"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": true}',
            "/credentialId",
        ),
    ],
    ids=["verify", "badge", "grade", "status"],
)
def test_unstorable_text_in_any_json_body_is_422(
    api: Api,  # noqa: F811
    path: str,
    body: str,
    pointer: str,
) -> None:
    client, tokens = api
    response = client.post(
        path,
        content=body.encode(),
        headers={
            **bearer(tokens["status"] if "status" in path else tokens["issue"]),
            "Content-Type": "application/json; charset=utf-8",
        },
    )
    assert response.status_code == 422, response.text
    assert pointers(response) == {pointer}


def test_an_escaped_surrogate_pair_is_text(api: Api) -> None:  # noqa: F811
    client, tokens = api
    request = copy.deepcopy(REQUEST)
    body = json.dumps(request).replace(
        json.dumps(REQUEST["product"]["name"]), '"\\ud83c\\udf3f Air conditioner"', 1
    )
    response = client.post(
        "/labels",
        content=body.encode(),
        headers={**bearer(tokens["issue"]), "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["verifiableCredential"]["credentialSubject"]["labelledProduct"][
        "name"
    ].startswith("\U0001f33f")


@pytest.mark.parametrize(
    "target",
    [
        "/labels/%00",
        "/scan/GDCL-2026-AC-000001%00",
        "/status/%00",
        "/issuers/%00/did.json",
        "/grading-rules/%00/1.0.0",
        "/01/06901234567892/21/%00",
        "/alerts?code=%00",
        "/log/entries/0?x=%00",
    ],
)
def test_a_nul_in_a_url_is_400(api: Api, target: str) -> None:  # noqa: F811
    client, tokens = api
    response = client.get(target, headers=bearer(tokens["issue"]))
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "invalid-character"


def test_a_surrogate_in_a_member_name_is_422(api: Api) -> None:  # noqa: F811
    client, tokens = api
    body = json.dumps(REQUEST)[:-1] + ', "\\ud800": 1}'
    response = client.post(
        "/labels",
        content=body.encode(),
        headers={**bearer(tokens["issue"]), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert pointers(response) == {""}


def _unsigned(label: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in label.items() if k not in ("proof", "id", "credentialStatus")}


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "pointer"),
    [
        (None, "2001-01-01T00:00:00Z", "/credential/validUntil"),
        ("2030-01-02T00:00:00Z", "2030-01-01T00:00:00Z", "/credential/validUntil"),
        ("2030-01-01T00:00:00Z", "2030-01-01T00:00:00Z", "/credential/validUntil"),
    ],
    ids=["expired", "inverted", "empty"],
)
def test_vc_api_refuses_a_window_that_is_over_or_inverted(
    api: Api,  # noqa: F811
    valid_from: str | None,
    valid_until: str,
    pointer: str,
) -> None:
    client, tokens = api
    label = issue(client, tokens)["verifiableCredential"]
    size = tree_size(client)
    credential = {**_unsigned(label), "validUntil": valid_until}
    if valid_from is None:
        credential.pop("validFrom", None)
    else:
        credential["validFrom"] = valid_from
    response = client.post(
        "/credentials/issue", json={"credential": credential}, headers=bearer(tokens["issue"])
    )
    assert response.status_code == 422, response.text
    assert pointer in pointers(response)
    assert tree_size(client) == size


def test_vc_api_text_with_a_surrogate_is_422(api: Api) -> None:  # noqa: F811
    client, tokens = api
    body = (
        '{"credential": {"@context": ["https://www.w3.org/ns/credentials/v2"], '
        '"type": ["VerifiableCredential"], "credentialSubject": {"name": "\\ud800"}}}'
    )
    response = client.post(
        "/credentials/issue",
        content=body.encode(),
        headers={**bearer(tokens["issue"]), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert pointers(response) == {"/credential/credentialSubject/name"}


# -- defect 10: every bad input is a 4xx problem --------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "Application/JSON",
        "APPLICATION/JSON; charset=UTF-8",
        "application/json;charset=utf-8",
        "application/ld+json",
        "application/vc+ld+json",
        None,
    ],
)
def test_deep_json_is_400_whatever_its_content_type(
    api: Api,  # noqa: F811
    content_type: str | None,
) -> None:
    client, _ = api
    body = b"[" * 900 + b"]" * 900
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = client.post("/credentials/verify", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "too-deeply-nested"


@pytest.mark.parametrize("digits", ["¹", "٣", "１", "²3", "3\u0663"])
@pytest.mark.parametrize(
    ("template", "parameter"),
    [
        ("/log/entries/{}", "index"),
        ("/log/receipts/{}", "index"),
        ("/log/proof/inclusion?index={}&size=1", "index"),
        ("/log/proof/inclusion?index=0&size={}", "size"),
        ("/log/proof/consistency?old={}&new=1", "old"),
        ("/log/proof/consistency?old=1&new={}", "new"),
    ],
)
def test_non_ascii_digits_are_400_naming_the_parameter(
    api: Api,  # noqa: F811
    digits: str,
    template: str,
    parameter: str,
) -> None:
    client, _ = api
    response = client.get(template.format(digits))
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["type"] == "invalid-parameter"
    assert repr(parameter) in problem["detail"]


def test_an_existing_credential_id_or_label_number_is_409_before_logging(
    api: Api,  # noqa: F811
) -> None:
    client, tokens = api
    first = issue(client, tokens)
    label = first["verifiableCredential"]
    size = tree_size(client)
    same_id = {**_unsigned(label), "id": label["id"]}
    response = client.post(
        "/credentials/issue", json={"credential": same_id}, headers=bearer(tokens["issue"])
    )
    assert response.status_code == 409, response.text
    assert response.json()["type"] == "conflict"
    same_number = _unsigned(label)  # a new id, the label number of the first label
    response = client.post(
        "/credentials/issue", json={"credential": same_number}, headers=bearer(tokens["issue"])
    )
    assert response.status_code == 409, response.text
    assert first["labelNumber"] in response.json()["detail"]
    assert tree_size(client) == size  # nothing was logged


def test_racing_issues_of_one_id_log_it_once(api: Api) -> None:  # noqa: F811
    """Requests that all pass the existence check before any commits: the loser's row
    fails inside the entry's commit, which rolls its entry back, and it answers 409."""
    client, tokens = api
    label = issue(client, tokens)["verifiableCredential"]
    credential = {
        **_unsigned(label),
        "id": "urn:uuid:6c1b5bde-6f5b-4d67-9d7c-7b5f1c9b0a01",
        "credentialSubject": {**label["credentialSubject"], "labelNumber": "GDCL-2026-AC-990001"},
    }
    size = tree_size(client)
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def post() -> None:
        barrier.wait()
        response = client.post(
            "/credentials/issue", json={"credential": credential}, headers=bearer(tokens["issue"])
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * 5
    assert tree_size(client) == size + 1
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    for index in range(tree_size(client)):  # every logged credential has its row
        entry = json.loads(runtime.store.entry(index))
        if entry["kind"] == "issue":
            assert runtime.issuer.issued(entry["credential"]).log_index == index


# -- defect 11: only a valid token lifts the public rate limit ------------------------------


@pytest.fixture
def limited(deployment: Settings) -> Iterator[tuple[TestClient, str]]:
    """A deployment allowing 3 public requests per minute, and a valid token."""
    settings = deployment.model_copy(update={"rate_limit_per_minute": 3})
    runtime = Runtime(settings)
    now = utcnow()
    runtime.directory.add_org(
        slug="gd-clc",
        name="广东省碳标签专业委员会",
        uscc="12440000MB2C401574",
        credential_types=["CarbonLabelCredential"],
        product_categories=["room-air-conditioner"],
        now=now,
    )
    token = runtime.directory.new_token("gd-clc", ["issue"], "t", now)
    with TestClient(create_app(settings, runtime)) as client:
        yield client, token


@pytest.mark.parametrize(
    "authorization", ["Bearer junk", "Bearer cll_00000000_nope", "Basic Zm9vOmJhcg==", ""]
)
def test_a_header_that_does_not_authenticate_is_rate_limited(
    limited: tuple[TestClient, str], authorization: str
) -> None:
    client, _ = limited
    answers = [
        client.get("/log/checkpoint", headers={"Authorization": authorization}).status_code
        for _ in range(5)
    ]
    assert answers[:3] == [200, 200, 200]
    assert answers[3:] == [429, 429]


def test_a_valid_token_lifts_the_rate_limit(limited: tuple[TestClient, str]) -> None:
    client, token = limited
    for _ in range(3):
        assert client.get("/log/checkpoint").status_code == 200
    assert client.get("/log/checkpoint").status_code == 429
    for _ in range(10):  # the same client, now with a token that authenticates
        assert client.get("/log/checkpoint", headers=bearer(token)).status_code == 200


def test_a_revoked_token_does_not_lift_the_rate_limit(limited: tuple[TestClient, str]) -> None:
    client, _ = limited
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    revoked = runtime.directory.new_token("gd-clc", ["issue"], "t", utcnow())
    runtime.directory.revoke_token(revoked, utcnow())
    answers = [client.get("/log/checkpoint", headers=bearer(revoked)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


def test_an_expired_label_is_not_graded(api: Api) -> None:  # noqa: F811
    """A grade is valid no longer than its label: once the label has expired, grading it
    would sign a credential already over."""
    import time

    from tests.test_issuer_http import RULE

    client, tokens = api
    assert client.post("/grading-rules", json=RULE, headers=bearer(tokens["authority"])).is_success
    request = copy.deepcopy(REQUEST)
    request["validUntil"] = _iso(timedelta(seconds=2))
    label = client.post("/labels", json=request, headers=bearer(tokens["issue"]))
    assert label.status_code == 201, label.text
    time.sleep(2.5)
    size = tree_size(client)
    response = client.post(
        "/grades",
        json={
            "label": label.json()["labelNumber"],
            "rule": {"id": RULE["id"], "version": RULE["version"]},
        },
        headers=bearer(tokens["issue"]),
    )
    assert response.status_code == 422, response.text
    assert pointers(response) == {"/label"}
    assert tree_size(client) == size
