"""C2SP tlog-checkpoint (signed tree heads) and tlog-cosignature v1 (Ed25519 witness cosignatures).

A checkpoint is a signed note whose text is exactly::

    <origin>\\n<tree size>\\n<base64 root hash>\\n[<extension line>\\n ...]

(c2sp.org/tlog-checkpoint "Note text"). A witness cosignature is a note
signature of type 0x04 whose signed message is::

    cosignature/v1\\ntime <POSIX seconds>\\n<checkpoint note text>

and whose signature bytes are ``u64 big-endian timestamp || 64-byte Ed25519
signature`` (c2sp.org/tlog-cosignature "Format", "Ed25519 signed message").

Policy beyond the specifications: the log's key name must equal the origin line
(the spec says SHOULD), and tree sizes and timestamps are at most 2^63 - 1.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ledger.errors import CheckpointError, NoteError
from ledger.note import (
    NoteSigner,
    NoteVerifier,
    add_signatures,
    b64decode_strict,
    check_key_name,
    key_id_for,
    open_note,
    parse_note,
    parse_skey,
    parse_vkey,
    sign_note,
    verify_known_signatures,
)
from ledger.rfc9162 import HASH_SIZE, Hash

__all__ = [
    "COSIGNATURE_SIGNATURE_TYPE",
    "MAX_TIMESTAMP",
    "MAX_TREE_SIZE",
    "Checkpoint",
    "CosignatureSigner",
    "CosignatureVerifier",
    "cosign",
    "cosigned_message",
    "open_checkpoint",
    "sign_checkpoint",
    "verify_cosignatures",
]

COSIGNATURE_SIGNATURE_TYPE = 0x04
"""signed-note "Signature types": timestamped Ed25519 checkpoint cosignatures."""

MAX_TREE_SIZE = 2**63 - 1
MAX_TIMESTAMP = 2**63 - 1
"""tlog-cosignature "Format": the timestamp MUST NOT exceed 2^63 - 1."""

_DECIMAL = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_COSIGNATURE_HEADER = "cosignature/v1\n"
_TIMESTAMP_SIZE = 8
_ED25519_SIG_SIZE = 64
_ED25519_KEY_SIZE = 32


def _check_line(value: str, where: str) -> None:
    if not value:
        raise CheckpointError(f"{where} is empty")
    if "\n" in value:
        raise CheckpointError(f"{where} contains a newline")
    for char in value:
        if ord(char) < 0x20:
            raise CheckpointError(f"{where} contains control character U+{ord(char):04X}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CheckpointError(f"{where} is not valid UTF-8") from exc


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head as a checkpoint note body (c2sp.org/tlog-checkpoint "Note text").

    Construction validates every field and raises CheckpointError.
    """

    origin: str
    size: int
    root: Hash
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "checkpoint line 1 (origin)")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise CheckpointError("checkpoint tree size must be an int")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError(f"checkpoint tree size {self.size} is out of range")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise CheckpointError("checkpoint root hash must be 32 bytes")
        for number, line in enumerate(self.extensions, 4):
            _check_line(line, f"checkpoint line {number} (extension)")

    def body(self) -> str:
        """tlog-checkpoint "Note text": origin, size, base64 root, extensions, each + newline."""
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """tlog-checkpoint "Note text": parse a checkpoint note text, strictly.

        The size must be ASCII decimal without sign or leading zeros, the root
        canonical standard base64 of 32 bytes, and every line (extensions
        included) non-empty. Raises CheckpointError naming the line.
        """
        if not body.endswith("\n"):
            raise CheckpointError("checkpoint must end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError(f"checkpoint has {len(lines)} lines, needs at least 3")
        origin, size_line, root_line, *extensions = lines
        _check_line(origin, "checkpoint line 1 (origin)")
        if not _DECIMAL.fullmatch(size_line):
            raise CheckpointError(
                f"checkpoint line 2 (tree size) {size_line!r} is not a decimal "
                "without sign or leading zeros"
            )
        size = int(size_line)
        if size > MAX_TREE_SIZE:
            raise CheckpointError(f"checkpoint line 2 (tree size) {size} is out of range")
        try:
            root = b64decode_strict(root_line, "checkpoint line 3 (root hash)")
        except NoteError as exc:
            raise CheckpointError(str(exc)) from exc
        if len(root) != HASH_SIZE:
            raise CheckpointError(f"checkpoint line 3 (root hash) is {len(root)} bytes, not 32")
        return cls(origin, size, Hash(root), tuple(extensions))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """tlog-checkpoint "Signatures": the checkpoint as a note signed by the log's key.

    The key name must equal the origin line. Raises CheckpointError.
    """
    if signer.name != checkpoint.origin:
        raise CheckpointError(
            f"log key name {signer.name!r} differs from origin {checkpoint.origin!r}"
        )
    return sign_note(checkpoint.body(), signer)


def open_checkpoint(note: str | bytes, verifier: NoteVerifier) -> Checkpoint:
    """tlog-checkpoint: verify the log's signature, then parse the checkpoint.

    Other signatures (witnesses, rotated keys) are ignored, as signed-note
    requires. The origin line must equal the log key's name. Raises NoteError
    (signature) or CheckpointError (body, origin).
    """
    opened = open_note(note, [verifier])
    checkpoint = Checkpoint.parse(opened.text)
    if checkpoint.origin != verifier.name:
        raise CheckpointError(
            f"checkpoint origin {checkpoint.origin!r} is not the log key name {verifier.name!r}"
        )
    return checkpoint


# --- tlog-cosignature v1 -------------------------------------------------------------


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    """tlog-cosignature "Ed25519 signed message": the bytes a witness signs.

    ``cosignature/v1\\ntime <timestamp>\\n`` followed by the whole checkpoint
    note text (with its final newline, without signature lines).
    """
    _check_timestamp(timestamp)
    return f"{_COSIGNATURE_HEADER}time {timestamp}\n{checkpoint_text}".encode()


def _check_timestamp(timestamp: int) -> None:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise NoteError("cosignature timestamp must be an int")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError(f"cosignature timestamp {timestamp} is outside 0..2^63-1")


@dataclass(frozen=True)
class CosignatureVerifier:
    """A witness's Ed25519 cosignature key (tlog-cosignature, signature type 0x04).

    ``verify`` follows the ``ledger.note.Verifier`` protocol, so these keys can
    be handed to ``verify_known_signatures``.
    """

    name: str
    key_id: bytes
    public_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != _ED25519_KEY_SIZE:
            raise NoteError("Ed25519 public key must be 32 bytes")
        if key_id_for(self.name, COSIGNATURE_SIGNATURE_TYPE, self.public_key) != self.key_id:
            raise NoteError(f"key ID does not match name {self.name!r} and public key")

    @classmethod
    def from_public_bytes(cls, name: str, public_key: bytes) -> CosignatureVerifier:
        """A cosigner key for ``name`` and a raw Ed25519 public key; derives the key ID."""
        check_key_name(name)
        key_id = key_id_for(name, COSIGNATURE_SIGNATURE_TYPE, public_key)
        return cls(name, key_id, public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> CosignatureVerifier:
        """Parse ``<name>+<hex id>+base64(0x04 || key)`` (tlog-cosignature "Format").

        Raises NoteError naming the part that is wrong.
        """
        name, key_id, public_key = parse_vkey(vkey, COSIGNATURE_SIGNATURE_TYPE)
        return cls(name, key_id, public_key)

    def vkey(self) -> str:
        """The signed-note "Verifier keys" encoding, signature type 0x04."""
        key = _b64(bytes([COSIGNATURE_SIGNATURE_TYPE]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{key}"

    def verify(self, text: str, signature: bytes) -> None:
        """tlog-cosignature: check ``timestamp || Ed25519 sig`` over the cosigned message.

        ``text`` is the checkpoint note text. Raises NoteError.
        """
        if len(signature) != _TIMESTAMP_SIZE + _ED25519_SIG_SIZE:
            raise NoteError(f"cosignature by {self.name} is {len(signature)} bytes, expected 72")
        timestamp = int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")
        message = cosigned_message(text, timestamp)
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(
                signature[_TIMESTAMP_SIZE:], message
            )
        except InvalidSignature as exc:
            raise NoteError(
                f"cosignature by {self.name}+{self.key_id.hex()} does not verify"
            ) from exc


@dataclass(frozen=True)
class CosignatureSigner:
    """A witness's Ed25519 cosigning key (tlog-cosignature, type 0x04). Repr shows no secret."""

    name: str
    key_id: bytes
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if key_id_for(self.name, COSIGNATURE_SIGNATURE_TYPE, self.public_key_bytes()) != (
            self.key_id
        ):
            raise NoteError(f"key ID does not match name {self.name!r} and key")

    @classmethod
    def generate(cls, name: str) -> CosignatureSigner:
        """A fresh random cosigning key for ``name``."""
        seed = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return cls.from_private_bytes(name, seed)

    @classmethod
    def from_private_bytes(cls, name: str, raw: bytes) -> CosignatureSigner:
        """A cosigner from a 32-byte Ed25519 seed; derives the key ID."""
        check_key_name(name)
        if len(raw) != _ED25519_KEY_SIZE:
            raise NoteError("Ed25519 private key must be 32 bytes")
        key = Ed25519PrivateKey.from_private_bytes(raw)
        public_key = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return cls(name, key_id_for(name, COSIGNATURE_SIGNATURE_TYPE, public_key), key)

    @classmethod
    def from_skey(cls, skey: str) -> CosignatureSigner:
        """Parse ``PRIVATE+KEY+<name>+<hex id>+base64(0x04 || seed)``. Raises NoteError."""
        name, _, seed = parse_skey(skey, COSIGNATURE_SIGNATURE_TYPE)
        return cls.from_private_bytes(name, seed)

    def to_skey(self) -> str:
        """The ``PRIVATE+KEY+...`` encoding with type byte 0x04 (contains the seed)."""
        seed = self.private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        key = _b64(bytes([COSIGNATURE_SIGNATURE_TYPE]) + seed)
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{key}"

    def public_key_bytes(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def verifier(self) -> CosignatureVerifier:
        """The matching cosignature verifier key."""
        return CosignatureVerifier(self.name, self.key_id, self.public_key_bytes())

    def vkey(self) -> str:
        """The verifier key encoding (type 0x04) of the matching public key."""
        return self.verifier().vkey()

    def sign(self, checkpoint_text: str, timestamp: int) -> bytes:
        """tlog-cosignature "Format": ``u64 big-endian timestamp || Ed25519 signature``."""
        message = cosigned_message(checkpoint_text, timestamp)
        return timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + self.private_key.sign(message)


@dataclass(frozen=True)
class _AtTime:
    """A cosigner pinned to one timestamp, shaped as a ``ledger.note.Signer``."""

    cosigner: CosignatureSigner
    timestamp: int

    @property
    def name(self) -> str:
        return self.cosigner.name

    @property
    def key_id(self) -> bytes:
        return self.cosigner.key_id

    def sign(self, text: str) -> bytes:
        return self.cosigner.sign(text, self.timestamp)


def cosign(signed_checkpoint: str, cosigner: CosignatureSigner, now: int) -> str:
    """tlog-cosignature: add a witness cosignature line, timestamped ``now`` (POSIX seconds).

    The note text must be a well-formed checkpoint. This only signs: a witness
    must first have verified the log's signature and consistency with what it
    saw before. Existing signature lines are kept. Raises NoteError/CheckpointError.
    """
    _check_timestamp(now)
    Checkpoint.parse(parse_note(signed_checkpoint).text)
    return add_signatures(signed_checkpoint, _AtTime(cosigner, now))


def verify_cosignatures(
    note: str | bytes, cosigners: Sequence[CosignatureVerifier], quorum: int
) -> list[tuple[str, int]]:
    """tlog-cosignature: verify witness cosignatures and require at least ``quorum`` of them.

    Cosignatures by unknown keys are ignored; a failing cosignature by a known
    key rejects the note. Does not check the log's own signature (use
    :func:`open_checkpoint`). Returns ``(cosigner name, timestamp)`` for each
    valid cosignature, in note order. Raises CheckpointError if the text is not
    a checkpoint, NoteError if a cosignature fails or fewer than ``quorum``
    verify, ValueError for a negative quorum or two cosigners sharing one key.
    """
    if quorum < 0:
        raise ValueError("quorum must not be negative")
    if len({c.public_key for c in cosigners}) != len(set(cosigners)):
        raise ValueError("two cosigners share a public key (tlog-cosignature forbids it)")
    parsed = parse_note(note)
    Checkpoint.parse(parsed.text)
    verified = verify_known_signatures(parsed, cosigners)
    if len(verified) < quorum:
        raise NoteError(
            f"{len(verified)} valid cosignature(s) from known witnesses, quorum is {quorum}"
        )
    return [(s.name, int.from_bytes(s.signature[:_TIMESTAMP_SIZE], "big")) for s in verified]
