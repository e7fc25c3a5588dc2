"""VC 2.0 structure and validity-window checks name the failed rule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from credentials.errors import VerificationError
from credentials.vc import check_structure, check_validity, issuer_id

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def credential(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": {"id": "did:web:issuer.example", "name": "Issuer"},
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": "urn:x:1"},
    }
    document.update(changes)
    return {k: v for k, v in document.items() if v is not None}


def test_a_well_formed_credential_passes() -> None:
    check_structure(credential())
    check_validity(credential(), NOW)
    assert issuer_id(credential()) == "did:web:issuer.example"
    assert issuer_id(credential(issuer="did:key:z6Mk")) == "did:key:z6Mk"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"@context": ["https://www.w3.org/2018/credentials/v1"]}, "INVALID_CONTEXT"),
        ({"type": ["SomethingElse"]}, "INVALID_TYPE"),
        ({"issuer": None}, "INVALID_ISSUER"),
        ({"issuer": {"name": "no id"}}, "INVALID_ISSUER"),
        ({"credentialSubject": {}}, "INVALID_SUBJECT"),
        ({"id": "not a url"}, "INVALID_ID"),
        ({"validFrom": "2026-01-01"}, "INVALID_DATETIME"),
        ({"validUntil": "2027-01-01T00:00:00"}, "INVALID_DATETIME"),
    ],
)
def test_structure_failures_name_the_rule(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(VerificationError) as caught:
        check_structure(credential(**changes))
    assert (caught.value.check, caught.value.reason) == ("structure", reason)


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        (datetime(2025, 12, 31, tzinfo=UTC), "NOT_YET_VALID"),
        (datetime(2027, 1, 2, tzinfo=UTC), "EXPIRED"),
    ],
)
def test_validity_window(now: datetime, reason: str) -> None:
    with pytest.raises(VerificationError) as caught:
        check_validity(credential(), now)
    assert (caught.value.check, caught.value.reason) == ("validity", reason)
