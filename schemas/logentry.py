"""The log entry: what the transparency log records for each event of the label system.

A log entry is a small JSON object, stored in the log as its RFC 8785 (JCS)
canonical bytes, so anyone holding the object can recompute the exact leaf.
It names a credential and the SHA-256 digest of the signed credential (also of
its JCS form), never the confidential study data.

Kinds: ``issue`` (a credential was issued), ``status`` (a status bit changed:
revoke, suspend, reinstate), ``grading-rule`` (a rule was published),
``recognition`` (a recognition decision), ``trust-list`` (a trust list was
published), ``gtin-assignment`` (the label authority gave a GTIN to a
manufacturer: ``gtin``, ``manufacturer`` and ``previous`` USCCs, ``issuer``,
``at``, ``reason``). A label's ``issue`` entry names its product in
``products``: ``gtin``, ``batch``, ``serial`` and ``manufacturer`` (the USCC
the first label of a GTIN binds it to; issuer/gtins.py).

A ``status`` entry may carry a ``reason``: why the issuer revoked, suspended or
reinstated the credential, in its own words (shown on the scan page). It is
optional, at most :data:`MAX_REASON_CHARS` characters, and holds no control
character (NUL included) and no lone surrogate (:func:`check_reason`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import rfc8785

__all__ = [
    "ENTRY_KINDS",
    "ENTRY_VERSION",
    "MAX_REASON_CHARS",
    "LogEntryError",
    "check_reason",
    "credential_digest",
    "entry_bytes",
    "parse_entry",
]

ENTRY_VERSION: Final = 1
ENTRY_KINDS: Final = (
    "issue",
    "status",
    "grading-rule",
    "recognition",
    "trust-list",
    "gtin-assignment",
)
_DIGEST: Final = re.compile(r"sha256:[0-9a-f]{64}")
_REQUIRED: Final = {
    "issue": ("credential", "digest", "issuer", "types"),
    "status": ("credential", "purpose", "value", "statusList", "statusIndex"),
    "grading-rule": ("rule", "version", "digest"),
    "recognition": ("credential", "digest", "issuer"),
    "trust-list": ("digest",),
    "gtin-assignment": ("gtin", "manufacturer", "previous", "issuer", "at", "reason"),
}
MAX_ENTRY_BYTES: Final = 8192
MAX_REASON_CHARS: Final = 500
"""The longest ``reason`` of a status entry, in characters (code points)."""


class LogEntryError(ValueError):
    """A log entry is malformed; the message names the field."""


Canonical = Callable[[Any], bytes]
"""An RFC 8785 serializer: ``rfc8785.dumps`` or a faster byte-identical one."""


def credential_digest(document: Mapping[str, Any], canonical: Canonical = rfc8785.dumps) -> str:
    """``sha256:<hex>`` of the RFC 8785 canonical JSON of a (signed) document."""
    return "sha256:" + hashlib.sha256(canonical(dict(document))).hexdigest()


def entry_bytes(entry: Mapping[str, Any], canonical: Canonical = rfc8785.dumps) -> bytes:
    """Validate a log entry and return its canonical bytes (what the log stores).

    Raises LogEntryError naming the missing or malformed field.
    """
    _check(entry)
    data = canonical({"v": ENTRY_VERSION, **entry})
    if len(data) > MAX_ENTRY_BYTES:
        raise LogEntryError(f"entry is {len(data)} bytes; at most {MAX_ENTRY_BYTES} allowed")
    return data


def parse_entry(data: bytes, canonical: Canonical = rfc8785.dumps) -> dict[str, Any]:
    """Parse and check a log entry read back from the log (or a label bundle).

    Raises LogEntryError if it is not canonical JSON of a known kind and version.
    """
    try:
        entry = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise LogEntryError(f"entry is not JSON: {exc}") from exc
    if not isinstance(entry, dict):
        raise LogEntryError("entry must be a JSON object")
    if entry.get("v") != ENTRY_VERSION:
        raise LogEntryError(f"entry version must be {ENTRY_VERSION}, got {entry.get('v')!r}")
    _check(entry)
    if canonical(entry) != data:
        raise LogEntryError("entry is not in RFC 8785 canonical form")
    return entry


def check_reason(reason: object) -> None:
    """The ``reason`` of a status entry: a non-blank string of at most
    :data:`MAX_REASON_CHARS` characters, with no control character (NUL, line breaks
    and the other C0/C1 controls) and no lone surrogate. Raises LogEntryError saying
    which rule it breaks."""
    if not isinstance(reason, str) or not reason.strip():
        raise LogEntryError("reason must be a non-blank string")
    if len(reason) > MAX_REASON_CHARS:
        raise LogEntryError(
            f"reason is {len(reason)} characters; at most {MAX_REASON_CHARS} allowed"
        )
    for char in reason:
        code = ord(char)
        if code < 0x20 or 0x7F <= code < 0xA0:
            raise LogEntryError(f"reason holds the control character U+{code:04X}")
        if 0xD800 <= code < 0xE000:
            raise LogEntryError(f"reason holds a lone surrogate U+{code:04X}")


def _check(entry: Mapping[str, Any]) -> None:
    kind = entry.get("kind")
    if kind not in ENTRY_KINDS:
        raise LogEntryError(f"kind must be one of {', '.join(ENTRY_KINDS)}, got {kind!r}")
    for field in _REQUIRED[str(kind)]:
        if field not in entry:
            raise LogEntryError(f"{kind} entry: {field} is required")
    if kind == "status" and "reason" in entry:
        check_reason(entry["reason"])
    digest = entry.get("digest")
    if digest is not None and (not isinstance(digest, str) or not _DIGEST.fullmatch(digest)):
        raise LogEntryError("digest must be 'sha256:' and 64 lowercase hex digits")
