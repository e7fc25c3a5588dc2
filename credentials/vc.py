"""W3C VC Data Model 2.0: the structural rules and the validity window.

Pure checks on plain dicts that raise :class:`~credentials.errors.VerificationError`
naming the check (``structure`` or ``validity``) and a reason code.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from credentials.errors import VerificationError

__all__ = [
    "VC_V2_CONTEXT",
    "check_structure",
    "check_validity",
    "credential_types",
    "issuer_id",
    "parse_datetime",
]

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"


def parse_datetime(value: Any, field: str, check: str = "structure") -> datetime:
    """An XML Schema dateTimeStamp (with time zone), else VerificationError naming ``field``."""
    if not isinstance(value, str):
        raise VerificationError(check, "INVALID_DATETIME", f"{field} must be a date-time string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise VerificationError(
            check, "INVALID_DATETIME", f"{field} is not a date-time: {value!r}"
        ) from exc
    if parsed.tzinfo is None:
        raise VerificationError(check, "INVALID_DATETIME", f"{field} has no time zone: {value!r}")
    return parsed


def credential_types(document: Mapping[str, Any]) -> list[str]:
    """The ``type`` values of a credential or presentation as a list."""
    types = document.get("type")
    if isinstance(types, str):
        return [types]
    if isinstance(types, list) and all(isinstance(t, str) for t in types):
        return list(types)
    return []


def issuer_id(document: Mapping[str, Any]) -> str:
    """The issuer's URL: ``issuer`` itself or ``issuer.id`` (VC 2.0 §4.7)."""
    issuer = document.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    if not isinstance(issuer, str) or ":" not in issuer:
        raise VerificationError(
            "structure", "INVALID_ISSUER", "issuer must be a URL or an object with an id URL"
        )
    return issuer


def check_structure(document: Any) -> None:
    """VC 2.0 §4: contexts, type, issuer, subject and date formats of a credential.

    Raises VerificationError(check="structure") naming the first broken rule.
    """
    if not isinstance(document, Mapping):
        raise VerificationError("structure", "NOT_AN_OBJECT", "a credential must be a JSON object")
    context = document.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_V2_CONTEXT:
        raise VerificationError(
            "structure", "INVALID_CONTEXT", f"@context must be a list starting with {VC_V2_CONTEXT}"
        )
    if "VerifiableCredential" not in credential_types(document):
        raise VerificationError(
            "structure", "INVALID_TYPE", "type must include VerifiableCredential"
        )
    issuer_id(document)
    subject = document.get("credentialSubject")
    subjects = subject if isinstance(subject, list) else [subject]
    if not subjects or not all(isinstance(s, Mapping) and s for s in subjects):
        raise VerificationError(
            "structure", "INVALID_SUBJECT", "credentialSubject must be a non-empty object"
        )
    if "id" in document and (not isinstance(document["id"], str) or ":" not in document["id"]):
        raise VerificationError("structure", "INVALID_ID", "id must be a URL")
    for field in ("validFrom", "validUntil"):
        if field in document:
            parse_datetime(document[field], field)


def check_validity(document: Mapping[str, Any], now: datetime) -> None:
    """VC 2.0 §4.9: ``validFrom <= now <= validUntil`` (where given).

    Raises VerificationError(check="validity") with reason NOT_YET_VALID or EXPIRED.
    """
    if "validFrom" in document:
        valid_from = parse_datetime(document["validFrom"], "validFrom", "validity")
        if now < valid_from:
            raise VerificationError(
                "validity", "NOT_YET_VALID", f"not valid before {document['validFrom']}"
            )
    if "validUntil" in document:
        valid_until = parse_datetime(document["validUntil"], "validUntil", "validity")
        if now > valid_until:
            raise VerificationError("validity", "EXPIRED", f"expired at {document['validUntil']}")
