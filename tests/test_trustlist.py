"""The signed trust list (verifier.trustlist): round trip, pinned authority, window, format."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from credentials.didkey import did_key_from_public_key, did_key_verification_method_id
from credentials.multikey import Ed25519KeyPair
from ledger.checkpoint import CosignatureSigner
from ledger.note import NoteSigner
from verifier.errors import TrustListError
from verifier.trustlist import (
    IssuerScopes,
    TrustedIssuer,
    TrustedLog,
    build_trust_list,
    load_trust_list,
    sign_trust_list,
)

NOW = datetime(2026, 1, 15, tzinfo=UTC)
ISSUED = datetime(2025, 9, 1, tzinfo=UTC)
UNTIL = datetime(2027, 1, 1, tzinfo=UTC)
ORIGIN = "log.gd-carbon-label.example/v1"
ISSUER_DID = "did:web:registry.gd-carbon-label.example:issuers:gdlc-clc"


def _authority() -> tuple[Ed25519KeyPair, str, str]:
    key = Ed25519KeyPair.generate()
    did = did_key_from_public_key(key.public_key)
    return key, did, did_key_verification_method_id(did)


AUTHORITY, AUTHORITY_DID, AUTHORITY_METHOD = _authority()
LOG = NoteSigner.generate(ORIGIN)
WITNESS = CosignatureSigner.generate("witness.example/w1")
ISSUER = TrustedIssuer(
    did=ISSUER_DID,
    name="广东省碳标签专业委员会",
    uscc="12440000MB2C401574",
    valid_from=datetime(2025, 1, 1, tzinfo=UTC),
    valid_until=None,
    scopes=IssuerScopes(
        frozenset({"CarbonLabelCredential", "GradeResultCredential"}),
        frozenset({"room-air-conditioner", "lithium-battery"}),
    ),
    jurisdiction="CN-GD",
)


def _document(**changes: Any) -> dict[str, Any]:
    document = build_trust_list(
        id="https://registry.gd-carbon-label.example/trust-list/7",
        version=7,
        issued=ISSUED,
        valid_until=UNTIL,
        issuers=[ISSUER],
        logs=[TrustedLog(ORIGIN, LOG.verifier())],
        witnesses=[WITNESS.verifier()],
        witness_quorum=1,
    )
    document.update(changes)
    return document


def _signed(
    document: dict[str, Any] | None = None,
    key: Ed25519KeyPair = AUTHORITY,
    method: str = AUTHORITY_METHOD,
) -> dict[str, Any]:
    return sign_trust_list(document or _document(), key, method, ISSUED)


def test_round_trip_and_lookups() -> None:
    trust_list = load_trust_list(_signed(), authority=AUTHORITY_DID, now=NOW)
    assert trust_list.version == 7
    assert trust_list.authority == AUTHORITY_METHOD
    assert trust_list.issuer(ISSUER_DID) == ISSUER
    assert trust_list.issuer("did:web:elsewhere.example") is None
    verifier = trust_list.log_verifier(ORIGIN)
    assert verifier is not None and verifier.vkey() == LOG.verifier().vkey()
    assert trust_list.log_verifier("other.example/log") is None
    assert trust_list.witnesses == (WITNESS.verifier(),)
    assert trust_list.witness_quorum == 1


def test_signed_plain_json_has_no_context_and_uses_jcs() -> None:
    signed = _signed()
    assert "@context" not in signed
    assert signed["proof"]["cryptosuite"] == "eddsa-jcs-2022"


def test_a_document_with_a_context_is_accepted_too() -> None:
    document = _document(**{"@context": ["https://www.w3.org/ns/credentials/v2"]})
    assert load_trust_list(_signed(document), authority=AUTHORITY_DID, now=NOW).version == 7


def test_authority_may_be_pinned_to_one_method() -> None:
    load_trust_list(_signed(), authority=AUTHORITY_METHOD, now=NOW)
    with pytest.raises(TrustListError) as caught:
        load_trust_list(_signed(), authority=AUTHORITY_DID + "#other", now=NOW)
    assert caught.value.reason == "UNTRUSTED_SIGNER"


def test_trust_list_signed_by_another_key_is_refused() -> None:
    other, _, other_method = _authority()
    with pytest.raises(TrustListError) as caught:
        load_trust_list(_signed(key=other, method=other_method), authority=AUTHORITY_DID, now=NOW)
    assert caught.value.reason == "UNTRUSTED_SIGNER"


def test_another_key_claiming_the_authority_method_is_refused() -> None:
    other, _, _ = _authority()
    forged = _signed(key=other, method=AUTHORITY_METHOD)
    with pytest.raises(TrustListError) as caught:
        load_trust_list(forged, authority=AUTHORITY_DID, now=NOW)
    assert caught.value.reason == "INVALID_PROOF"


def test_tampering_after_signing_is_refused() -> None:
    signed = _signed()
    signed["issuers"][0]["scopes"]["productCategories"].append("steel")
    with pytest.raises(TrustListError) as caught:
        load_trust_list(signed, authority=AUTHORITY_DID, now=NOW)
    assert caught.value.reason == "INVALID_PROOF"


def test_unsigned_trust_list_is_refused() -> None:
    with pytest.raises(TrustListError) as caught:
        load_trust_list(_document(), authority=AUTHORITY_DID, now=NOW)
    assert caught.value.reason == "INVALID_PROOF"


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        pytest.param(datetime(2025, 8, 31, tzinfo=UTC), "TRUST_LIST_NOT_YET_VALID", id="before"),
        pytest.param(datetime(2027, 1, 2, tzinfo=UTC), "TRUST_LIST_EXPIRED", id="after"),
    ],
)
def test_validity_window(now: datetime, reason: str) -> None:
    signed = sign_trust_list(
        _document(), AUTHORITY, AUTHORITY_METHOD, datetime(2025, 1, 1, tzinfo=UTC)
    )
    with pytest.raises(TrustListError) as caught:
        load_trust_list(signed, authority=AUTHORITY_DID, now=now)
    assert caught.value.reason == reason


def _set_issuer(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["issuers"][0][name] = value

    return change


def _other_log_name(document: dict[str, Any]) -> None:
    document["logs"][0]["key"] = NoteSigner.generate("other.example/log").verifier().vkey()


def _duplicate_issuer(document: dict[str, Any]) -> None:
    document["issuers"].append(dict(document["issuers"][0]))


def _unknown_member(document: dict[str, Any]) -> None:
    document["trustEverybody"] = True


def _quorum_too_high(document: dict[str, Any]) -> None:
    document["witnessQuorum"] = 2


def _wrong_type(document: dict[str, Any]) -> None:
    document["type"] = "VerifiableCredential"


def _version_zero(document: dict[str, Any]) -> None:
    document["version"] = 0


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_unknown_member, id="unknown-member"),
        pytest.param(_wrong_type, id="wrong-type"),
        pytest.param(_version_zero, id="version-zero"),
        pytest.param(_quorum_too_high, id="quorum-above-witnesses"),
        pytest.param(_other_log_name, id="log-key-name-not-origin"),
        pytest.param(_duplicate_issuer, id="duplicate-issuer"),
        pytest.param(_set_issuer("jurisdiction", "TW"), id="unknown-jurisdiction"),
        pytest.param(_set_issuer("validFrom", "2025-01-01"), id="date-without-time"),
        pytest.param(_set_issuer("scopes", {"credentialTypes": []}), id="scope-missing"),
        pytest.param(_set_issuer("did", "https://example.org"), id="issuer-not-a-did"),
    ],
)
def test_malformed_trust_list_is_refused(change: Callable[[dict[str, Any]], None]) -> None:
    document = _document()
    change(document)
    with pytest.raises(TrustListError) as caught:
        load_trust_list(_signed(document), authority=AUTHORITY_DID, now=NOW)
    assert caught.value.reason == "MALFORMED_TRUST_LIST"


@pytest.mark.parametrize(
    ("when", "active"),
    [
        pytest.param(datetime(2024, 12, 31, 23, 59, tzinfo=UTC), False, id="before-validFrom"),
        pytest.param(datetime(2025, 1, 1, tzinfo=UTC), True, id="at-validFrom"),
        pytest.param(datetime(2025, 12, 31, 23, 59, tzinfo=UTC), True, id="inside"),
        pytest.param(datetime(2026, 1, 1, tzinfo=UTC), False, id="at-validUntil"),
    ],
)
def test_issuer_active_window(when: datetime, active: bool) -> None:
    issuer = TrustedIssuer(
        ISSUER.did,
        ISSUER.name,
        ISSUER.uscc,
        datetime(2025, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
        ISSUER.scopes,
        "HK",
    )
    assert issuer.active_at(when) is active
