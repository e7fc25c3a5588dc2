"""C2SP signed-note (c2sp.org/signed-note@v1) with Ed25519 keys (signature type 0x01).

A signed note is a text ending in a newline, a blank line, and one or more
signature lines ``— <key name> base64(key ID || signature)``. A note's text means
nothing until a signature by a trusted key has been verified: :func:`open_note`
is the only way to get at the text of an untrusted note.

Key encodings (signed-note "Verifier keys"; the signer form is the one used by
``golang.org/x/mod/sumdb/note``)::

    vkey  <name>+<hex key ID>+base64(0x01 || 32-byte public key)
    skey  PRIVATE+KEY+<name>+<hex key ID>+base64(0x01 || 32-byte seed)

``key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4]`` (signed-note
"Ed25519 signatures").

Policy beyond the specification: a note may carry at most
:data:`MAX_SIGNATURES` signatures (the spec requires accepting at least 16), and
a note with two signatures by the same known key is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ledger.errors import NoteError

__all__ = [
    "ED25519_SIGNATURE_TYPE",
    "MAX_SIGNATURES",
    "Note",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "Signer",
    "Verifier",
    "add_signatures",
    "b64decode_strict",
    "check_key_name",
    "key_id_for",
    "open_note",
    "parse_note",
    "parse_skey",
    "parse_vkey",
    "sign_note",
    "verify_known_signatures",
]

ED25519_SIGNATURE_TYPE = 0x01
"""signed-note "Signature types": Ed25519 signatures over the note text."""

MAX_SIGNATURES = 100
"""Most signature lines accepted in one note (signed-note "Format": at least 16)."""

KEY_ID_SIZE = 4
_ED25519_KEY_SIZE = 32
_ED25519_SIG_SIZE = 64
_SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_SKEY_PREFIX = "PRIVATE+KEY+"


class Signer(Protocol):
    """Anything that signs a note text under a key name and key ID."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def sign(self, text: str) -> bytes:
        """The signature bytes that follow the key ID in the signature line."""
        ...


class Verifier(Protocol):
    """Anything that verifies a note signature made under a key name and key ID."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def verify(self, text: str, signature: bytes) -> None:
        """Return if ``signature`` (without the key ID) is valid over ``text``, else raise."""
        ...


# --- encodings -----------------------------------------------------------------------


def b64decode_strict(value: str, what: str) -> bytes:
    """Decode standard base64 (RFC 4648 §4), padded and canonical, or raise NoteError.

    Canonical means re-encoding gives back ``value``: no whitespace, no missing
    padding, no stray bits in the last character. ``what`` names the field in
    the error message.
    """
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise NoteError(f"{what}: not standard base64") from exc
    if base64.b64encode(raw).decode("ascii") != value:
        raise NoteError(f"{what}: not canonical standard base64")
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def check_key_name(name: str) -> None:
    """signed-note "Format": a key name is non-empty, with no Unicode space and no '+'.

    Control characters are refused too, since a note may not contain them.
    Raises NoteError naming the problem.
    """
    if not name:
        raise NoteError("key name is empty")
    if "+" in name:
        raise NoteError(f"key name {name!r} contains '+'")
    if any(c.isspace() for c in name):
        raise NoteError(f"key name {name!r} contains a space")
    if any(ord(c) < 0x20 for c in name):
        raise NoteError(f"key name {name!r} contains a control character")


def key_id_for(name: str, signature_type: int, public_key: bytes) -> bytes:
    """signed-note "Signatures": ``SHA-256(name || 0x0A || type || public key)[:4]``."""
    data = name.encode("utf-8") + b"\n" + bytes([signature_type]) + public_key
    return hashlib.sha256(data).digest()[:KEY_ID_SIZE]


def _parse_hex_key_id(value: str, what: str) -> bytes:
    if len(value) != 2 * KEY_ID_SIZE or any(c not in "0123456789abcdef" for c in value):
        raise NoteError(f"{what}: key ID {value!r} is not 8 lowercase hex digits")
    return bytes.fromhex(value)


def _parse_typed_key(value: str, signature_type: int, what: str) -> bytes:
    raw = b64decode_strict(value, f"{what} key material")
    if not raw or raw[0] != signature_type:
        found = f"0x{raw[0]:02x}" if raw else "nothing"
        raise NoteError(f"{what}: signature type is {found}, expected 0x{signature_type:02x}")
    if len(raw) != 1 + _ED25519_KEY_SIZE:
        raise NoteError(f"{what}: Ed25519 key is {len(raw) - 1} bytes, expected 32")
    return raw[1:]


def parse_vkey(vkey: str, signature_type: int) -> tuple[str, bytes, bytes]:
    """Split a verifier key (signed-note "Verifier keys") into (name, key ID, public key).

    Checks the name, the 8-hex-digit key ID, the signature type byte, the
    32-byte Ed25519 key and that the key ID is the one derived from name and
    key. Raises NoteError.
    """
    parts = vkey.split("+", 2)  # base64 may itself contain '+'
    if len(parts) != 3:
        raise NoteError("verifier key must be <name>+<hex id>+<base64 key>")
    name, hex_id, b64_key = parts
    check_key_name(name)
    key_id = _parse_hex_key_id(hex_id, "verifier key")
    public_key = _parse_typed_key(b64_key, signature_type, "verifier key")
    if key_id_for(name, signature_type, public_key) != key_id:
        raise NoteError(f"verifier key: key ID {hex_id} does not match name and public key")
    return name, key_id, public_key


def parse_skey(skey: str, signature_type: int) -> tuple[str, bytes, bytes]:
    """Split a ``PRIVATE+KEY+<name>+<hex id>+<base64>`` signer key into (name, key ID, seed).

    Checks the key ID against the public key derived from the seed. Raises NoteError
    (whose message never contains key material).
    """
    if not skey.startswith(_SKEY_PREFIX):
        raise NoteError("signer key must start with 'PRIVATE+KEY+'")
    parts = skey[len(_SKEY_PREFIX) :].split("+", 2)
    if len(parts) != 3:
        raise NoteError("signer key must be PRIVATE+KEY+<name>+<hex id>+<base64 key>")
    name, hex_id, b64_key = parts
    check_key_name(name)
    key_id = _parse_hex_key_id(hex_id, "signer key")
    seed = _parse_typed_key(b64_key, signature_type, "signer key")  # errors never echo the key
    public_key = _raw_public(Ed25519PrivateKey.from_private_bytes(seed).public_key())
    if key_id_for(name, signature_type, public_key) != key_id:
        raise NoteError(f"signer key: key ID {hex_id} does not match name and key")
    return name, key_id, seed


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _raw_private(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


# --- keys ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteVerifier:
    """An Ed25519 note verifier key (signed-note "Ed25519 signatures", type 0x01)."""

    name: str
    key_id: bytes
    public_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != _ED25519_KEY_SIZE:
            raise NoteError("Ed25519 public key must be 32 bytes")
        if key_id_for(self.name, ED25519_SIGNATURE_TYPE, self.public_key) != self.key_id:
            raise NoteError(f"key ID does not match name {self.name!r} and public key")

    @classmethod
    def from_public_bytes(cls, name: str, public_key: bytes) -> NoteVerifier:
        """A verifier for ``name`` and a raw 32-byte Ed25519 public key; derives the key ID."""
        check_key_name(name)
        return cls(name, key_id_for(name, ED25519_SIGNATURE_TYPE, public_key), public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse ``<name>+<hex id>+base64(0x01 || key)`` (signed-note "Verifier keys").

        Raises NoteError naming the part that is wrong.
        """
        name, key_id, public_key = parse_vkey(vkey, ED25519_SIGNATURE_TYPE)
        return cls(name, key_id, public_key)

    def vkey(self) -> str:
        """The signed-note "Verifier keys" encoding of this key."""
        key = _b64(bytes([ED25519_SIGNATURE_TYPE]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{key}"

    def verify(self, text: str, signature: bytes) -> None:
        """signed-note "Ed25519 signatures": check an RFC 8032 signature over the note text.

        ``signature`` is without the 4-byte key ID. Raises NoteError.
        """
        if len(signature) != _ED25519_SIG_SIZE:
            raise NoteError(
                f"signature by {self.name} is {len(signature)} bytes, expected 64 (Ed25519)"
            )
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(
                signature, text.encode("utf-8")
            )
        except InvalidSignature as exc:
            raise NoteError(
                f"signature by {self.name}+{self.key_id.hex()} does not verify"
            ) from exc


@dataclass(frozen=True)
class NoteSigner:
    """An Ed25519 note signing key (signed-note type 0x01). Its repr shows no secret."""

    name: str
    key_id: bytes
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        public_key = _raw_public(self.private_key.public_key())
        if key_id_for(self.name, ED25519_SIGNATURE_TYPE, public_key) != self.key_id:
            raise NoteError(f"key ID does not match name {self.name!r} and key")

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        """A fresh random key for ``name`` (randomness from the OS via ``cryptography``)."""
        return cls.from_private_bytes(name, _raw_private(Ed25519PrivateKey.generate()))

    @classmethod
    def from_private_bytes(cls, name: str, raw: bytes) -> NoteSigner:
        """A signer from a 32-byte RFC 8032 Ed25519 seed; derives the key ID."""
        check_key_name(name)
        if len(raw) != _ED25519_KEY_SIZE:
            raise NoteError("Ed25519 private key must be 32 bytes")
        key = Ed25519PrivateKey.from_private_bytes(raw)
        key_id = key_id_for(name, ED25519_SIGNATURE_TYPE, _raw_public(key.public_key()))
        return cls(name, key_id, key)

    @classmethod
    def from_skey(cls, skey: str) -> NoteSigner:
        """Parse ``PRIVATE+KEY+<name>+<hex id>+base64(0x01 || seed)``. Raises NoteError."""
        name, _, seed = parse_skey(skey, ED25519_SIGNATURE_TYPE)
        return cls.from_private_bytes(name, seed)

    def to_skey(self) -> str:
        """The ``PRIVATE+KEY+...`` encoding of this key (contains the secret seed)."""
        key = _b64(bytes([ED25519_SIGNATURE_TYPE]) + _raw_private(self.private_key))
        return f"{_SKEY_PREFIX}{self.name}+{self.key_id.hex()}+{key}"

    def public_key_bytes(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return _raw_public(self.private_key.public_key())

    def verifier(self) -> NoteVerifier:
        """The matching verifier key."""
        return NoteVerifier(self.name, self.key_id, self.public_key_bytes())

    def vkey(self) -> str:
        """The signed-note "Verifier keys" encoding of the matching verifier key."""
        return self.verifier().vkey()

    def sign(self, text: str) -> bytes:
        """signed-note "Ed25519 signatures": the 64-byte RFC 8032 signature over ``text``."""
        return self.private_key.sign(text.encode("utf-8"))


# --- notes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID and signature bytes (after the ID)."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        """The signature line, ``— <name> base64(key ID || signature)\\n``."""
        return f"{_SIGNATURE_PREFIX}{self.name} {_b64(self.key_id + self.signature)}\n"


@dataclass(frozen=True)
class Note:
    """A parsed note: its text (with the final newline) and its signatures in order."""

    text: str
    signatures: tuple[NoteSignature, ...]


def _check_characters(value: str, what: str) -> None:
    """signed-note "Format": valid UTF-8, no control character other than newline."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NoteError(f"{what} is not valid UTF-8 (lone surrogate)") from exc
    for position, char in enumerate(value):
        if ord(char) < 0x20 and char != "\n":
            raise NoteError(
                f"{what} contains control character U+{ord(char):04X} at offset {position}"
            )


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    _check_characters(text, "note text")


def _parse_signature_line(line: str, number: int) -> NoteSignature:
    where = f"signature line {number}"
    if not line.startswith(_SIGNATURE_PREFIX):
        raise NoteError(f"{where} does not start with an em dash (U+2014) and a space")
    rest = line[len(_SIGNATURE_PREFIX) :]
    name, space, b64_sig = rest.partition(" ")
    if not space:
        raise NoteError(f"{where} has no space between key name and signature")
    try:
        check_key_name(name)
    except NoteError as exc:
        raise NoteError(f"{where}: {exc}") from None
    raw = b64decode_strict(b64_sig, where)
    if len(raw) <= KEY_ID_SIZE:
        raise NoteError(f"{where}: signature is {len(raw)} bytes, must exceed the 4-byte key ID")
    return NoteSignature(name, raw[:KEY_ID_SIZE], raw[KEY_ID_SIZE:])


def parse_note(note: str | bytes) -> Note:
    """signed-note "Format": split a signed note into text and signature lines, strictly.

    Accepts ``bytes`` (must be valid UTF-8) or ``str``. Refuses control
    characters other than newline (so ``\\r`` too), a note without the blank
    separator line or without signatures, malformed signature lines and more
    than :data:`MAX_SIGNATURES` signatures. The text is everything up to and
    including the newline before the *last* blank line. Verifies nothing: use
    :func:`open_note` before trusting the text. Raises NoteError.
    """
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("note is not valid UTF-8") from exc
    _check_characters(note, "note")
    if not note.endswith("\n"):
        raise NoteError("note must end with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line separating text and signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise NoteError("note has no signature lines")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signatures, at most {MAX_SIGNATURES} accepted")
    signatures = tuple(_parse_signature_line(line, i) for i, line in enumerate(lines, 1))
    return Note(text, signatures)


def sign_note(text: str, *signers: Signer) -> str:
    """signed-note "Format": the signed note for ``text`` with one line per signer, in order.

    ``text`` must end with a newline and contain no control character other
    than newline; at least one signer is needed. Raises NoteError.
    """
    _check_text(text)
    if not signers:
        raise NoteError("a note needs at least one signer")
    return text + "\n" + "".join(_signature_for(text, s).line() for s in signers)


def _signature_for(text: str, signer: Signer) -> NoteSignature:
    check_key_name(signer.name)
    if len(signer.key_id) != KEY_ID_SIZE:
        raise NoteError(f"key ID of {signer.name} must be 4 bytes")
    return NoteSignature(signer.name, signer.key_id, signer.sign(text))


def add_signatures(note: str, *signers: Signer) -> str:
    """signed-note "Format": append signature lines to a signed note (cosigning).

    Existing signature lines are kept byte for byte; they are not verified here.
    Refuses a signer whose name and key ID already signed the note, and a
    result above :data:`MAX_SIGNATURES`. Raises NoteError.
    """
    parsed = parse_note(note)
    if not signers:
        raise NoteError("no signer given")
    have = {(s.name, s.key_id) for s in parsed.signatures}
    added: list[str] = []
    for signer in signers:
        if (signer.name, signer.key_id) in have:
            raise NoteError(f"note is already signed by {signer.name}+{signer.key_id.hex()}")
        have.add((signer.name, signer.key_id))
        added.append(_signature_for(parsed.text, signer).line())
    if len(parsed.signatures) + len(added) > MAX_SIGNATURES:
        raise NoteError(f"a note may carry at most {MAX_SIGNATURES} signatures")
    return note + "".join(added)


def verify_known_signatures(note: Note, verifiers: Sequence[Verifier]) -> tuple[NoteSignature, ...]:
    """signed-note "Signatures": verify every signature whose name and key ID are known.

    Signatures by unknown keys (even sharing a name or an ID, but not both, with a
    known key) are ignored. A failing signature by a known key, or two
    signatures by one known key, reject the whole note. Returns the verified
    signatures in note order (possibly none). Raises NoteError.
    """
    known: dict[tuple[str, bytes], Verifier] = {}
    for verifier in verifiers:
        key = (verifier.name, verifier.key_id)
        if key in known and known[key] != verifier:
            raise NoteError(f"two different verifiers share {verifier.name}+{key[1].hex()}")
        known[key] = verifier
    verified: list[NoteSignature] = []
    seen: set[tuple[str, bytes]] = set()
    for signature in note.signatures:
        key = (signature.name, signature.key_id)
        found = known.get(key)
        if found is None:
            continue
        if key in seen:
            raise NoteError(f"note has two signatures by {signature.name}+{key[1].hex()}")
        seen.add(key)
        found.verify(note.text, signature.signature)
        verified.append(signature)
    return tuple(verified)


def open_note(note: str | bytes, verifiers: Sequence[Verifier]) -> Note:
    """signed-note "Signatures": parse a note and verify it against trusted keys.

    Returns the note with ``signatures`` reduced to those by the given
    verifiers, all of which verified. Raises NoteError if the note is
    malformed, if a signature by a known key fails, or if no known key signed it.
    """
    parsed = parse_note(note)
    verified = verify_known_signatures(parsed, verifiers)
    if not verified:
        names = ", ".join(sorted({v.name for v in verifiers})) or "none"
        raise NoteError(f"note is not signed by any known key (known: {names})")
    return Note(parsed.text, verified)
