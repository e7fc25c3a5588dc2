"""Ed25519 Multikey encoding and did:key (spec key pair from vc-di-eddsa)."""

from __future__ import annotations

import json
from pathlib import Path

import base58
import pytest

from credentials.didkey import (
    did_key_from_public_key,
    did_key_verification_method_id,
    parse_did_key,
    resolve_did_key,
)
from credentials.errors import DIDResolutionError, KeyFormatError
from credentials.multikey import (
    Ed25519KeyPair,
    decode_public_key_multibase,
    decode_secret_key_multibase,
    encode_public_key_multibase,
    encode_secret_key_multibase,
    public_key_bytes,
)

KEY_PAIR = json.loads(
    (Path(__file__).parent / "vectors" / "vc-di-eddsa" / "keyPair.json").read_text("utf-8")
)
PUBLIC = KEY_PAIR["publicKeyMultibase"]
SECRET = KEY_PAIR["secretKeyMultibase"]


def test_spec_key_pair_decodes() -> None:
    public_key = decode_public_key_multibase(PUBLIC)
    assert public_key_bytes(public_key).hex() == KEY_PAIR["publicKeyRawHex"]
    private_key = decode_secret_key_multibase(SECRET)
    assert public_key_bytes(private_key.public_key()).hex() == KEY_PAIR["publicKeyRawHex"]


def test_spec_key_pair_round_trips() -> None:
    pair = Ed25519KeyPair.from_multibase(PUBLIC, SECRET)
    assert pair.public_key_multibase == PUBLIC
    assert pair.secret_key_multibase == SECRET
    assert encode_public_key_multibase(pair.public_key) == PUBLIC
    assert pair.private_key is not None
    assert encode_secret_key_multibase(pair.private_key) == SECRET


def test_generated_keys_have_multikey_prefixes() -> None:
    pair = Ed25519KeyPair.generate()
    assert pair.public_key_multibase.startswith("z6Mk")
    assert pair.secret_key_multibase.startswith("z3u2")
    again = Ed25519KeyPair.from_multibase(pair.public_key_multibase, pair.secret_key_multibase)
    assert again.public_key_multibase == pair.public_key_multibase


def test_multikey_document() -> None:
    pair = Ed25519KeyPair.from_multibase(PUBLIC)
    doc = pair.to_multikey_document("did:example:123#key-1", "did:example:123")
    assert doc == {
        "@context": "https://w3id.org/security/multikey/v1",
        "id": "did:example:123#key-1",
        "type": "Multikey",
        "controller": "did:example:123",
        "publicKeyMultibase": PUBLIC,
    }
    with pytest.raises(KeyFormatError):
        pair.to_multikey_document()
    with pytest.raises(KeyFormatError):
        pair.sign(b"verify-only")


def _mb(raw: bytes) -> str:
    return "z" + base58.b58encode(raw).decode()


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("z", id="prefix-only"),
        pytest.param(PUBLIC[1:], id="no-multibase-prefix"),
        pytest.param("m" + PUBLIC[1:], id="base64-multibase"),
        pytest.param(PUBLIC[:-1] + "0", id="non-base58-char"),
        pytest.param(PUBLIC[:-2], id="truncated"),
        pytest.param(SECRET, id="secret-as-public"),
        pytest.param(_mb(b"\xe7\x01" + bytes(33)), id="secp256k1-prefix"),
        pytest.param(_mb(b"\xed\x01" + bytes(33)), id="33-byte-key"),
    ],
)
def test_public_key_rejects(value: str) -> None:
    with pytest.raises(KeyFormatError):
        decode_public_key_multibase(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(PUBLIC, id="public-as-secret"),
        pytest.param(_mb(b"\x80\x26" + bytes(31)), id="31-byte-seed"),
        pytest.param(SECRET[:-1], id="truncated"),
    ],
)
def test_secret_key_rejects(value: str) -> None:
    with pytest.raises(KeyFormatError):
        decode_secret_key_multibase(value)


def test_mismatched_pair_rejected() -> None:
    other = Ed25519KeyPair.generate()
    with pytest.raises(KeyFormatError):
        Ed25519KeyPair.from_multibase(PUBLIC, other.secret_key_multibase)


def test_did_key_round_trip() -> None:
    public_key = decode_public_key_multibase(PUBLIC)
    did = did_key_from_public_key(public_key)
    assert did == KEY_PAIR["didKey"]
    assert did_key_verification_method_id(did) == KEY_PAIR["verificationMethod"]
    assert public_key_bytes(parse_did_key(did)) == public_key_bytes(public_key)
    doc = resolve_did_key(did)
    method_id = KEY_PAIR["verificationMethod"]
    assert doc["id"] == did
    assert doc["verificationMethod"] == [
        {"id": method_id, "type": "Multikey", "controller": did, "publicKeyMultibase": PUBLIC}
    ]
    for relationship in (
        "authentication",
        "assertionMethod",
        "capabilityInvocation",
        "capabilityDelegation",
    ):
        assert doc[relationship] == [method_id]


@pytest.mark.parametrize(
    "did",
    [
        pytest.param("did:web:example.com", id="other-method"),
        pytest.param("did:key:", id="empty-id"),
        pytest.param("did:key:" + PUBLIC[1:], id="no-multibase-prefix"),
        pytest.param(KEY_PAIR["verificationMethod"], id="did-url-with-fragment"),
        pytest.param("did:key:" + PUBLIC + "/path", id="did-url-with-path"),
        pytest.param("did:key:1:" + PUBLIC, id="version"),
        pytest.param("did:key:" + SECRET, id="secret-key"),
        pytest.param("did:key:zDnaegE6RR3atJtHKwTRTWHsJ3kNHqFwv7n9YjTgmU7TyfU76", id="p256-key"),
    ],
)
def test_malformed_did_key(did: str) -> None:
    with pytest.raises(DIDResolutionError):
        resolve_did_key(did)
