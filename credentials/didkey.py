"""did:key for Ed25519 (W3C CCG "The did:key Method" v0.9, §3.1 "Document creation").

``did:key:z6Mk…`` where the method-specific id is the key's ``publicKeyMultibase``;
its DID document has one Multikey verification method ``did:key:z6Mk…#z6Mk…``
listed under authentication, assertionMethod, capabilityInvocation and
capabilityDelegation. Resolution is pure computation: nothing is fetched, and
the key decoding is cached by :func:`credentials.multikey.decode_public_key_multibase`.
"""

from __future__ import annotations

from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from credentials.errors import DIDResolutionError, KeyFormatError
from credentials.multikey import (
    MULTIKEY_CONTEXT,
    decode_public_key_multibase,
    encode_public_key_multibase,
)

__all__ = [
    "DID_KEY_RELATIONSHIPS",
    "did_key_from_public_key",
    "did_key_verification_method_id",
    "parse_did_key",
    "resolve_did_key",
]

DID_CONTEXT: Final = "https://www.w3.org/ns/did/v1"
DID_KEY_PREFIX: Final = "did:key:"
DID_KEY_RELATIONSHIPS: Final = (
    "authentication",
    "assertionMethod",
    "capabilityInvocation",
    "capabilityDelegation",
)


def did_key_from_public_key(public_key: Ed25519PublicKey) -> str:
    """``did:key:z6Mk…`` for an Ed25519 public key."""
    return DID_KEY_PREFIX + encode_public_key_multibase(public_key)


def did_key_verification_method_id(did: str) -> str:
    """``did:key:z…#z…``: the id of the key's verification method. Raises DIDResolutionError."""
    parse_did_key(did)
    return f"{did}#{did[len(DID_KEY_PREFIX) :]}"


def parse_did_key(did: str) -> Ed25519PublicKey:
    """The Ed25519 public key a did:key encodes.

    Raises DIDResolutionError if ``did`` is not exactly ``did:key:`` + an Ed25519
    ``publicKeyMultibase`` (no path, query or fragment; other key types unsupported).
    """
    if not isinstance(did, str) or not did.startswith(DID_KEY_PREFIX):
        raise DIDResolutionError(f"not a did:key: {did!r}")
    multibase = did[len(DID_KEY_PREFIX) :]
    if any(c in multibase for c in "/?#:;"):
        raise DIDResolutionError(f"not a bare did:key (path, query, fragment or version): {did!r}")
    try:
        return decode_public_key_multibase(multibase)
    except KeyFormatError as exc:
        raise DIDResolutionError(f"did:key is not an Ed25519 Multikey: {did!r}: {exc}") from exc


def resolve_did_key(did: str) -> dict[str, Any]:
    """DID document of an Ed25519 did:key (did:key §3.1.1, Multikey representation).

    Raises DIDResolutionError for a malformed DID or an unsupported key type.
    """
    parse_did_key(did)
    multibase = did[len(DID_KEY_PREFIX) :]
    method_id = f"{did}#{multibase}"
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": [
            {
                "id": method_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multibase,
            }
        ],
        **{relationship: [method_id] for relationship in DID_KEY_RELATIONSHIPS},
    }
