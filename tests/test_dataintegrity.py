"""Data Integrity sign/verify: tampering, purposes, challenge/domain, time, safe mode,
offline contexts, and a UNTP DCC label credential."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import socket
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from pyld import jsonld

from credentials.canonical import canonicalize_rdfc, expand
from credentials.dataintegrity import (
    ResolvedVerificationMethod,
    did_key_method_resolver,
    sign,
    sign_serialized,
    verification_method_from_document,
    verify,
    verify_proof_set,
)
from credentials.didkey import did_key_from_public_key, did_key_verification_method_id
from credentials.errors import (
    ContextError,
    ProofVerificationError,
    PurposeError,
    UndefinedTermError,
)
from credentials.loader import BUNDLED_CONTEXTS, document_loader, register_context
from credentials.multikey import Ed25519KeyPair

VECTORS = Path(__file__).parent / "vectors" / "vc-di-eddsa"
SUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
NOW = datetime(2026, 1, 1, tzinfo=UTC)
CREATED = datetime(2025, 10, 1, tzinfo=UTC)
TEST_CONTEXT_URL = "https://registry.gd-carbon-label.example/contexts/test-only/v1"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text("utf-8"))
    return data


@pytest.fixture(scope="module")
def key() -> Ed25519KeyPair:
    pair = Ed25519KeyPair.generate()
    did = did_key_from_public_key(pair.public_key)
    return Ed25519KeyPair(
        pair.public_key, pair.private_key, did_key_verification_method_id(did), did
    )


def alumni() -> dict[str, Any]:
    doc: dict[str, Any] = load("eddsa-rdfc-2022.json")["unsignedDocument"]
    return doc


def signed(
    key: Ed25519KeyPair, suite: str, doc: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    assert key.id is not None
    return sign(
        doc if doc is not None else alumni(),
        key,
        verification_method=key.id,
        cryptosuite=suite,
        created=kw.pop("created", CREATED),
        **kw,
    )


def check(doc: dict[str, Any], **kw: Any) -> Any:
    kw.setdefault("now", NOW)
    return verify(doc, resolve_method=did_key_method_resolver, **kw)


def reason(doc: dict[str, Any], **kw: Any) -> str:
    with pytest.raises(ProofVerificationError) as excinfo:
        check(doc, **kw)
    assert excinfo.value.check == "proof"
    return excinfo.value.reason


# --- round trips -------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
def test_sign_verify_round_trip(key: Ed25519KeyPair, suite: str) -> None:
    doc = signed(key, suite)
    result = check(doc)
    assert result.verification_method.controller == key.controller
    assert "proof" not in result.document


@pytest.mark.parametrize("suite", SUITES)
def test_presentation_authentication_with_challenge_and_domain(
    key: Ed25519KeyPair, suite: str
) -> None:
    vp = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": key.controller,
        "verifiableCredential": [
            {**signed(key, suite), "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33"}
        ],
    }
    vp_signed = signed(
        key, suite, vp, proof_purpose="authentication", challenge="c-123", domain="example.org"
    )
    ok = dict(expected_purpose="authentication", challenge="c-123", domain="example.org")
    assert check(vp_signed, **ok).proof_purpose == "authentication"
    assert reason(vp_signed, **{**ok, "challenge": "other"}) == "INVALID_CHALLENGE_ERROR"
    assert reason(vp_signed, **{**ok, "domain": "evil.example"}) == "INVALID_DOMAIN_ERROR"
    assert reason(vp_signed) == "PROOF_PURPOSE_MISMATCH"
    no_challenge = signed(key, suite, vp, proof_purpose="authentication")
    assert reason(no_challenge, **ok) == "INVALID_CHALLENGE_ERROR"


# --- tampering -----------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
def test_changed_subject_value(key: Ed25519KeyPair, suite: str) -> None:
    doc = signed(key, suite)
    doc["credentialSubject"]["alumniOf"] = "The School of Forgeries"
    assert reason(doc) == "SIGNATURE_MISMATCH"


@pytest.mark.parametrize("suite", SUITES)
def test_changed_proof_created(key: Ed25519KeyPair, suite: str) -> None:
    doc = signed(key, suite)
    doc["proof"]["created"] = "2025-10-02T00:00:00Z"
    assert reason(doc) == "SIGNATURE_MISMATCH"


@pytest.mark.parametrize("suite", SUITES)
def test_wrong_key(key: Ed25519KeyPair, suite: str) -> None:
    other = Ed25519KeyPair.generate()
    assert key.id is not None
    doc = sign(alumni(), other, verification_method=key.id, cryptosuite=suite, created=CREATED)
    assert reason(doc) == "SIGNATURE_MISMATCH"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        pytest.param("type", "Ed25519Signature2020", "INVALID_PROOF_TYPE", id="wrong-type"),
        pytest.param("cryptosuite", "ecdsa-rdfc-2019", "UNSUPPORTED_CRYPTOSUITE", id="suite"),
        pytest.param("proofValue", "u" + "A" * 86, "MALFORMED_PROOF_VALUE", id="not-base58"),
        pytest.param("proofValue", "z3", "MALFORMED_PROOF_VALUE", id="short-signature"),
        pytest.param("proofPurpose", None, "MISSING_PROOF_PURPOSE", id="no-purpose"),
        pytest.param("proofPurpose", "authentication", "PROOF_PURPOSE_MISMATCH", id="purpose"),
        pytest.param("created", "2025-10-01", "MALFORMED_TIMESTAMP", id="date-only"),
        pytest.param("created", "2026-06-01T00:00:00Z", "CREATED_IN_FUTURE", id="future"),
        pytest.param("expires", "2025-12-31T00:00:00Z", "PROOF_EXPIRED_ERROR", id="expired"),
        pytest.param("previousProof", "urn:uuid:1", "UNSUPPORTED_PROOF_CHAIN", id="chain"),
        pytest.param("verificationMethod", None, "MALFORMED_PROOF", id="no-method"),
    ],
)
def test_proof_options_rejected(
    key: Ed25519KeyPair, field: str, value: str | None, expected: str
) -> None:
    doc = signed(key, "eddsa-rdfc-2022")
    if value is None:
        del doc["proof"][field]
    else:
        doc["proof"][field] = value
    assert reason(doc) == expected


def test_expires_in_future_accepted(key: Ed25519KeyPair) -> None:
    doc = signed(key, "eddsa-rdfc-2022", expires=NOW + timedelta(days=1))
    assert check(doc).proof["expires"] == "2026-01-02T00:00:00Z"
    assert reason(doc, now=NOW + timedelta(days=2)) == "PROOF_EXPIRED_ERROR"


def test_no_proof(key: Ed25519KeyPair) -> None:
    assert reason(alumni()) == "MALFORMED_PROOF"


def test_jcs_context_must_prefix_document_context(key: Ed25519KeyPair) -> None:
    doc = signed(key, "eddsa-jcs-2022")
    doc["@context"] = ["https://www.w3.org/ns/credentials/v2"]
    assert reason(doc) == "CONTEXT_MISMATCH"


# --- verification methods and controller relationships ------------------------


def test_method_not_listed_under_purpose(key: Ed25519KeyPair) -> None:
    assert key.controller is not None and key.id is not None
    controller_doc = {
        "id": key.controller,
        "verificationMethod": [key.to_multikey_document()],
        "authentication": [key.id],  # but not assertionMethod
    }

    def resolver(method_id: str) -> ResolvedVerificationMethod:
        return verification_method_from_document(controller_doc, method_id)

    doc = signed(key, "eddsa-rdfc-2022")
    with pytest.raises(PurposeError) as excinfo:
        verify(doc, resolve_method=resolver, now=NOW)
    assert excinfo.value.reason == "METHOD_NOT_AUTHORIZED"
    controller_doc["assertionMethod"] = ["#" + key.id.split("#")[1]]  # relative reference
    assert verify(doc, resolve_method=resolver, now=NOW).proof_purpose == "assertionMethod"


def test_method_controlled_by_someone_else(key: Ed25519KeyPair) -> None:
    assert key.id is not None
    method = key.to_multikey_document(controller="did:example:mallory")
    controller_doc = {
        "id": key.controller,
        "verificationMethod": [method],
        "assertionMethod": [key.id],
    }
    doc = signed(key, "eddsa-rdfc-2022")
    assert _reason_with(doc, controller_doc) == "VERIFICATION_METHOD_ERROR"


def _reason_with(doc: dict[str, Any], controller_doc: dict[str, Any]) -> str:
    with pytest.raises(ProofVerificationError) as excinfo:
        verify(
            doc,
            resolve_method=lambda m: verification_method_from_document(controller_doc, m),
            now=NOW,
        )
    return excinfo.value.reason


def test_unresolvable_did(key: Ed25519KeyPair) -> None:
    doc = signed(key, "eddsa-rdfc-2022")
    doc["proof"]["verificationMethod"] = "did:key:zNotAKey#zNotAKey"
    assert reason(doc) == "VERIFICATION_METHOD_ERROR"


# --- proof sets ------------------------------------------------------------------


def test_proof_set(key: Ed25519KeyPair) -> None:
    second = Ed25519KeyPair.generate()
    did2 = did_key_from_public_key(second.public_key)
    doc = signed(key, "eddsa-rdfc-2022")
    both = sign(
        doc, second, verification_method=did_key_verification_method_id(did2),
        cryptosuite="eddsa-jcs-2022", created=CREATED,
    )  # fmt: skip
    assert isinstance(both["proof"], list) and len(both["proof"]) == 2
    results = verify_proof_set(both, resolve_method=did_key_method_resolver, now=NOW)
    assert [r.cryptosuite for r in results] == SUITES
    assert reason(both) == "MALFORMED_PROOF"  # verify() wants exactly one
    both["proof"][1]["proofValue"] = doc["proof"]["proofValue"]
    with pytest.raises(ProofVerificationError):
        verify_proof_set(both, resolve_method=did_key_method_resolver, now=NOW)


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("already_signed", [False, True])
def test_sign_serialized_gives_the_signed_document_and_its_jcs_bytes(
    key: Ed25519KeyPair, suite: str, already_signed: bool
) -> None:
    """The same signed document as sign(), and exactly the RFC 8785 bytes of it
    (with eddsa-jcs-2022 they are spliced from the canonical members, not re-walked)."""
    assert key.id is not None
    doc = signed(key, "eddsa-rdfc-2022") if already_signed else alumni()
    document, canonical = sign_serialized(
        doc, key, verification_method=key.id, cryptosuite=suite, created=CREATED
    )
    assert document == sign(
        doc, key, verification_method=key.id, cryptosuite=suite, created=CREATED
    )
    assert canonical == rfc8785.dumps(document)
    if already_signed:
        assert len(verify_proof_set(document, resolve_method=did_key_method_resolver, now=NOW)) == 2
    else:
        check(document)


# --- safe mode and offline contexts ----------------------------------------------


def vc2_only() -> dict[str, Any]:
    """A credential under the VC 2.0 context alone, which has no @vocab (the examples
    context has one, so under it every term is "defined")."""
    doc = alumni()
    doc["@context"] = ["https://www.w3.org/ns/credentials/v2"]
    doc["type"] = ["VerifiableCredential"]
    doc["credentialSubject"] = {"id": "did:example:abcdefgh"}
    return doc


def test_undefined_term_in_subject(key: Ed25519KeyPair) -> None:
    doc = vc2_only()
    canonicalize_rdfc(doc)
    doc["credentialSubject"]["favouriteColour"] = "green"
    with pytest.raises(UndefinedTermError) as excinfo:
        canonicalize_rdfc(doc)
    assert excinfo.value.term == "favouriteColour"
    assert excinfo.value.pointer == "/credentialSubject/favouriteColour"
    with pytest.raises(UndefinedTermError):
        signed(key, "eddsa-rdfc-2022", doc)
    forged = signed(key, "eddsa-rdfc-2022", vc2_only())
    forged["credentialSubject"]["favouriteColour"] = "green"
    assert reason(forged) == "UNDEFINED_TERM"


def test_undefined_type() -> None:
    doc = vc2_only()
    doc["credentialSubject"]["type"] = "GraduatePerson"
    with pytest.raises(UndefinedTermError) as excinfo:
        canonicalize_rdfc(doc)
    assert excinfo.value.term == "GraduatePerson"
    assert excinfo.value.pointer == "/credentialSubject/type"


def test_undefined_prefix() -> None:
    doc = alumni()
    doc["credentialSubject"]["gdcl:pcf"] = "1234.5"
    with pytest.raises(UndefinedTermError) as excinfo:
        canonicalize_rdfc(doc)
    assert excinfo.value.term == "gdcl:pcf"
    assert excinfo.value.pointer == "/credentialSubject/gdcl:pcf"


def test_relative_id() -> None:
    doc = alumni()
    doc["credentialSubject"]["id"] = "abcdefgh"
    with pytest.raises(UndefinedTermError):
        canonicalize_rdfc(doc)


def test_unknown_context_refused_without_network(
    key: Ed25519KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    doc = alumni()
    doc["@context"] = [*doc["@context"], "https://evil.example/context.jsonld"]
    with pytest.raises(ContextError) as excinfo:
        canonicalize_rdfc(doc)
    assert excinfo.value.url == "https://evil.example/context.jsonld"
    good = signed(key, "eddsa-rdfc-2022")
    good["@context"] = doc["@context"]
    assert reason(good) == "UNKNOWN_CONTEXT"
    with pytest.raises(ContextError):
        document_loader("https://w3id.org/citizenship/v4rc1")


def test_register_context_refuses_redefinition() -> None:
    with pytest.raises(ContextError):
        register_context("https://www.w3.org/ns/credentials/v2", {"@context": {}})
    register_context("https://test.example/ctx/v1", {"@context": {"a": "https://test.example/a"}})
    register_context("https://test.example/ctx/v1", {"@context": {"a": "https://test.example/a"}})
    with pytest.raises(ContextError):
        register_context("https://test.example/ctx/v1", {"@context": {"a": "https://evil/a"}})


def test_bundled_contexts_match_sources() -> None:
    sources = resources.files("credentials").joinpath("contexts", "SOURCES.md").read_text("utf-8")
    table = dict(re.findall(r"\| (\S+\.jsonld) \| ([0-9a-f]{64}) \|", sources))
    assert set(table) == set(BUNDLED_CONTEXTS.values())
    for url, name in BUNDLED_CONTEXTS.items():
        raw = resources.files("credentials").joinpath("contexts", name).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == table[name], url
        assert document_loader(url)["document"] == json.loads(raw)


# --- UNTP DCC label credential ----------------------------------------------------


def label_credential() -> dict[str, Any]:
    """The project's example label, with its own (not yet bundled) gdcl context swapped
    for a small test context, and the three types the working DCC context does not
    define (Metric, Measure, ProductVerification) removed."""
    doc = load("gd-carbon-label-dcc.example.json")
    doc["@context"][2] = TEST_CONTEXT_URL
    subject = doc["credentialSubject"]
    del subject["assessment"][0]["declaredValue"][0]["type"]
    del subject["assessment"][0]["declaredValue"][0]["metricValue"]["type"]
    del subject["assessment"][0]["assessedProduct"][0]["type"]
    return doc


def register_test_label_context() -> None:
    register_context(
        TEST_CONTEXT_URL,
        {
            "@context": {
                "@version": 1.1,
                "gdcl": "https://registry.gd-carbon-label.example/vocab#",
                "GuangdongCarbonLabelCredential": "gdcl:GuangdongCarbonLabelCredential",
                "gdcl:pcf": {"@id": "gdcl:pcf", "@type": "@json"},
                "gdcl:labelInstancePolicy": {"@id": "gdcl:labelInstancePolicy", "@type": "@json"},
            }
        },
    )


def test_example_label_types_undefined_by_dcc_context() -> None:
    register_test_label_context()
    doc = load("gd-carbon-label-dcc.example.json")
    doc["@context"][2] = TEST_CONTEXT_URL
    with pytest.raises(UndefinedTermError) as excinfo:
        expand(doc)
    assert excinfo.value.term == "Metric"
    assert excinfo.value.pointer == "/credentialSubject/assessment/0/declaredValue/0/type"


@pytest.mark.parametrize("suite", SUITES)
def test_untp_dcc_label_sign_verify(key: Ed25519KeyPair, suite: str) -> None:
    register_test_label_context()
    doc = signed(key, suite, label_credential())
    assert check(doc).cryptosuite == suite
    tampered = copy.deepcopy(doc)
    tampered["credentialSubject"]["gdcl:pcf"]["pcfExcludingBiogenicUptake"] = "123.4"
    assert reason(tampered) == "SIGNATURE_MISMATCH"


def test_rdfc_matches_plain_pyld_and_is_stable() -> None:
    """The context memo and single expansion must not change the output."""
    register_test_label_context()
    doc = label_credential()
    plain = jsonld.normalize(
        copy.deepcopy(doc),
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "base": None,
            "documentLoader": document_loader,
        },
    )
    assert canonicalize_rdfc(doc) == plain
    assert canonicalize_rdfc(doc) == plain
    assert canonicalize_rdfc(alumni()) == load("eddsa-rdfc-2022.json")["canonicalDocument"]
