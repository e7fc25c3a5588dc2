"""Bitstring Status List v1.0 (W3C Recommendation, 15 May 2025).

A status list is a bitstring of at least 131,072 entries (16 KiB), published
GZIP-compressed and multibase base64url-encoded (``u`` prefix, no padding) in
the ``encodedList`` of a ``BitstringStatusListCredential``. A credential points
at one position with a ``BitstringStatusListEntry``.

Only one-bit entries (``statusSize`` 1) with the purposes ``revocation`` and
``suspension`` are supported; anything else is refused with a
:class:`~credentials.errors.StatusListError` that names it.

Index 0 is the left-most (most significant) bit of the first byte (§2.3
``encodedList``). Nothing here fetches a status list or verifies its proof: the
caller dereferences ``statusListCredential`` through its configured resolver
and verifies the list credential with :mod:`credentials.dataintegrity` first.
"""

from __future__ import annotations

import base64
import re
import zlib
from datetime import UTC, datetime
from typing import Any, Final

from credentials.errors import StatusListError

__all__ = [
    "ENTRY_TYPE",
    "LIST_CREDENTIAL_TYPE",
    "LIST_TYPE",
    "MAX_BITSTRING_BYTES",
    "MIN_BITSTRING_LENGTH",
    "SUPPORTED_PURPOSES",
    "Bitstring",
    "read_status",
    "status_list_credential",
    "status_list_entry",
]

MIN_BITSTRING_LENGTH: Final = 131_072
"""§3.2 step 2: the default ``minimumNumberOfEntries`` (16 KiB of one-bit entries)."""

MAX_BITSTRING_BYTES: Final = 16 * 1024 * 1024
"""Refuse to expand a list beyond 16 MiB (134 M entries): a gzip bomb guard."""

SUPPORTED_PURPOSES: Final = frozenset({"revocation", "suspension"})
ENTRY_TYPE: Final = "BitstringStatusListEntry"
LIST_TYPE: Final = "BitstringStatusList"
LIST_CREDENTIAL_TYPE: Final = "BitstringStatusListCredential"
VC_V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_INDEX = re.compile(r"[0-9]+")
_GZIP_WBITS: Final = 31  # zlib: GZIP container (RFC 1952), not raw DEFLATE or zlib


class Bitstring:
    """A fixed-length bitstring; bit ``i`` is bit ``7 - i % 8`` of byte ``i // 8``.

    ``length`` must be a positive multiple of 8. Lists that are published need at
    least :data:`MIN_BITSTRING_LENGTH` bits; shorter ones can be built (for tests)
    but :func:`status_list_credential` refuses them.
    """

    __slots__ = ("_bits",)

    def __init__(self, length: int = MIN_BITSTRING_LENGTH) -> None:
        if isinstance(length, bool) or length <= 0 or length % 8 != 0:
            raise ValueError(f"bitstring length must be a positive multiple of 8, got {length}")
        self._bits = bytearray(length // 8)

    @classmethod
    def from_bytes(cls, data: bytes) -> Bitstring:
        """The bitstring whose bytes are ``data`` (index 0 = MSB of ``data[0]``)."""
        bitstring = cls(8 * len(data))
        bitstring._bits[:] = data
        return bitstring

    def __len__(self) -> int:
        return 8 * len(self._bits)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bitstring):
            return NotImplemented
        return self._bits == other._bits

    def __hash__(self) -> int:
        raise TypeError("Bitstring is mutable and unhashable")

    def __repr__(self) -> str:
        return f"Bitstring(length={len(self)}, set={sum(map(int.bit_count, self._bits))})"

    def to_bytes(self) -> bytes:
        return bytes(self._bits)

    def _check_index(self, index: int) -> None:
        if isinstance(index, bool) or not 0 <= index < len(self):
            raise StatusListError(
                StatusListError.RANGE_ERROR,
                f"index {index} is outside the bitstring of length {len(self)}",
            )

    def get(self, index: int) -> bool:
        """The bit at ``index``; raises ``StatusListError(RANGE_ERROR)`` outside the list."""
        self._check_index(index)
        return bool(self._bits[index >> 3] & (0x80 >> (index & 7)))

    def set(self, index: int, value: bool = True) -> None:
        """Set (or with ``value=False`` clear) the bit at ``index``."""
        self._check_index(index)
        mask = 0x80 >> (index & 7)
        if value:
            self._bits[index >> 3] |= mask
        else:
            self._bits[index >> 3] &= ~mask & 0xFF

    def encode(self) -> str:
        """§3.3 Bitstring Generation: GZIP, then multibase base64url without padding.

        Compressed with zlib level 6 and a zero GZIP header (no name, mtime 0), which
        reproduces the spec's example ``encodedList`` for an all-zero 16 KiB list.
        """
        compressor = zlib.compressobj(6, zlib.DEFLATED, _GZIP_WBITS)
        gzipped = compressor.compress(bytes(self._bits)) + compressor.flush()
        return "u" + base64.urlsafe_b64encode(gzipped).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, encoded_list: str, *, minimum_length: int = MIN_BITSTRING_LENGTH) -> Bitstring:
        """§3.4 Bitstring Expansion, plus the §3.2 step 10 length check.

        Raises ``StatusListError`` with ``MALFORMED_VALUE_ERROR`` when the value is
        not ``u`` + base64url (no padding) of one complete GZIP member, or expands
        beyond :data:`MAX_BITSTRING_BYTES`; with ``STATUS_LIST_LENGTH_ERROR`` when
        it holds fewer than ``minimum_length`` bits.
        """
        malformed = StatusListError.MALFORMED_VALUE_ERROR
        if not encoded_list.startswith("u"):
            raise StatusListError(malformed, "encodedList must be a string starting with 'u'")
        body = encoded_list[1:]
        if _BASE64URL.fullmatch(body) is None or len(body) % 4 == 1:
            raise StatusListError(malformed, "encodedList is not base64url without padding")
        gzipped = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        decompressor = zlib.decompressobj(_GZIP_WBITS)
        try:
            raw = decompressor.decompress(gzipped, MAX_BITSTRING_BYTES + 1)
        except zlib.error as exc:
            raise StatusListError(malformed, f"encodedList is not valid GZIP: {exc}") from exc
        if len(raw) > MAX_BITSTRING_BYTES:
            raise StatusListError(
                malformed, f"encodedList expands beyond {MAX_BITSTRING_BYTES} bytes"
            )
        if not decompressor.eof or decompressor.unused_data:
            raise StatusListError(malformed, "encodedList is not exactly one complete GZIP member")
        if 8 * len(raw) < minimum_length:
            raise StatusListError(
                StatusListError.STATUS_LIST_LENGTH_ERROR,
                f"status list has {8 * len(raw)} entries, fewer than the {minimum_length} "
                "required for herd privacy",
            )
        return cls.from_bytes(raw)


def _check_purpose(purpose: str) -> None:
    if purpose not in SUPPORTED_PURPOSES:
        raise StatusListError(
            StatusListError.MALFORMED_VALUE_ERROR,
            f"statusPurpose {purpose!r} is not supported (only {sorted(SUPPORTED_PURPOSES)})",
        )


def _date_time_stamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def status_list_entry(list_url: str, index: int, purpose: str) -> dict[str, Any]:
    """§2.1 ``BitstringStatusListEntry`` for position ``index`` of the list at ``list_url``.

    ``index`` is a non-negative int (0 is valid); it is written base-10 as a string.
    Raises ``StatusListError(MALFORMED_VALUE_ERROR)`` for an unsupported purpose and
    ``StatusListError(RANGE_ERROR)`` for a negative index.
    """
    _check_purpose(purpose)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise StatusListError(StatusListError.RANGE_ERROR, f"invalid statusListIndex {index!r}")
    return {
        "id": f"{list_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list_credential(
    list_url: str,
    issuer: str,
    purpose: str,
    bitstring: Bitstring,
    valid_from: datetime,
    valid_until: datetime | None = None,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """§2.2 unsigned ``BitstringStatusListCredential`` (VC 2.0) for ``bitstring``.

    The caller signs it with :mod:`credentials.dataintegrity` before publishing
    (§3.1 Generate Algorithm, last step). Datetimes must be timezone-aware and
    are written in UTC. Raises ``StatusListError`` with
    ``STATUS_LIST_LENGTH_ERROR`` for a list shorter than
    :data:`MIN_BITSTRING_LENGTH`, ``MALFORMED_VALUE_ERROR`` for an unsupported
    purpose or a negative ``ttl_ms``.
    """
    _check_purpose(purpose)
    if len(bitstring) < MIN_BITSTRING_LENGTH:
        raise StatusListError(
            StatusListError.STATUS_LIST_LENGTH_ERROR,
            f"a published status list needs at least {MIN_BITSTRING_LENGTH} entries, "
            f"got {len(bitstring)}",
        )
    subject: dict[str, Any] = {
        "id": f"{list_url}#list",
        "type": LIST_TYPE,
        "statusPurpose": purpose,
        "encodedList": bitstring.encode(),
    }
    if ttl_ms is not None:
        if isinstance(ttl_ms, bool) or ttl_ms < 0:
            raise StatusListError(StatusListError.MALFORMED_VALUE_ERROR, f"invalid ttl {ttl_ms}")
        subject["ttl"] = ttl_ms
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": _date_time_stamp(valid_from),
    }
    if valid_until is not None:
        credential["validUntil"] = _date_time_stamp(valid_until)
    credential["credentialSubject"] = subject
    return credential


def _types(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def _parse_entry(entry: dict[str, Any]) -> tuple[str, int, str]:
    malformed = StatusListError.MALFORMED_VALUE_ERROR
    if not isinstance(entry, dict) or ENTRY_TYPE not in _types(entry.get("type")):
        raise StatusListError(malformed, f"credentialStatus is not a {ENTRY_TYPE}")
    purpose = entry.get("statusPurpose")
    if not isinstance(purpose, str):
        raise StatusListError(malformed, "statusPurpose must be a string")
    _check_purpose(purpose)
    raw_index = entry.get("statusListIndex")
    if not isinstance(raw_index, str) or _INDEX.fullmatch(raw_index) is None:
        raise StatusListError(
            malformed, f"statusListIndex must be a base-10 integer string, got {raw_index!r}"
        )
    list_url = entry.get("statusListCredential")
    if not isinstance(list_url, str) or not list_url:
        raise StatusListError(malformed, "statusListCredential must be a URL")
    status_size = entry.get("statusSize", 1)
    if status_size != 1 or isinstance(status_size, bool):
        raise StatusListError(
            malformed, f"statusSize {status_size!r} is not supported (only 1-bit entries)"
        )
    if "statusMessage" in entry:
        raise StatusListError(malformed, "statusMessage is not supported (only 1-bit entries)")
    return purpose, int(raw_index), list_url


def read_status(
    entry: dict[str, Any],
    status_list_credential: dict[str, Any],
    *,
    minimum_length: int = MIN_BITSTRING_LENGTH,
) -> bool:
    """§3.2 Validate Algorithm, steps 3 and 5-11: the status bit of ``entry``.

    Returns ``True`` when the bit is set (revoked / suspended), ``False`` when
    clear. Precondition: ``status_list_credential`` is the credential that
    ``entry["statusListCredential"]`` dereferences to, and the caller has
    already verified its proof (step 4, :mod:`credentials.dataintegrity`),
    its issuer and its validity period; this function does not.

    Raises ``StatusListError`` with ``STATUS_VERIFICATION_ERROR`` when the list
    credential is not the one named by the entry, is not a
    ``BitstringStatusListCredential``, or the purposes differ (step 6);
    ``STATUS_LIST_LENGTH_ERROR`` for a list shorter than ``minimum_length``
    (step 10); ``RANGE_ERROR`` for an index past its end (step 11);
    ``MALFORMED_VALUE_ERROR`` for malformed or unsupported values.
    """
    verification = StatusListError.STATUS_VERIFICATION_ERROR
    purpose, index, list_url = _parse_entry(entry)
    if not isinstance(status_list_credential, dict):
        raise StatusListError(verification, "status list credential is not a JSON object")
    if LIST_CREDENTIAL_TYPE not in _types(status_list_credential.get("type")):
        raise StatusListError(verification, f"credential is not a {LIST_CREDENTIAL_TYPE}")
    credential_id = status_list_credential.get("id")
    if credential_id is not None and credential_id != list_url:
        raise StatusListError(
            verification,
            f"status list credential {credential_id!r} is not the one the entry names "
            f"({list_url!r})",
        )
    subject = status_list_credential.get("credentialSubject")
    if not isinstance(subject, dict) or LIST_TYPE not in _types(subject.get("type")):
        raise StatusListError(verification, f"credentialSubject is not a {LIST_TYPE}")
    list_purposes = _types(subject.get("statusPurpose"))
    if purpose not in list_purposes:
        raise StatusListError(
            verification,
            f"entry statusPurpose {purpose!r} does not match the list's {list_purposes!r}",
        )
    encoded_list = subject.get("encodedList")
    if not isinstance(encoded_list, str):
        raise StatusListError(StatusListError.MALFORMED_VALUE_ERROR, "encodedList must be a string")
    bitstring = Bitstring.decode(encoded_list, minimum_length=minimum_length)
    if index >= len(bitstring):
        raise StatusListError(
            StatusListError.RANGE_ERROR,
            f"statusListIndex {index} is outside the status list of length {len(bitstring)}",
        )
    return bitstring.get(index)
