"""Ed25519 keys in Multikey form (W3C Controlled Identifiers 1.0 §2.2.2 "Multikey").

* public key:  ``z`` + base58btc(0xed 0x01 || 32-byte public key)  → ``z6Mk…``
* secret key:  ``z`` + base58btc(0x80 0x26 || 32-byte seed)        → ``z3u2…``

(multicodec ``ed25519-pub`` = 0xed, ``ed25519-priv`` = 0x1300, both as varints.)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Final

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


_BASE58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
"""The Bitcoin alphabet (draft-msporny-base58 §2); digit 0 is ``1``."""
_BASE58_PAIRS: Final = tuple(a + b for a in _BASE58_ALPHABET for b in _BASE58_ALPHABET)
"""The 58**2 two-digit strings, by value: encoding looks up two digits at a time."""
_NOT_A_DIGIT: Final = 0xFF
_BASE58_VALUES: Final = bytes(
    _BASE58_ALPHABET.index(chr(c)) if chr(c) in _BASE58_ALPHABET else _NOT_A_DIGIT
    for c in range(256)
)
"""``bytes.translate`` table: an ASCII character to its digit value, or 0xFF."""
_DECODE_BLOCK_ROUNDS: Final = 7
_DECODE_BLOCK: Final = 1 << _DECODE_BLOCK_ROUNDS
"""Digits combined per block (128: one block for a 64-byte signature's 88 digits)."""
_DECODE_BLOCK_BASE: Final = 58**_DECODE_BLOCK


def _pairing_round(round_: int) -> tuple[int, int, int]:
    """Constants of decoding round ``round_`` (see _base58_block), fields of 2**round_ digits."""
    width = 8 << round_
    low_halves = (bytes(width // 8) + b"\xff" * (width // 8)) * (_DECODE_BLOCK // (2 << round_))
    return width, int.from_bytes(low_halves, "big"), 58 ** (1 << round_)


_DECODE_ROUNDS: Final = tuple(_pairing_round(r) for r in range(_DECODE_BLOCK_ROUNDS))
"""Per round: field width in bits, mask of the low field of each pair, 58**digits per field."""


def encode_multibase_base58btc(data: bytes) -> str:
    """Multibase base58btc (``z`` prefix) of ``data``; ``"z"`` for empty ``data``.

    draft-msporny-base58 §3: each leading zero byte becomes a ``1``, the rest is the
    big-endian number in base 58. Output is that of ``base58.b58encode``.
    """
    n = int.from_bytes(data, "big")
    pairs: list[str] = []
    while n:
        n, four_digits = divmod(n, 58**4)  # 58**4 < 2**30: CPython's one-limb division
        pairs.append(_BASE58_PAIRS[four_digits % 58**2])
        pairs.append(_BASE58_PAIRS[four_digits // 58**2])
    pairs.reverse()
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "z" + "1" * zeros + "".join(pairs).lstrip("1")


def _base58_block(values: bytes) -> int:
    """The number whose base-58 digits are ``values`` (at most _DECODE_BLOCK of them).

    ``values`` read as a base-256 number has one digit per 8-bit field; each round
    merges adjacent fields, ``high * 58**digits + low``, into fields twice as wide, on
    all fields at once. A field of 2**r digits is below 58**(2**r) < 2**(8 * 2**r), so
    fields never overflow into each other.
    """
    n = int.from_bytes(values, "big")
    for width, low_halves, base in _DECODE_ROUNDS[: (len(values) - 1).bit_length()]:
        n = ((n >> width) & low_halves) * base + (n & low_halves)
    return n


def decode_multibase_base58btc(value: str) -> bytes:
    """Bytes of a multibase base58btc string. Raises KeyFormatError if not ``z``+base58.

    draft-msporny-base58 §4, with the output of ``base58.b58decode``: each leading ``1``
    becomes a zero byte. Unlike that package, trailing whitespace is refused too: a
    ``proofValue`` has exactly one spelling.
    """
    if not isinstance(value, str) or not value.startswith("z") or len(value) < 2:
        raise KeyFormatError("expected a multibase base58btc string starting with 'z'")
    encoded = value[1:]
    significant = encoded.lstrip("1")
    try:
        values = significant.encode("ascii").translate(_BASE58_VALUES)
    except UnicodeEncodeError as exc:
        raise KeyFormatError("invalid base58btc characters") from exc
    if _NOT_A_DIGIT in values:
        raise KeyFormatError("invalid base58btc characters")
    head = len(values) % _DECODE_BLOCK or _DECODE_BLOCK  # the short block first, the rest full
    n = _base58_block(values[:head])
    for start in range(head, len(values), _DECODE_BLOCK):
        n = n * _DECODE_BLOCK_BASE + _base58_block(values[start : start + _DECODE_BLOCK])
    zeros = len(encoded) - len(significant)
    return bytes(zeros) + n.to_bytes((n.bit_length() + 7) // 8, "big")


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
