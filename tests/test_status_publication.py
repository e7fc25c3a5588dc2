"""Every published status list is derived from the logged status events (issue 10, defect 1).

A crash between a status change's log entry and its list's publication must not
hide the change: the next read of the list, or a retry of the change, publishes
a version that holds it. The two-process races are in tests/test_two_servers.py.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.runtime import Runtime
from issuer.store.tables import status_list_versions
from tests.test_issuer_http import api, bearer, issue, status_bit

__all__ = ["api"]  # the fixture, re-used


def _runtime(client: TestClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def _log_without_publishing(client: TestClient, credential: dict[str, Any]) -> None:
    """Log a revocation as a process that dies before publishing its list would."""
    service = _runtime(client).issuer
    row = service._row(credential_id=credential["id"])
    org = service.directory.org_by_id(row.org_id)
    service._log_status(org, row, "revocation", True, service.clock())


def _versions(client: TestClient) -> int:
    with _runtime(client).engine.connect() as conn:
        return len(conn.execute(select(status_list_versions.c.version)).all())


def test_a_list_missing_a_logged_change_is_republished_when_read(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = api
    credential = issue(client, tokens)["verifiableCredential"]
    _log_without_publishing(client, credential)
    assert status_bit(client, credential, "revocation") is True
    verdict = client.post("/credentials/verify", json={"verifiableCredential": credential})
    assert verdict.json()["verdict"] == "revoked"


def test_a_retried_change_republishes_the_list(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    credential = issue(client, tokens)["verifiableCredential"]
    _log_without_publishing(client, credential)
    before = _versions(client)
    response = client.post(
        "/credentials/status",
        json={
            "credentialId": credential["id"],
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status": True,
        },
        headers=bearer(tokens["status"]),
    )
    assert response.status_code == 200 and response.json()["status"]["revocation"] is True
    assert _versions(client) == before + 1  # the retry published; it logged nothing new
    assert status_bit(client, credential, "revocation") is True


def test_an_unchanged_list_is_not_signed_again(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    credential = issue(client, tokens)["verifiableCredential"]
    before = _versions(client)
    for _ in range(3):
        assert status_bit(client, credential, "revocation") is False
    assert _versions(client) == before
