"""Exceptions raised by the ``credentials`` package.

One tree; every failure the package reports is a ``CredentialError``::

    CredentialError
    ├── ContextError               unknown or refused JSON-LD context URL (names the URL)
    ├── CanonicalizationError      RDFC-1.0 / JCS could not be computed
    │   └── UndefinedTermError     a term or type the contexts do not define (names it)
    ├── KeyFormatError             malformed Multikey / key material
    ├── DIDResolutionError         malformed or unresolvable DID / DID URL
    ├── KeystoreError              encrypted keystore problems (keystore.py)
    ├── StatusListError            Bitstring Status List 1.0 errors, with a spec ``code``
    └── VerificationError          a check failed: ``check`` and ``reason`` say which and why
        ├── ProofVerificationError     Data Integrity proof rejected
        │   ├── CryptosuiteError           unknown cryptosuite / wrong proof type
        │   ├── ProofValueError            proofValue missing or badly encoded
        │   ├── SignatureError             signature does not verify
        │   ├── PurposeError               proof purpose missing, unexpected, or not
        │   │                              authorised by the controller document
        │   ├── ChallengeDomainError       challenge or domain mismatch
        │   ├── ProofTimeError             created in the future / proof expired
        │   └── VerificationMethodError    method cannot be resolved or has bad key
        └── (other packages add their own checks here)

``UndefinedTermError`` is a canonicalization failure; ``verify()`` turns it into a
``ProofVerificationError`` with ``reason="UNDEFINED_TERM"``, raised ``from`` it.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CanonicalizationError",
    "ChallengeDomainError",
    "ContextError",
    "CredentialError",
    "CryptosuiteError",
    "DIDResolutionError",
    "KeyFormatError",
    "KeystoreError",
    "ProofTimeError",
    "ProofValueError",
    "ProofVerificationError",
    "PurposeError",
    "SignatureError",
    "StatusListError",
    "UndefinedTermError",
    "VerificationError",
    "VerificationMethodError",
]


class CredentialError(Exception):
    """Base of every exception raised by the ``credentials`` package."""


class ContextError(CredentialError):
    """A JSON-LD context URL is not bundled/registered, or its registration was refused."""

    def __init__(self, url: str, message: str | None = None) -> None:
        self.url = url
        super().__init__(message or f"unknown JSON-LD context URL {url!r} (never fetched)")


class CanonicalizationError(CredentialError):
    """RDFC-1.0 or JCS canonicalization failed (invalid JSON-LD, non-JSON values...)."""


class UndefinedTermError(CanonicalizationError):
    """A property or type is not defined by the document's contexts ("safe mode").

    ``term`` is the term as written; ``pointer`` an RFC 6901 JSON pointer to it in
    the input document when it could be located, else ``None``.
    """

    def __init__(
        self, term: str, pointer: str | None = None, detail: str = "undefined term"
    ) -> None:
        self.term = term
        self.pointer = pointer
        where = f" at {pointer}" if pointer is not None else ""
        super().__init__(f"{detail} {term!r}{where}")


class KeyFormatError(CredentialError, ValueError):
    """Key material is not a well-formed Ed25519 Multikey (or raw key) value."""


class DIDResolutionError(CredentialError):
    """A DID or DID URL is malformed, uses an unsupported method, or cannot be resolved."""


class KeystoreError(CredentialError):
    """The encrypted keystore cannot be read, decrypted or written."""


class StatusListError(CredentialError):
    """Bitstring Status List 1.0 §3.x processing error with the spec's error ``code``."""

    STATUS_LIST_LENGTH_ERROR: Final = "STATUS_LIST_LENGTH_ERROR"
    RANGE_ERROR: Final = "RANGE_ERROR"
    STATUS_RETRIEVAL_ERROR: Final = "STATUS_RETRIEVAL_ERROR"
    STATUS_VERIFICATION_ERROR: Final = "STATUS_VERIFICATION_ERROR"
    MALFORMED_VALUE_ERROR: Final = "MALFORMED_VALUE_ERROR"
    CODES: Final = frozenset(
        {
            STATUS_LIST_LENGTH_ERROR,
            RANGE_ERROR,
            STATUS_RETRIEVAL_ERROR,
            STATUS_VERIFICATION_ERROR,
            MALFORMED_VALUE_ERROR,
        }
    )

    def __init__(self, code: str, message: str) -> None:
        if code not in self.CODES:
            raise ValueError(f"unknown Bitstring Status List error code {code!r}")
        self.code = code
        super().__init__(f"{code}: {message}")


class VerificationError(CredentialError):
    """A verification check failed.

    ``check`` names the check (e.g. ``"proof"``, ``"status"``); ``reason`` is a
    machine-readable code (e.g. ``"SIGNATURE_MISMATCH"``); the message is for humans.
    """

    def __init__(self, check: str, reason: str, message: str) -> None:
        self.check = check
        self.reason = reason
        super().__init__(message)


class ProofVerificationError(VerificationError):
    """A Data Integrity proof was rejected (``check == "proof"``)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__("proof", reason, message)


class CryptosuiteError(ProofVerificationError):
    """Proof ``type`` is not ``DataIntegrityProof`` or the cryptosuite is not supported."""


class ProofValueError(ProofVerificationError):
    """``proofValue`` is missing or is not a base58btc multibase 64-byte signature."""


class SignatureError(ProofVerificationError):
    """The Ed25519 signature does not verify over the hash data."""


class PurposeError(ProofVerificationError):
    """Proof purpose is missing, not the expected one, or not authorised for the method."""


class ChallengeDomainError(ProofVerificationError):
    """The proof's ``challenge`` or ``domain`` does not match what the verifier expects."""


class ProofTimeError(ProofVerificationError):
    """``created`` is in the future, ``expires`` has passed, or a timestamp is malformed."""


class VerificationMethodError(ProofVerificationError):
    """The verification method cannot be resolved, or does not carry a usable key."""
