"""Data Integrity proofs with the EdDSA cryptosuites (W3C vc-di-eddsa 1.0).

* ``eddsa-rdfc-2022`` (§3.3): RDFC-1.0 canonical N-Quads of the document and of
  the proof configuration (which takes the document's ``@context``).
* ``eddsa-jcs-2022`` (§3.4): JCS of the document and of the proof configuration;
  the proof carries the document's ``@context`` (§3.4.1 step 2) and verification
  checks that the document's ``@context`` starts with it (§3.4.2 steps 4-5).

hashData = SHA-256(canonical proof config) || SHA-256(canonical document); the
signature is Ed25519 (RFC 8032) over hashData, encoded as base58btc multibase.

Generic Data Integrity 1.0 §4.3 checks done by :func:`verify`, each raising a
:class:`~credentials.errors.ProofVerificationError` subclass whose ``reason`` is:

==========================  ===============================================
``MALFORMED_PROOF``          proof missing, not an object, required member absent
``INVALID_PROOF_TYPE``       ``type`` is not ``DataIntegrityProof``
``UNSUPPORTED_CRYPTOSUITE``  cryptosuite is neither EdDSA suite
``MALFORMED_PROOF_VALUE``    proofValue not base58btc multibase of 64 bytes
``SIGNATURE_MISMATCH``       the signature does not verify
``MISSING_PROOF_PURPOSE``    no ``proofPurpose``
``PROOF_PURPOSE_MISMATCH``   purpose is not the one the verifier expects
``METHOD_NOT_AUTHORIZED``    method not listed under that purpose by its controller
``INVALID_CHALLENGE_ERROR``  challenge differs from (or is missing for) the expected one
``INVALID_DOMAIN_ERROR``     domain differs from (or is missing for) the expected one
``MALFORMED_TIMESTAMP``      created/expires is not an XML Schema dateTimeStamp
``CREATED_IN_FUTURE``        created later than ``now`` (+ clock skew)
``PROOF_EXPIRED_ERROR``      ``expires`` is not after ``now``
``CONTEXT_MISMATCH``         jcs proof ``@context`` is not a prefix of the document's
``UNDEFINED_TERM``           safe-mode canonicalization found an undefined term/type
``UNKNOWN_CONTEXT``          a context URL that is neither bundled nor registered
``PROOF_TRANSFORMATION_ERROR``  the document cannot be canonicalized
``VERIFICATION_METHOD_ERROR``   the method cannot be resolved / has no usable key
``UNSUPPORTED_PROOF_CHAIN``  ``previousProof`` (proof chains are not supported)
==========================  ===============================================
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from credentials.canonical import JcsMembers, canonicalize_jcs, canonicalize_rdfc
from credentials.didkey import resolve_did_key
from credentials.errors import (
    CanonicalizationError,
    ChallengeDomainError,
    ContextError,
    CredentialError,
    CryptosuiteError,
    KeyFormatError,
    ProofTimeError,
    ProofValueError,
    ProofVerificationError,
    PurposeError,
    SignatureError,
    UndefinedTermError,
    VerificationMethodError,
)
from credentials.multikey import (
    Ed25519KeyPair,
    decode_multibase_base58btc,
    decode_public_key_multibase,
    encode_multibase_base58btc,
)

__all__ = [
    "CRYPTOSUITES",
    "RELATIONSHIPS",
    "ResolvedVerificationMethod",
    "VerifiedProof",
    "did_key_method_resolver",
    "format_datetime",
    "hash_data",
    "sign",
    "sign_serialized",
    "verification_method_from_document",
    "verify",
    "verify_proof_set",
]

PROOF_TYPE: Final = "DataIntegrityProof"
EDDSA_RDFC_2022: Final = "eddsa-rdfc-2022"
EDDSA_JCS_2022: Final = "eddsa-jcs-2022"
CRYPTOSUITES: Final = frozenset({EDDSA_RDFC_2022, EDDSA_JCS_2022})
RELATIONSHIPS: Final = (
    "authentication",
    "assertionMethod",
    "keyAgreement",
    "capabilityInvocation",
    "capabilityDelegation",
)
_DID_KEY_CACHE_SIZE: Final = 1024
_KEY_TYPES: Final = frozenset({"Multikey", "Ed25519VerificationKey2020"})
_DATETIME_STAMP = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class ResolvedVerificationMethod:
    """A verification method with the relationships its controller lists it under.

    ``relationships`` holds the verification relationships (``assertionMethod``,
    ``authentication``...) of the controller document that reference this method.
    """

    id: str
    controller: str
    public_key: Ed25519PublicKey
    relationships: frozenset[str]


MethodResolver = Callable[[str], ResolvedVerificationMethod]


@dataclass(frozen=True)
class VerifiedProof:
    """What :func:`verify` established about one proof."""

    cryptosuite: str
    proof_purpose: str
    verification_method: ResolvedVerificationMethod
    created: datetime | None
    proof: dict[str, Any]
    document: dict[str, Any]
    """The unsecured document (without ``proof``) that the proof covers."""


def format_datetime(value: datetime) -> str:
    """XML Schema dateTimeStamp in UTC, seconds precision (``2023-02-24T23:36:38Z``).

    Raises ValueError for a naive datetime.
    """
    if value.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _parse_datetime(value: Any, name: str) -> datetime:
    if not isinstance(value, str) or not _DATETIME_STAMP.match(value):
        raise ProofTimeError("MALFORMED_TIMESTAMP", f"proof {name} is not a dateTimeStamp")
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ProofTimeError("MALFORMED_TIMESTAMP", f"proof {name} is not a dateTimeStamp") from exc


def verification_method_from_document(
    controller_document: Mapping[str, Any], method_id: str
) -> ResolvedVerificationMethod:
    """The Ed25519 method ``method_id`` of a controller (e.g. DID) document.

    Controlled Identifiers 1.0 §3.3 "Retrieve Verification Method": the method must
    be in the document (under ``verificationMethod`` or embedded in a relationship),
    belong to it (id's base and ``controller`` equal the document ``id``), and be a
    ``Multikey``/``Ed25519VerificationKey2020`` with an Ed25519 ``publicKeyMultibase``.
    Raises VerificationMethodError.
    """
    doc_id = controller_document.get("id")
    if not isinstance(doc_id, str):
        raise VerificationMethodError("VERIFICATION_METHOD_ERROR", "controller document has no id")

    def absolute(ref: str) -> str:
        return doc_id + ref if ref.startswith("#") else ref

    found: Mapping[str, Any] | None = None
    relationships: set[str] = set()
    for entry in controller_document.get("verificationMethod", []):
        if isinstance(entry, Mapping) and absolute(str(entry.get("id", ""))) == method_id:
            found = entry
    for relationship in RELATIONSHIPS:
        for entry in controller_document.get(relationship, []):
            if isinstance(entry, str) and absolute(entry) == method_id:
                relationships.add(relationship)
            elif isinstance(entry, Mapping) and absolute(str(entry.get("id", ""))) == method_id:
                relationships.add(relationship)
                found = found or entry
    if found is None:
        raise VerificationMethodError(
            "VERIFICATION_METHOD_ERROR", f"{method_id!r} is not in controller document {doc_id!r}"
        )
    if method_id.split("#", 1)[0] != doc_id or found.get("controller") != doc_id:
        raise VerificationMethodError(
            "VERIFICATION_METHOD_ERROR", f"{method_id!r} is not controlled by {doc_id!r}"
        )
    if found.get("type") not in _KEY_TYPES:
        raise VerificationMethodError(
            "VERIFICATION_METHOD_ERROR",
            f"unsupported verification method type {found.get('type')!r}",
        )
    try:
        public_key = decode_public_key_multibase(found.get("publicKeyMultibase"))  # type: ignore[arg-type]
    except KeyFormatError as exc:
        raise VerificationMethodError("VERIFICATION_METHOD_ERROR", f"{method_id!r}: {exc}") from exc
    return ResolvedVerificationMethod(method_id, doc_id, public_key, frozenset(relationships))


def did_key_method_resolver(method_id: str) -> ResolvedVerificationMethod:
    """Resolver for ``did:key`` verification methods (pure; nothing is fetched).

    Raises DIDResolutionError for a malformed did:key, VerificationMethodError if the
    fragment is not the key's own method. The result (frozen) is a pure function of
    ``method_id`` and is cached (LRU), so repeat verifications against one issuer
    key skip the DID document and base58 decoding; failures are not cached.
    """
    if not isinstance(method_id, str):
        raise VerificationMethodError("VERIFICATION_METHOD_ERROR", "method id is not a string")
    return _resolve_did_key_method(method_id)


@functools.lru_cache(maxsize=_DID_KEY_CACHE_SIZE)
def _resolve_did_key_method(method_id: str) -> ResolvedVerificationMethod:
    did = method_id.split("#", 1)[0]
    return verification_method_from_document(resolve_did_key(did), method_id)


def hash_data(canonical_proof_config: bytes, canonical_document: bytes) -> bytes:
    """vc-di-eddsa §3.3.5 / §3.4.5: SHA-256(proof config) || SHA-256(document)."""
    return (
        hashlib.sha256(canonical_proof_config).digest()
        + hashlib.sha256(canonical_document).digest()
    )


def _canonical(cryptosuite: str, value: dict[str, Any]) -> bytes:
    if cryptosuite == EDDSA_RDFC_2022:
        return canonicalize_rdfc(value).encode("utf-8")
    return canonicalize_jcs(value)


def _without_proof(document: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "proof"}


def _proof_config(cryptosuite: str, options: dict[str, Any], unsecured: dict[str, Any]) -> bytes:
    """vc-di-eddsa §3.3.6 (rdfc: proof config takes the document's @context) / §3.4.6."""
    config = dict(options)
    if cryptosuite == EDDSA_RDFC_2022:
        config["@context"] = unsecured.get("@context")
    return _canonical(cryptosuite, config)


def sign(
    document: Mapping[str, Any],
    key: Ed25519KeyPair,
    *,
    verification_method: str,
    cryptosuite: str = EDDSA_RDFC_2022,
    proof_purpose: str = "assertionMethod",
    created: datetime | None = None,
    expires: datetime | None = None,
    challenge: str | None = None,
    domain: str | None = None,
) -> dict[str, Any]:
    """vc-di-eddsa §3.3.1 / §3.4.1 "Create Proof": a new dict with a ``proof`` added.

    ``created``/``expires`` are written as UTC dateTimeStamps (omitted if None). If
    the document already has proofs, they are not signed over and the new proof is
    appended (a proof set, Data Integrity §2.1.1). Raises CryptosuiteError for an
    unknown cryptosuite, KeyFormatError for a verify-only key, ContextError /
    UndefinedTermError / CanonicalizationError if the document cannot be
    canonicalized (rdfc needs an ``@context`` defining every term).
    """
    options = _proof_options(
        document, cryptosuite, verification_method, proof_purpose, created, expires
    )
    return _signed(document, key, cryptosuite, options, challenge, domain)[0]


def sign_serialized(
    document: Mapping[str, Any],
    key: Ed25519KeyPair,
    *,
    verification_method: str,
    cryptosuite: str = EDDSA_RDFC_2022,
    proof_purpose: str = "assertionMethod",
    created: datetime | None = None,
) -> tuple[dict[str, Any], bytes]:
    """:func:`sign`, and the RFC 8785 (JCS) bytes of the signed document.

    What an issuer stores and hashes for its log. With ``eddsa-jcs-2022`` the
    document is canonicalized once: the signed bytes are its canonical members
    plus ``proof`` (:class:`~credentials.canonical.JcsMembers`). Raises as :func:`sign`.
    """
    options = _proof_options(document, cryptosuite, verification_method, proof_purpose, created)
    signed, members = _signed(document, key, cryptosuite, options)
    if members is None:
        return signed, canonicalize_jcs(signed)
    return signed, members.serialize(signed["proof"])


def _proof_options(
    document: Mapping[str, Any],
    cryptosuite: str,
    verification_method: str,
    proof_purpose: str,
    created: datetime | None,
    expires: datetime | None = None,
) -> dict[str, Any]:
    if cryptosuite not in CRYPTOSUITES:
        raise CryptosuiteError(
            "UNSUPPORTED_CRYPTOSUITE", f"unsupported cryptosuite {cryptosuite!r}"
        )
    if cryptosuite == EDDSA_RDFC_2022 and "@context" not in document:
        raise CanonicalizationError("eddsa-rdfc-2022 needs a document with @context")
    options: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": cryptosuite,
    }
    if created is not None:
        options["created"] = format_datetime(created)
    if expires is not None:
        options["expires"] = format_datetime(expires)
    options["verificationMethod"] = verification_method
    options["proofPurpose"] = proof_purpose
    return options


def _signed(
    document: Mapping[str, Any],
    key: Ed25519KeyPair,
    cryptosuite: str,
    options: dict[str, Any],
    challenge: str | None = None,
    domain: str | None = None,
) -> tuple[dict[str, Any], JcsMembers | None]:
    """The signed document, and for eddsa-jcs-2022 the canonical members it was signed over."""
    unsecured = _without_proof(document)
    if challenge is not None:
        options["challenge"] = challenge
    if domain is not None:
        options["domain"] = domain
    members: JcsMembers | None = None
    if cryptosuite == EDDSA_JCS_2022:
        if "@context" in unsecured:
            options["@context"] = unsecured["@context"]
        members = JcsMembers(unsecured, "proof")
        canonical_document = members.serialize()
    else:
        canonical_document = _canonical(cryptosuite, unsecured)
    data = hash_data(_proof_config(cryptosuite, options, unsecured), canonical_document)
    proof = {**options, "proofValue": encode_multibase_base58btc(key.sign(data))}
    existing = document.get("proof")
    if existing is None:
        return {**unsecured, "proof": proof}, members
    previous = list(existing) if isinstance(existing, list) else [existing]
    return {**unsecured, "proof": [*previous, proof]}, members


def _check_options(
    proof: Mapping[str, Any],
    expected_purpose: str,
    challenge: str | None,
    domain: str | None,
    now: datetime | None,
    clock_skew: timedelta,
) -> tuple[str, str, str, datetime | None]:
    if proof.get("type") != PROOF_TYPE:
        raise CryptosuiteError(
            "INVALID_PROOF_TYPE", f"proof type {proof.get('type')!r} is not {PROOF_TYPE}"
        )
    cryptosuite = proof.get("cryptosuite")
    if cryptosuite not in CRYPTOSUITES:
        raise CryptosuiteError(
            "UNSUPPORTED_CRYPTOSUITE", f"unsupported cryptosuite {cryptosuite!r}"
        )
    if "previousProof" in proof:
        raise ProofVerificationError("UNSUPPORTED_PROOF_CHAIN", "proof chains are not supported")
    method_id = proof.get("verificationMethod")
    if not isinstance(method_id, str) or not method_id:
        raise ProofVerificationError("MALFORMED_PROOF", "proof has no verificationMethod")
    purpose = proof.get("proofPurpose")
    if not isinstance(purpose, str) or not purpose:
        raise PurposeError("MISSING_PROOF_PURPOSE", "proof has no proofPurpose")
    if purpose != expected_purpose:
        raise PurposeError(
            "PROOF_PURPOSE_MISMATCH", f"proof purpose {purpose!r}, expected {expected_purpose!r}"
        )
    if challenge is not None and proof.get("challenge") != challenge:
        raise ChallengeDomainError("INVALID_CHALLENGE_ERROR", "proof challenge does not match")
    if domain is not None:
        proof_domain = proof.get("domain")
        domains = proof_domain if isinstance(proof_domain, list) else [proof_domain]
        if domain not in domains:
            raise ChallengeDomainError("INVALID_DOMAIN_ERROR", "proof domain does not match")
    created = None
    if "created" in proof:
        created = _parse_datetime(proof["created"], "created")
        if now is not None and created > now + clock_skew:
            raise ProofTimeError(
                "CREATED_IN_FUTURE", f"proof created {proof['created']} is in the future"
            )
    if "expires" in proof:
        expires = _parse_datetime(proof["expires"], "expires")
        if now is not None and expires <= now:
            raise ProofTimeError("PROOF_EXPIRED_ERROR", f"proof expired at {proof['expires']}")
    return str(cryptosuite), purpose, method_id, created


def _decode_proof_value(value: Any) -> bytes:
    try:
        signature = decode_multibase_base58btc(value)
    except KeyFormatError as exc:
        raise ProofValueError("MALFORMED_PROOF_VALUE", f"proofValue: {exc}") from exc
    if len(signature) != 64:
        raise ProofValueError("MALFORMED_PROOF_VALUE", "proofValue is not a 64-byte signature")
    return signature


def _context_prefix(proof_context: Any, document_context: Any) -> bool:
    proof_list = proof_context if isinstance(proof_context, list) else [proof_context]
    doc_list = document_context if isinstance(document_context, list) else [document_context]
    return doc_list[: len(proof_list)] == proof_list


def _verify_one(
    unsecured: dict[str, Any],
    proof: Any,
    resolve_method: MethodResolver,
    expected_purpose: str,
    challenge: str | None,
    domain: str | None,
    now: datetime | None,
    clock_skew: timedelta,
) -> VerifiedProof:
    if not isinstance(proof, Mapping):
        raise ProofVerificationError("MALFORMED_PROOF", "proof is not an object")
    cryptosuite, purpose, method_id, created = _check_options(
        proof, expected_purpose, challenge, domain, now, clock_skew
    )
    signature = _decode_proof_value(proof.get("proofValue"))
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if cryptosuite == EDDSA_JCS_2022 and "@context" in options:
        if not _context_prefix(options["@context"], unsecured.get("@context")):
            raise ProofVerificationError(
                "CONTEXT_MISMATCH", "document @context does not start with the proof @context"
            )
        unsecured = {**unsecured, "@context": options["@context"]}
    try:
        method = resolve_method(method_id)
    except VerificationMethodError:
        raise
    except CredentialError as exc:
        raise VerificationMethodError(
            "VERIFICATION_METHOD_ERROR", f"cannot resolve {method_id!r}: {exc}"
        ) from exc
    if method.id != method_id:
        raise VerificationMethodError(
            "VERIFICATION_METHOD_ERROR", f"resolver returned {method.id!r} for {method_id!r}"
        )
    if purpose not in method.relationships:
        raise PurposeError(
            "METHOD_NOT_AUTHORIZED",
            f"{method_id!r} is not an {purpose} method of its controller {method.controller!r}",
        )
    try:
        data = hash_data(
            _proof_config(cryptosuite, options, unsecured), _canonical(cryptosuite, unsecured)
        )
    except UndefinedTermError as exc:
        raise ProofVerificationError("UNDEFINED_TERM", str(exc)) from exc
    except ContextError as exc:
        raise ProofVerificationError("UNKNOWN_CONTEXT", str(exc)) from exc
    except CanonicalizationError as exc:
        raise ProofVerificationError("PROOF_TRANSFORMATION_ERROR", str(exc)) from exc
    try:
        method.public_key.verify(signature, data)
    except InvalidSignature as exc:
        raise SignatureError("SIGNATURE_MISMATCH", "signature does not verify") from exc
    return VerifiedProof(cryptosuite, purpose, method, created, dict(proof), unsecured)


def _proofs(document: Mapping[str, Any]) -> list[Any]:
    if not isinstance(document, Mapping):
        raise ProofVerificationError("MALFORMED_PROOF", "document is not an object")
    proof = document.get("proof")
    if proof is None:
        raise ProofVerificationError("MALFORMED_PROOF", "document has no proof")
    proofs = proof if isinstance(proof, list) else [proof]
    if not proofs:
        raise ProofVerificationError("MALFORMED_PROOF", "document has an empty proof set")
    return proofs


def verify(
    document: Mapping[str, Any],
    *,
    resolve_method: MethodResolver,
    expected_purpose: str = "assertionMethod",
    challenge: str | None = None,
    domain: str | None = None,
    now: datetime | None = None,
    clock_skew: timedelta = timedelta(0),
) -> VerifiedProof:
    """Data Integrity §4.3 "Verify Proof" + vc-di-eddsa §3.3.2 / §3.4.2 for one proof.

    ``document.proof`` must be one proof object (or a list holding exactly one; use
    :func:`verify_proof_set` for several). ``resolve_method`` maps a verification
    method id to its key and controller relationships; the method must be listed
    under ``expected_purpose`` (``assertionMethod`` for credentials,
    ``authentication`` for presentations). ``challenge``/``domain``, when given,
    must match the proof's. With ``now`` None the created/expires checks are
    skipped. Returns the VerifiedProof or raises a ProofVerificationError subclass
    (see the module docstring for ``reason`` codes).
    """
    proofs = _proofs(document)
    if len(proofs) != 1:
        raise ProofVerificationError(
            "MALFORMED_PROOF", f"expected one proof, found {len(proofs)} (use verify_proof_set)"
        )
    return _verify_one(
        _without_proof(document),
        proofs[0],
        resolve_method,
        expected_purpose,
        challenge,
        domain,
        now,
        clock_skew,
    )


def verify_proof_set(
    document: Mapping[str, Any],
    *,
    resolve_method: MethodResolver,
    expected_purpose: str = "assertionMethod",
    challenge: str | None = None,
    domain: str | None = None,
    now: datetime | None = None,
    clock_skew: timedelta = timedelta(0),
) -> list[VerifiedProof]:
    """Data Integrity §2.1.1 proof set: every proof must verify as in :func:`verify`
    over the document without its ``proof`` member. Raises on the first failure."""
    unsecured = _without_proof(document)
    return [
        _verify_one(
            unsecured, proof, resolve_method, expected_purpose, challenge, domain, now, clock_skew
        )
        for proof in _proofs(document)
    ]
