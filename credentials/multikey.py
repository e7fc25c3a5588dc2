"""Ed25519 keys in Multikey form (W3C Controlled Identifiers 1.0 §2.2.2 "Multikey").

* public key:  ``z`` + base58btc(0xed 0x01 || 32-byte public key)  → ``z6Mk…``
* secret key:  ``z`` + base58btc(0x80 0x26 || 32-byte seed)        → ``z3u2…``

(multicodec ``ed25519-pub`` = 0xed, ``ed25519-priv`` = 0x1300, both as varints.)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Final

import base58
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from credentials.errors import KeyFormatError

__all__ = [
    "MULTIKEY_CONTEXT",
    "Ed25519KeyPair",
    "decode_multibase_base58btc",
    "decode_public_key_multibase",
    "decode_secret_key_multibase",
    "encode_multibase_base58btc",
    "encode_public_key_multibase",
    "encode_secret_key_multibase",
    "public_key_bytes",
]

ED25519_PUB_PREFIX: Final = b"\xed\x01"
ED25519_PRIV_PREFIX: Final = b"\x80\x26"
MULTIKEY_CONTEXT: Final = "https://w3id.org/security/multikey/v1"
_PUBLIC_KEY_CACHE_SIZE: Final = 1024
"""Decoded public keys kept (LRU): issuers and their did:key strings are few."""


def encode_multibase_base58btc(data: bytes) -> str:
    """Multibase base58btc (``z`` prefix) of ``data``."""
    return "z" + base58.b58encode(data).decode("ascii")


def decode_multibase_base58btc(value: str) -> bytes:
    """Bytes of a multibase base58btc string. Raises KeyFormatError if not ``z``+base58."""
    if not isinstance(value, str) or not value.startswith("z") or len(value) < 2:
        raise KeyFormatError("expected a multibase base58btc string starting with 'z'")
    try:
        out: bytes = base58.b58decode(value[1:].encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise KeyFormatError("invalid base58btc characters") from exc
    return out


def public_key_bytes(public_key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def encode_public_key_multibase(public_key: Ed25519PublicKey) -> str:
    """``publicKeyMultibase`` (``z6Mk…``) of an Ed25519 public key."""
    return encode_multibase_base58btc(ED25519_PUB_PREFIX + public_key_bytes(public_key))


def decode_public_key_multibase(value: str) -> Ed25519PublicKey:
    """Ed25519 public key from ``publicKeyMultibase``.

    Raises KeyFormatError unless ``value`` is base58btc of 0xed01 || 32 bytes.
    A pure function of the string, so the decoded key (immutable) is cached:
    verifying many credentials from one issuer decodes its key once.
    """
    if not isinstance(value, str):
        raise KeyFormatError("expected a multibase base58btc string starting with 'z'")
    return _decode_public_key_multibase(value)


@functools.lru_cache(maxsize=_PUBLIC_KEY_CACHE_SIZE)
def _decode_public_key_multibase(value: str) -> Ed25519PublicKey:
    raw = decode_multibase_base58btc(value)
    if len(raw) != 34 or raw[:2] != ED25519_PUB_PREFIX:
        raise KeyFormatError("not an Ed25519 Multikey public key (0xed01 + 32 bytes)")
    try:
        return Ed25519PublicKey.from_public_bytes(raw[2:])
    except ValueError as exc:
        raise KeyFormatError("invalid Ed25519 public key") from exc


def encode_secret_key_multibase(private_key: Ed25519PrivateKey) -> str:
    """``secretKeyMultibase`` (``z3u2…``) of an Ed25519 private key (its 32-byte seed)."""
    seed = private_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return encode_multibase_base58btc(ED25519_PRIV_PREFIX + seed)


def decode_secret_key_multibase(value: str) -> Ed25519PrivateKey:
    """Ed25519 private key from ``secretKeyMultibase``.

    Raises KeyFormatError unless ``value`` is base58btc of 0x8026 || 32-byte seed.
    """
    raw = decode_multibase_base58btc(value)
    if len(raw) != 34 or raw[:2] != ED25519_PRIV_PREFIX:
        raise KeyFormatError("not an Ed25519 Multikey secret key (0x8026 + 32 bytes)")
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


@dataclass(frozen=True)
class Ed25519KeyPair:
    """An Ed25519 key pair; ``private_key`` is ``None`` for a verify-only key.

    ``id`` is the verification method id (e.g. ``did:key:z6Mk…#z6Mk…``) and
    ``controller`` the DID that controls it, when known.
    """

    public_key: Ed25519PublicKey
    private_key: Ed25519PrivateKey | None = None
    id: str | None = None
    controller: str | None = None

    @classmethod
    def generate(cls, *, id: str | None = None, controller: str | None = None) -> Ed25519KeyPair:
        """A fresh random key pair (OS randomness via ``cryptography``)."""
        private_key = Ed25519PrivateKey.generate()
        return cls(private_key.public_key(), private_key, id, controller)

    @classmethod
    def from_multibase(
        cls,
        public_key_multibase: str,
        secret_key_multibase: str | None = None,
        *,
        id: str | None = None,
        controller: str | None = None,
    ) -> Ed25519KeyPair:
        """Key pair from Multikey strings. Raises KeyFormatError if malformed or if the
        secret key does not belong to the public key."""
        public_key = decode_public_key_multibase(public_key_multibase)
        private_key = None
        if secret_key_multibase is not None:
            private_key = decode_secret_key_multibase(secret_key_multibase)
            if public_key_bytes(private_key.public_key()) != public_key_bytes(public_key):
                raise KeyFormatError("secret key does not match public key")
        return cls(public_key, private_key, id, controller)

    @property
    def public_key_multibase(self) -> str:
        return encode_public_key_multibase(self.public_key)

    @property
    def secret_key_multibase(self) -> str:
        """Raises KeyFormatError for a verify-only key pair."""
        if self.private_key is None:
            raise KeyFormatError("key pair has no private key")
        return encode_secret_key_multibase(self.private_key)

    def sign(self, data: bytes) -> bytes:
        """Ed25519 signature (RFC 8032) over ``data``. Raises KeyFormatError if verify-only."""
        if self.private_key is None:
            raise KeyFormatError("key pair has no private key")
        return self.private_key.sign(data)

    def to_multikey_document(
        self, id: str | None = None, controller: str | None = None
    ) -> dict[str, Any]:
        """Multikey verification method (CID 1.0 §2.2.2), public part only.

        Uses ``id``/``controller`` or the pair's own; raises KeyFormatError if neither.
        """
        method_id = id if id is not None else self.id
        method_controller = controller if controller is not None else self.controller
        if method_id is None or method_controller is None:
            raise KeyFormatError("a Multikey document needs an id and a controller")
        return {
            "@context": MULTIKEY_CONTEXT,
            "id": method_id,
            "type": "Multikey",
            "controller": method_controller,
            "publicKeyMultibase": self.public_key_multibase,
        }
