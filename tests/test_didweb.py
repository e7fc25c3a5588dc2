"""did:web conversion, DID documents for rotated keys, cached resolution, dispatch."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.dataintegrity import sign, verify
from credentials.didkey import did_key_from_public_key, did_key_verification_method_id
from credentials.didweb import (
    DidResolver,
    DidWebResolver,
    build_did_document,
    did_web_document_url,
    did_web_from_url,
)
from credentials.errors import DIDResolutionError, PurposeError, VerificationMethodError
from credentials.keystore import Argon2idParams, Keystore, KeyVersion
from credentials.multikey import Ed25519KeyPair, encode_public_key_multibase

DID = "did:web:labels.example.cn"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
T1 = datetime(2025, 7, 1, tzinfo=UTC)

# did:web Method Specification, §"Create" / "Read (Resolve)" / "Optional Path
# Considerations" examples, plus the port-only form.
SPEC_TABLE = [
    ("bare-domain", "did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
    (
        "path",
        "did:web:w3c-ccg.github.io:user:alice",
        "https://w3c-ccg.github.io/user/alice/did.json",
    ),
    (
        "port-and-path",
        "did:web:example.com%3A3000:user:alice",
        "https://example.com:3000/user/alice/did.json",
    ),
    ("port", "did:web:example.com%3A3000", "https://example.com:3000/.well-known/did.json"),
    ("optional-path-bob", "did:web:example.com:u:bob", "https://example.com/u/bob/did.json"),
]


@pytest.mark.parametrize(("name", "did", "url"), SPEC_TABLE, ids=[row[0] for row in SPEC_TABLE])
def test_spec_examples_both_ways(name: str, did: str, url: str) -> None:
    assert did_web_document_url(did) == url, name
    assert did_web_from_url(url) == did, name


@pytest.mark.parametrize(
    ("url", "did"),
    [
        ("https://w3c-ccg.github.io", "did:web:w3c-ccg.github.io"),
        ("https://w3c-ccg.github.io/", "did:web:w3c-ccg.github.io"),
        ("https://W3C-CCG.GitHub.io/user/alice", "did:web:w3c-ccg.github.io:user:alice"),
        ("https://example.com:3000/user/alice/", "did:web:example.com%3A3000:user:alice"),
        ("https://example.com/a%20b/c~d", "did:web:example.com:a%20b:c%7Ed"),
        ("https://xn--fiqs8s.example/issuer", "did:web:xn--fiqs8s.example:issuer"),
        ("http://localhost:8000/issuer", "did:web:localhost%3A8000:issuer"),
        ("http://127.0.0.1:8000", "did:web:127.0.0.1%3A8000"),
    ],
)
def test_did_web_from_url(url: str, did: str) -> None:
    assert did_web_from_url(url) == did


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.com/", "http is allowed only"),
        ("ftp://example.com/", "needs an https URL"),
        ("example.com", "needs an https URL"),
        ("https://user:pw@example.com/", "user info"),
        ("https://example.com/?x=1", "query or fragment"),
        ("https://example.com/#key-1", "query or fragment"),
        ("https://192.0.2.1/", "IP addresses"),
        ("https://[2001:db8::1]/", "IP addresses"),
        ("https://bücher.example/", "lowercase ASCII domain"),
        ("https://example.com:99999/", "invalid port"),
        ("https://example.com//x", "empty or dot"),
        ("https://example.com/a/../b", "empty or dot"),
        ("https://example.com/did.json", "no did:web has its document"),
    ],
)
def test_did_web_from_url_refuses(url: str, reason: str) -> None:
    with pytest.raises(DIDResolutionError, match=reason):
        did_web_from_url(url)


def test_document_url_http_only_for_local_development() -> None:
    did = "did:web:localhost%3A8000:issuer"
    assert did_web_document_url(did) == "https://localhost:8000/issuer/did.json"
    assert (
        did_web_document_url(did, allow_insecure_localhost=True)
        == "http://localhost:8000/issuer/did.json"
    )
    assert (
        did_web_document_url("did:web:example.com", allow_insecure_localhost=True)
        == "https://example.com/.well-known/did.json"
    )
    assert did_web_document_url("did:web:example.com%3a3000") == (
        "https://example.com:3000/.well-known/did.json"
    )


@pytest.mark.parametrize(
    "did",
    [
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "did:web:",
        "did:web:Example.com",
        "did:web:example.com#key-1",
        "did:web:example.com/path",
        "did:web:example.com?x=1",
        "did:web:example.com::x",
        "did:web:example.com:..",
        "did:web:example.com:%2e%2E",
        "did:web:example.com%3A",
        "did:web:example.com%3A0",
        "did:web:example.com%3A70000",
        "did:web:10.0.0.1",
        "did:web:-bad-.example",
        "did:web:exa mple.com",
    ],
)
def test_malformed_did_web_refused(did: str) -> None:
    with pytest.raises(DIDResolutionError):
        did_web_document_url(did)


# --- DID documents ----------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Keystore:
    return Keystore(
        tmp_path, "passphrase", kdf=Argon2idParams(memory_cost=64, iterations=1, lanes=1)
    )


def test_document_shape_single_key(store: Keystore) -> None:
    key = store.create("issuer", now=T0)
    assert build_did_document(DID, store.versions("issuer")) == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": DID,
        "verificationMethod": [
            {
                "id": f"{DID}#key-1",
                "type": "Multikey",
                "controller": DID,
                "publicKeyMultibase": key.public_key_multibase,
            }
        ],
        "authentication": [f"{DID}#key-1"],
        "assertionMethod": [f"{DID}#key-1"],
    }


def test_document_after_rotation_keeps_retired_key_for_assertions(store: Keystore) -> None:
    first = store.create("issuer", now=T0)
    second = store.rotate("issuer", now=T1)
    document = build_did_document(DID, store.versions("issuer"))
    assert [m["id"] for m in document["verificationMethod"]] == [f"{DID}#key-1", f"{DID}#key-2"]
    assert [m["publicKeyMultibase"] for m in document["verificationMethod"]] == [
        first.public_key_multibase,
        second.public_key_multibase,
    ]
    assert document["assertionMethod"] == [f"{DID}#key-2", f"{DID}#key-1"]
    assert document["authentication"] == [f"{DID}#key-2"]
    assert all("expires" not in m and "revoked" not in m for m in document["verificationMethod"])


def _version(version: int, not_after: datetime | None, name: str = "issuer") -> KeyVersion:
    public = encode_public_key_multibase(Ed25519PrivateKey.generate().public_key())
    return KeyVersion(name, version, T0, not_after, public)


@pytest.mark.parametrize(
    ("name", "versions"),
    [
        ("empty", []),
        ("no-current", [_version(1, T1)]),
        ("two-current", [_version(1, None), _version(2, None)]),
        ("old-is-current", [_version(1, None), _version(2, T1)]),
        ("duplicate", [_version(1, T1), _version(1, None)]),
        ("two-keys", [_version(1, T1), _version(2, None, name="other")]),
    ],
)
def test_document_refuses_inconsistent_versions(name: str, versions: list[KeyVersion]) -> None:
    with pytest.raises(ValueError):
        build_did_document(DID, versions)


def test_document_needs_did_web() -> None:
    with pytest.raises(DIDResolutionError):
        build_did_document("did:example:123", [_version(1, None)])


# --- resolution -------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeWeb:
    """Serves documents from a dict; records every fetched URL."""

    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents
        self.fetched: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.fetched.append(url)
        if url not in self.documents:
            raise LookupError(f"404 {url}")
        document = self.documents[url]
        return document if isinstance(document, bytes) else json.dumps(document).encode()


WELL_KNOWN = "https://labels.example.cn/.well-known/did.json"


def _resolver(web: FakeWeb, clock: FakeClock, ttl: float = 300) -> DidWebResolver:
    return DidWebResolver(web, ttl, clock)


def test_resolver_caches_within_ttl(store: Keystore) -> None:
    store.create("issuer", now=T0)
    web = FakeWeb({WELL_KNOWN: build_did_document(DID, store.versions("issuer"))})
    clock = FakeClock()
    resolver = _resolver(web, clock, ttl=300)
    first = resolver.resolve(DID)
    clock.now += 299
    assert resolver.resolve(DID) is first
    assert web.fetched == [WELL_KNOWN]
    clock.now += 1
    resolver.resolve(DID)
    assert web.fetched == [WELL_KNOWN, WELL_KNOWN]
    resolver.invalidate(DID)
    resolver.resolve(DID)
    assert len(web.fetched) == 3


def test_rotation_is_seen_after_ttl(store: Keystore) -> None:
    store.create("issuer", now=T0)
    web = FakeWeb({WELL_KNOWN: build_did_document(DID, store.versions("issuer"))})
    clock = FakeClock()
    resolver = _resolver(web, clock, ttl=60)
    resolver.resolve(DID)
    store.rotate("issuer", now=T1)
    web.documents[WELL_KNOWN] = build_did_document(DID, store.versions("issuer"))
    with pytest.raises(VerificationMethodError, match="not in"):
        resolver.resolve_verification_method(f"{DID}#key-2")
    clock.now += 60
    assert resolver.resolve_verification_method(f"{DID}#key-2").relationships == {
        "authentication",
        "assertionMethod",
    }


def test_old_and_new_signatures_verify_through_resolution(store: Keystore) -> None:
    store.create("issuer", now=T0)
    old_signature = store.private_key("issuer").sign(b"spring label")
    store.rotate("issuer", now=T1)
    new_signature = store.private_key("issuer").sign(b"autumn label")
    web = FakeWeb({WELL_KNOWN: build_did_document(DID, store.versions("issuer"))})
    resolver = DidResolver(_resolver(web, FakeClock()))

    method = resolver.resolve_verification_method(f"{DID}#key-1")
    assert method.relationships == {"assertionMethod"}
    assert method.controller == DID
    method.public_key.verify(old_signature, b"spring label")
    # The verifier then checks the proof time against the key's window:
    assert store.versions("issuer")[0].valid_at(datetime(2025, 3, 1, tzinfo=UTC))

    method = resolver.resolve_verification_method(f"{DID}#key-2")
    assert method.relationships == {"authentication", "assertionMethod"}
    method.public_key.verify(new_signature, b"autumn label")


def test_retired_key_proof_verifies_with_dataintegrity(store: Keystore) -> None:
    """A label signed before rotation verifies after it; its proof time is in the window."""
    store.create("issuer", now=T0)
    old_key = store.private_key("issuer")
    spring = datetime(2025, 3, 1, tzinfo=UTC)
    label = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": DID,
        "validFrom": "2025-03-01T00:00:00Z",
        "credentialSubject": {"id": "urn:gtin:06901234567892"},
    }
    signed = sign(
        label,
        Ed25519KeyPair(old_key.public_key(), old_key),
        verification_method=f"{DID}#key-1",
        cryptosuite="eddsa-jcs-2022",
        created=spring,
    )
    store.rotate("issuer", now=T1)
    web = FakeWeb({WELL_KNOWN: build_did_document(DID, store.versions("issuer"))})
    resolver = DidResolver(_resolver(web, FakeClock()))

    verified = verify(signed, resolve_method=resolver.resolve_verification_method)
    assert verified.verification_method.id == f"{DID}#key-1"
    assert verified.created == spring
    store.check_valid_at("issuer", verified.verification_method.id, verified.created)
    # A retired key no longer authenticates.
    with pytest.raises(PurposeError):
        verify(
            signed | {"proof": signed["proof"] | {"proofPurpose": "authentication"}},
            resolve_method=resolver.resolve_verification_method,
            expected_purpose="authentication",
        )


def test_id_mismatch_refused(store: Keystore) -> None:
    store.create("issuer", now=T0)
    other = build_did_document("did:web:evil.example", store.versions("issuer"))
    resolver = _resolver(FakeWeb({WELL_KNOWN: other}), FakeClock())
    with pytest.raises(DIDResolutionError, match=r"expected 'did:web:labels\.example\.cn'"):
        resolver.resolve(DID)


def test_failed_resolution_is_not_cached(store: Keystore) -> None:
    store.create("issuer", now=T0)
    web = FakeWeb({})
    resolver = _resolver(web, FakeClock())
    with pytest.raises(DIDResolutionError, match="could not fetch"):
        resolver.resolve(DID)
    web.documents[WELL_KNOWN] = build_did_document(DID, store.versions("issuer"))
    assert resolver.resolve(DID)["id"] == DID
    assert len(web.fetched) == 2


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("not-json", b"<html>"),
        ("not-utf8", b"\xff\xfe"),
        ("array", b"[]"),
        ("too-big", b" " * (256 * 1024 + 1)),
    ],
)
def test_bad_documents_refused(name: str, body: bytes) -> None:
    resolver = _resolver(FakeWeb({WELL_KNOWN: body}), FakeClock())
    with pytest.raises(DIDResolutionError):
        resolver.resolve(DID)


def test_fetch_uses_path_url() -> None:
    web = FakeWeb({})
    resolver = _resolver(web, FakeClock())
    with pytest.raises(DIDResolutionError):
        resolver.resolve("did:web:example.com%3A8443:issuers:gd")
    assert web.fetched == ["https://example.com:8443/issuers/gd/did.json"]


def _document_with(method_changes: dict[str, Any]) -> dict[str, Any]:
    public = encode_public_key_multibase(Ed25519PrivateKey.generate().public_key())
    method = {
        "id": f"{DID}#key-1",
        "type": "Multikey",
        "controller": DID,
        "publicKeyMultibase": public,
    } | method_changes
    return {"id": DID, "verificationMethod": [method], "assertionMethod": [f"{DID}#key-1"]}


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        ("wrong-type", {"type": "JsonWebKey2020"}),
        ("foreign-controller", {"controller": "did:web:evil.example"}),
        ("no-key", {"publicKeyMultibase": None}),
        ("bad-key", {"publicKeyMultibase": "zABC"}),
    ],
)
def test_unusable_verification_method_refused(name: str, changes: dict[str, Any]) -> None:
    resolver = DidResolver(_resolver(FakeWeb({WELL_KNOWN: _document_with(changes)}), FakeClock()))
    with pytest.raises(VerificationMethodError):
        resolver.resolve_verification_method(f"{DID}#key-1")


@pytest.mark.parametrize("vm", [DID, f"{DID}#", "#key-1", f"{DID}/path#key-1", f"{DID}?v=1#k"])
def test_verification_method_must_be_did_url_with_fragment(vm: str) -> None:
    resolver = DidResolver(_resolver(FakeWeb({WELL_KNOWN: _document_with({})}), FakeClock()))
    with pytest.raises(DIDResolutionError, match="DID URL with a fragment"):
        resolver.resolve_verification_method(vm)


# --- dispatch ---------------------------------------------------------------------------------


def test_did_key_resolves_without_fetching() -> None:
    private_key = Ed25519PrivateKey.generate()
    did = did_key_from_public_key(private_key.public_key())
    web = FakeWeb({})
    resolver = DidResolver(_resolver(web, FakeClock()))
    method = resolver.resolve_verification_method(did_key_verification_method_id(did))
    method.public_key.verify(private_key.sign(b"x"), b"x")
    assert "assertionMethod" in method.relationships
    assert web.fetched == []


@pytest.mark.parametrize(
    ("did", "reason"),
    [
        ("did:example:123", "unsupported DID method 'example'"),
        ("did:ion:EiAbc", "unsupported DID method 'ion'"),
        ("did:webvh:abc:example.com", "unsupported DID method 'webvh'"),
        ("https://example.com", "not a DID"),
    ],
)
def test_unknown_methods_refused(did: str, reason: str) -> None:
    with pytest.raises(DIDResolutionError, match=reason):
        DidResolver(_resolver(FakeWeb({}), FakeClock())).resolve(did)


def test_did_web_needs_a_configured_resolver() -> None:
    with pytest.raises(DIDResolutionError, match="not configured"):
        DidResolver().resolve(DID)
