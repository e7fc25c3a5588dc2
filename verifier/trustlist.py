"""The trust list: which issuers, logs and witnesses a verifier trusts, signed by an authority.

A deployment loads the trust list from a file or a configured URL and pins the
authority that must have signed it (a ``did:key``, or one verification method of
it). The document is plain JSON::

    {"type": "CarbonLabelTrustList",
     "id": "<URL>", "version": <int >= 1>,
     "issued": "<dateTimeStamp>", "validUntil": "<dateTimeStamp>",
     "issuers": [{"did": "<DID>", "name": "...", "uscc": "<USCC>",
                  "validFrom": "<dateTimeStamp>", "validUntil": "<dateTimeStamp>" | null,
                  "scopes": {"credentialTypes": ["CarbonLabelCredential", ...],
                             "productCategories": ["room-air-conditioner", ...]},
                  "jurisdiction": "CN-GD" | "HK" | "MO"}],
     "logs": [{"origin": "<log origin>", "key": "<signed-note vkey, name = origin>"}],
     "witnesses": [{"key": "<tlog-cosignature vkey>"}],
     "witnessQuorum": <int >= 0>,
     "proof": {... DataIntegrityProof, cryptosuite eddsa-jcs-2022 ...}}

Format decision: the list is *not* a Verifiable Credential and carries no
``@context``. It is signed with ``eddsa-jcs-2022`` (vc-di-eddsa §3.4), whose
transformation is JCS of the JSON itself, so it needs no JSON-LD context; the
``credentials.dataintegrity`` suite copies ``@context`` into the proof only when
the document has one, and verifies a context-free document as is. A document that
does carry ``"@context"`` is accepted too (the suite then checks the proof's
context is a prefix of it). Other members are refused, so a typo in a field name
cannot silently widen trust. Issuer ``validUntil`` may be ``null`` or absent
(open-ended); every other member above is required.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from credentials.dataintegrity import (
    ResolvedVerificationMethod,
    did_key_method_resolver,
    format_datetime,
    sign,
    verify,
)
from credentials.errors import CredentialError, ProofVerificationError, VerificationMethodError
from credentials.multikey import Ed25519KeyPair
from ledger.checkpoint import CosignatureVerifier
from ledger.errors import NoteError
from ledger.note import NoteVerifier
from verifier.errors import TrustListError

__all__ = [
    "JURISDICTIONS",
    "TRUST_LIST_TYPE",
    "IssuerScopes",
    "TrustList",
    "TrustedIssuer",
    "TrustedLog",
    "build_trust_list",
    "load_trust_list",
    "sign_trust_list",
]

TRUST_LIST_TYPE: Final = "CarbonLabelTrustList"
TRUST_LIST_CRYPTOSUITE: Final = "eddsa-jcs-2022"
JURISDICTIONS: Final = ("CN-GD", "HK", "MO")

_TOP_FIELDS: Final = frozenset(
    {
        "@context",
        "type",
        "id",
        "version",
        "issued",
        "validUntil",
        "issuers",
        "logs",
        "witnesses",
        "witnessQuorum",
        "proof",
    }
)
_ISSUER_FIELDS: Final = frozenset(
    {"did", "name", "uscc", "validFrom", "validUntil", "scopes", "jurisdiction"}
)
_SCOPE_FIELDS: Final = frozenset({"credentialTypes", "productCategories"})
_MALFORMED: Final = "MALFORMED_TRUST_LIST"


@dataclass(frozen=True)
class IssuerScopes:
    """What a trusted issuer may sign: credential types and product categories."""

    credential_types: frozenset[str]
    product_categories: frozenset[str]


@dataclass(frozen=True)
class TrustedIssuer:
    """One accredited issuer: its DID, legal identity, active window and scope."""

    did: str
    name: str
    uscc: str
    valid_from: datetime
    valid_until: datetime | None
    scopes: IssuerScopes
    jurisdiction: str

    def active_at(self, when: datetime) -> bool:
        """``valid_from <= when`` and (open-ended or ``when < valid_until``)."""
        return self.valid_from <= when and (self.valid_until is None or when < self.valid_until)

    def to_json(self) -> dict[str, Any]:
        """The issuer entry of the trust-list document."""
        return {
            "did": self.did,
            "name": self.name,
            "uscc": self.uscc,
            "validFrom": format_datetime(self.valid_from),
            "validUntil": None if self.valid_until is None else format_datetime(self.valid_until),
            "scopes": {
                "credentialTypes": sorted(self.scopes.credential_types),
                "productCategories": sorted(self.scopes.product_categories),
            },
            "jurisdiction": self.jurisdiction,
        }


@dataclass(frozen=True)
class TrustedLog:
    """A transparency log: its origin and the signed-note key its checkpoints are signed with."""

    origin: str
    verifier: NoteVerifier

    def to_json(self) -> dict[str, Any]:
        return {"origin": self.origin, "key": self.verifier.vkey()}


@dataclass(frozen=True)
class TrustList:
    """A verified, parsed trust list (see the module docstring for the document)."""

    id: str
    version: int
    issued: datetime
    valid_until: datetime
    authority: str
    """The verification method that signed it (the pinned authority's)."""
    issuers: tuple[TrustedIssuer, ...]
    logs: tuple[TrustedLog, ...]
    witnesses: tuple[CosignatureVerifier, ...]
    witness_quorum: int

    def issuer(self, did: str) -> TrustedIssuer | None:
        """The trusted issuer with this DID, or None."""
        return next((i for i in self.issuers if i.did == did), None)

    def log_verifier(self, origin: str) -> NoteVerifier | None:
        """The checkpoint key of the log with this origin, or None."""
        return next((log.verifier for log in self.logs if log.origin == origin), None)


def build_trust_list(
    *,
    id: str,
    version: int,
    issued: datetime,
    valid_until: datetime,
    issuers: Sequence[TrustedIssuer],
    logs: Sequence[TrustedLog],
    witnesses: Sequence[CosignatureVerifier] = (),
    witness_quorum: int = 0,
) -> dict[str, Any]:
    """The unsigned trust-list document (sign it with :func:`sign_trust_list`).

    Datetimes must be timezone-aware (written in UTC); raises ValueError otherwise.
    """
    return {
        "type": TRUST_LIST_TYPE,
        "id": id,
        "version": version,
        "issued": format_datetime(issued),
        "validUntil": format_datetime(valid_until),
        "issuers": [issuer.to_json() for issuer in issuers],
        "logs": [log.to_json() for log in logs],
        "witnesses": [{"key": witness.vkey()} for witness in witnesses],
        "witnessQuorum": witness_quorum,
    }


def sign_trust_list(
    document: Mapping[str, Any],
    key_pair: Ed25519KeyPair,
    verification_method: str,
    created: datetime,
) -> dict[str, Any]:
    """Sign a trust list with an ``eddsa-jcs-2022`` Data Integrity proof (assertionMethod).

    Any existing proof is replaced. Raises KeyFormatError for a verify-only key.
    """
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    return sign(
        unsigned,
        key_pair,
        verification_method=verification_method,
        cryptosuite=TRUST_LIST_CRYPTOSUITE,
        created=created,
    )


def load_trust_list(document: Mapping[str, Any], *, authority: str, now: datetime) -> TrustList:
    """Verify a trust list against the pinned ``authority`` and parse it.

    ``authority`` is a ``did:key`` (any of its methods may sign) or one
    verification method ``did:key:...#...`` (only that one may). The proof must
    be a single ``eddsa-jcs-2022`` assertionMethod proof by that authority, and
    ``issued <= now <= validUntil``. Raises TrustListError with ``reason``
    ``UNTRUSTED_SIGNER``, ``INVALID_PROOF``, ``TRUST_LIST_NOT_YET_VALID``,
    ``TRUST_LIST_EXPIRED`` or ``MALFORMED_TRUST_LIST``.
    """
    if not isinstance(document, Mapping):
        raise TrustListError(_MALFORMED, "a trust list must be a JSON object")
    method_id = _signer(document)
    if not _is_authority(method_id, authority):
        raise TrustListError(
            "UNTRUSTED_SIGNER",
            f"the trust list is signed by {method_id!r}, not by the pinned authority {authority!r}",
        )

    def resolve(requested: str) -> ResolvedVerificationMethod:
        if not _is_authority(requested, authority):
            raise VerificationMethodError(
                "VERIFICATION_METHOD_ERROR", f"{requested!r} is not the pinned authority"
            )
        return did_key_method_resolver(requested)

    try:
        verified = verify(document, resolve_method=resolve, now=now)
    except CredentialError as exc:
        reason = exc.reason if isinstance(exc, ProofVerificationError) else "ERROR"
        raise TrustListError(
            "INVALID_PROOF", f"the trust list proof does not verify ({reason}): {exc}"
        ) from exc
    if verified.cryptosuite != TRUST_LIST_CRYPTOSUITE:
        raise TrustListError(
            "INVALID_PROOF", f"the trust list must be signed with {TRUST_LIST_CRYPTOSUITE}"
        )
    trust_list = _parse(document, method_id)
    if now < trust_list.issued:
        raise TrustListError(
            "TRUST_LIST_NOT_YET_VALID", f"the trust list is issued {document['issued']}"
        )
    if now > trust_list.valid_until:
        raise TrustListError(
            "TRUST_LIST_EXPIRED", f"the trust list expired at {document['validUntil']}"
        )
    return trust_list


def _signer(document: Mapping[str, Any]) -> str:
    proof = document.get("proof")
    if not isinstance(proof, Mapping):
        raise TrustListError("INVALID_PROOF", "the trust list has no single proof object")
    method_id = proof.get("verificationMethod")
    if not isinstance(method_id, str):
        raise TrustListError("INVALID_PROOF", "the trust list proof names no verificationMethod")
    return method_id


def _is_authority(method_id: str, authority: str) -> bool:
    if "#" in authority:
        return method_id == authority
    return method_id.split("#", 1)[0] == authority


# --- parsing -------------------------------------------------------------------------


def _fail(message: str) -> TrustListError:
    return TrustListError(_MALFORMED, message)


def _fields(obj: Any, allowed: frozenset[str], required: Sequence[str], where: str) -> None:
    if not isinstance(obj, Mapping):
        raise _fail(f"{where} must be a JSON object")
    unknown = sorted(str(k) for k in obj if k not in allowed)
    if unknown:
        raise _fail(f"{where} has unknown member(s): {', '.join(unknown)}")
    for name in required:
        if name not in obj:
            raise _fail(f"{where}: {name} is required")


def _string(obj: Mapping[str, Any], name: str, where: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise _fail(f"{where}: {name} must be a non-empty string")
    return value


def _instant(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise _fail(f"{where} must be a date-time string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _fail(f"{where} is not a date-time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise _fail(f"{where} has no time zone: {value!r}")
    return parsed.astimezone(UTC)


def _strings(value: Any, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(f"{where} must be a list of strings")
    return frozenset(value)


def _count(value: Any, minimum: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(f"{where} must be an integer >= {minimum}")
    return value


def _list(document: Mapping[str, Any], name: str) -> list[Any]:
    value = document.get(name)
    if not isinstance(value, list):
        raise _fail(f"{name} must be a list")
    return value


def _parse(document: Mapping[str, Any], authority: str) -> TrustList:
    _fields(
        document,
        _TOP_FIELDS,
        ("type", "id", "version", "issued", "validUntil", "issuers", "logs", "witnesses"),
        "trust list",
    )
    if document.get("type") != TRUST_LIST_TYPE:
        raise _fail(f"type must be {TRUST_LIST_TYPE!r}")
    issuers = tuple(
        _parse_issuer(entry, f"issuers[{n}]") for n, entry in enumerate(_list(document, "issuers"))
    )
    if len({i.did for i in issuers}) != len(issuers):
        raise _fail("an issuer DID is listed twice")
    logs = tuple(_parse_log(entry, f"logs[{n}]") for n, entry in enumerate(_list(document, "logs")))
    if len({log.origin for log in logs}) != len(logs):
        raise _fail("a log origin is listed twice")
    witnesses = tuple(
        _parse_witness(entry, f"witnesses[{n}]")
        for n, entry in enumerate(_list(document, "witnesses"))
    )
    if len({w.public_key for w in witnesses}) != len(witnesses):
        raise _fail("a witness key is listed twice")
    quorum = _count(document.get("witnessQuorum", 0), 0, "witnessQuorum")
    if quorum > len(witnesses):
        raise _fail(f"witnessQuorum {quorum} exceeds the {len(witnesses)} listed witnesses")
    return TrustList(
        id=_string(document, "id", "trust list"),
        version=_count(document.get("version"), 1, "version"),
        issued=_instant(document.get("issued"), "issued"),
        valid_until=_instant(document.get("validUntil"), "validUntil"),
        authority=authority,
        issuers=issuers,
        logs=logs,
        witnesses=witnesses,
        witness_quorum=quorum,
    )


def _parse_issuer(entry: Any, where: str) -> TrustedIssuer:
    _fields(
        entry,
        _ISSUER_FIELDS,
        ("did", "name", "uscc", "validFrom", "scopes", "jurisdiction"),
        where,
    )
    did = _string(entry, "did", where)
    if not did.startswith("did:"):
        raise _fail(f"{where}: did must be a DID")
    scopes = entry["scopes"]
    _fields(scopes, _SCOPE_FIELDS, tuple(_SCOPE_FIELDS), f"{where}.scopes")
    jurisdiction = entry["jurisdiction"]
    if jurisdiction not in JURISDICTIONS:
        raise _fail(f"{where}: jurisdiction must be one of {', '.join(JURISDICTIONS)}")
    until = entry.get("validUntil")
    valid_from = _instant(entry["validFrom"], f"{where}.validFrom")
    valid_until = None if until is None else _instant(until, f"{where}.validUntil")
    if valid_until is not None and valid_until <= valid_from:
        raise _fail(f"{where}: validUntil must be after validFrom")
    return TrustedIssuer(
        did=did,
        name=_string(entry, "name", where),
        uscc=_string(entry, "uscc", where),
        valid_from=valid_from,
        valid_until=valid_until,
        scopes=IssuerScopes(
            credential_types=_strings(scopes["credentialTypes"], f"{where}.scopes.credentialTypes"),
            product_categories=_strings(
                scopes["productCategories"], f"{where}.scopes.productCategories"
            ),
        ),
        jurisdiction=str(jurisdiction),
    )


def _parse_log(entry: Any, where: str) -> TrustedLog:
    _fields(entry, frozenset({"origin", "key"}), ("origin", "key"), where)
    origin = _string(entry, "origin", where)
    try:
        verifier = NoteVerifier.from_vkey(_string(entry, "key", where))
    except NoteError as exc:
        raise _fail(f"{where}.key: {exc}") from exc
    if verifier.name != origin:
        raise _fail(f"{where}: the key name {verifier.name!r} is not the origin {origin!r}")
    return TrustedLog(origin, verifier)


def _parse_witness(entry: Any, where: str) -> CosignatureVerifier:
    _fields(entry, frozenset({"key"}), ("key",), where)
    try:
        return CosignatureVerifier.from_vkey(_string(entry, "key", where))
    except NoteError as exc:
        raise _fail(f"{where}.key: {exc}") from exc
