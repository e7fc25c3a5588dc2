"""QR codes for labels: Digital Link QR codes and the self-contained "offline QR".

A label normally carries the URI printed on it in a QR code (ISO/IEC 18004) at
error-correction level M, drawn by :mod:`segno`: its product's GS1 Digital Link naming
the label, ``…/01/{GTIN}[/10/…][/21/…]?label=GDCL-…``
(:func:`schemas.digitallink.label_link`), so a scan resolves to that label and shows
its own status, never another label of the same product.

The **offline QR** carries a whole (lean) signed credential, so it can be checked
without a network. Its text is::

    CL1:<base45( raw-DEFLATE( compact-JSON ) )>

1. compact JSON: ``json.dumps(document, separators=(",", ":"), ensure_ascii=False,
   allow_nan=False)`` encoded as UTF-8 (key order is kept);
2. raw DEFLATE (RFC 1951, no zlib header: ``wbits=-15``), level 9;
3. base45 (RFC 9285), whose 45 characters are exactly the QR alphanumeric set;
4. the scheme tag ``CL1:`` ("carbon label, version 1"), also alphanumeric.

The whole text is therefore encoded in one alphanumeric-mode segment (5.5 bits per
character). :func:`offline_qr` insists on that mode, on level M and on version ≤ 22
(105 × 105 modules): 1,134 alphanumeric characters, i.e. ``CL1:`` plus 1,130 base45
characters = 753 bytes of DEFLATE output. Short credentials compress poorly (the
signature, UUIDs and CJK text hardly shrink): measured, a lean signed label credential
fits up to about 1.45 KB of compact JSON (DEFLATE ≈ 52 %); 1.5 KB needs ~1,180
characters and 2 KB ~1,400. A larger document raises :class:`OfflineQRTooLarge`.

::

    QRError (ValueError)
    ├── Base45Error          text is not RFC 9285 base45
    ├── OfflineQRError       offline text has a bad tag, bad DEFLATE, is oversize, not a JSON object
    └── OfflineQRTooLarge    the offline text does not fit version 22-M in alphanumeric mode
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Mapping
from typing import Any, Final

import segno

__all__ = [
    "BASE45_ALPHABET",
    "MAX_DECOMPRESSED_BYTES",
    "OFFLINE_CAPACITY",
    "OFFLINE_ERROR_LEVEL",
    "OFFLINE_MAX_VERSION",
    "OFFLINE_PREFIX",
    "Base45Error",
    "OfflineQRError",
    "OfflineQRTooLarge",
    "QRError",
    "b45decode",
    "b45encode",
    "decode_offline",
    "encode_offline",
    "offline_qr",
    "qr_png",
    "qr_svg",
]

# RFC 9285 §4: the 45 characters, in value order; the QR alphanumeric set (ISO/IEC 18004 §7.4.5).
BASE45_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_BASE45_VALUE: Final = {c: i for i, c in enumerate(BASE45_ALPHABET)}

OFFLINE_PREFIX: Final = "CL1:"
OFFLINE_MAX_VERSION: Final = 22
OFFLINE_ERROR_LEVEL: Final = "M"
# ISO/IEC 18004 table 7: version 22 at level M has 782 data codewords = 6,256 bits;
# less 4 bits of mode indicator and an 11-bit character count, 567 pairs of 11 bits
# = 1,134 alphanumeric characters.
OFFLINE_CAPACITY: Final = 1134
MAX_DECOMPRESSED_BYTES: Final = 1 << 20  # 1 MiB

ERROR_LEVEL: Final = "m"


class QRError(ValueError):
    """Root of the exceptions raised by :mod:`issuer.qr`."""


class Base45Error(QRError):
    """The text is not valid base45 (RFC 9285 §4.2)."""


class OfflineQRError(QRError):
    """The text is not a valid offline-QR payload; the message says which step failed."""


class OfflineQRTooLarge(QRError):
    """The offline text needs more alphanumeric characters than version 22-M holds."""

    def __init__(self, needed: int, capacity: int) -> None:
        self.needed = needed
        self.capacity = capacity
        super().__init__(
            f"offline QR needs {needed} alphanumeric characters; version "
            f"{OFFLINE_MAX_VERSION}-{OFFLINE_ERROR_LEVEL} holds {capacity} "
            f"({needed - capacity} too many)"
        )


def b45encode(data: bytes) -> str:
    """Base45-encode ``data`` (RFC 9285 §4): each 2 bytes become 3 characters, a last byte 2."""
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        e, n = divmod(n, 45 * 45)
        d, c = divmod(n, 45)
        out += (BASE45_ALPHABET[c], BASE45_ALPHABET[d], BASE45_ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (BASE45_ALPHABET[c], BASE45_ALPHABET[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """Decode base45 (RFC 9285 §4.2).

    Raises :class:`Base45Error` for a character outside the 45, a length of 3k+1, or a
    triple or pair whose value does not fit in 2 bytes or 1 byte.
    """
    values: list[int] = []
    for pos, char in enumerate(text):
        value = _BASE45_VALUE.get(char)
        if value is None:
            raise Base45Error(f"character {char!r} at position {pos} is not in the base45 alphabet")
        values.append(value)
    if len(values) % 3 == 1:
        raise Base45Error(f"length {len(values)} is not valid base45 (3k or 3k+2 characters)")
    out = bytearray()
    for i in range(0, len(values), 3):
        chunk = values[i : i + 3]
        if len(chunk) == 3:
            n = chunk[0] + chunk[1] * 45 + chunk[2] * 45 * 45
            if n > 0xFFFF:
                raise Base45Error(f"triple at position {i} has value {n} > 65535")
            out += n.to_bytes(2, "big")
        else:
            n = chunk[0] + chunk[1] * 45
            if n > 0xFF:
                raise Base45Error(f"final pair at position {i} has value {n} > 255")
            out.append(n)
    return bytes(out)


def qr_png(data: str, *, scale: int = 8, border: int = 4) -> bytes:
    """A QR code of ``data`` at error level M as PNG bytes; ``scale`` pixels per module.

    ``border`` is the quiet zone in modules (ISO/IEC 18004 asks for 4).
    """
    qr = _make(data)
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def qr_svg(data: str, *, scale: float = 1, border: int = 4, unit: str | None = None) -> str:
    """A QR code of ``data`` at error level M as a standalone SVG document (no XML declaration).

    ``scale`` is the size of a module in ``unit`` (user units when ``None``, else e.g.
    ``"mm"``); ``border`` is the quiet zone in modules.
    """
    qr = _make(data)
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=scale, border=border, unit=unit, xmldecl=False)
    return out.getvalue().decode("utf-8")


def encode_offline(document: Mapping[str, Any]) -> str:
    """``CL1:`` + base45(raw DEFLATE level 9 (compact UTF-8 JSON of ``document``)).

    Raises :class:`OfflineQRError` if ``document`` is not JSON-serialisable
    (including NaN and infinities).
    """
    try:
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise OfflineQRError(f"document is not JSON: {exc}") from exc
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = compressor.compress(text.encode("utf-8")) + compressor.flush()
    return OFFLINE_PREFIX + b45encode(deflated)


def decode_offline(text: str) -> dict[str, Any]:
    """Decode an offline-QR text made by :func:`encode_offline` back into the document.

    Raises :class:`OfflineQRError` for a missing ``CL1:`` tag, a DEFLATE stream that is
    corrupt, truncated or followed by extra bytes, more than 1 MiB once inflated
    (checked while inflating), or JSON that is not one object, has duplicate keys or
    NaN/Infinity; :class:`Base45Error` for text that is not base45.
    """
    if not text.startswith(OFFLINE_PREFIX):
        raise OfflineQRError(f"offline QR text must start with {OFFLINE_PREFIX!r}")
    deflated = b45decode(text[len(OFFLINE_PREFIX) :])
    inflater = zlib.decompressobj(-15)
    try:
        raw = inflater.decompress(deflated, MAX_DECOMPRESSED_BYTES)
        if inflater.unconsumed_tail:
            raise OfflineQRError(f"decompressed payload exceeds {MAX_DECOMPRESSED_BYTES} bytes")
        raw += inflater.flush()
    except zlib.error as exc:
        raise OfflineQRError(f"payload is not valid raw DEFLATE: {exc}") from exc
    if not inflater.eof:
        raise OfflineQRError("DEFLATE stream is truncated")
    if inflater.unused_data:
        raise OfflineQRError("extra bytes after the end of the DEFLATE stream")
    try:
        document = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_no_duplicate_keys,
            parse_constant=_refuse_constant,
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OfflineQRError(f"payload is not UTF-8 JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise OfflineQRError("payload must be a JSON object")
    return document


def offline_qr(document: Mapping[str, Any]) -> segno.QRCode:
    """The offline QR of ``document``: alphanumeric mode, error level M, version ≤ 22.

    Raises :class:`OfflineQRTooLarge` (with ``needed`` and ``capacity`` in characters)
    when the encoded text does not fit version 22-M.
    """
    text = encode_offline(document)
    if len(text) > OFFLINE_CAPACITY:
        raise OfflineQRTooLarge(len(text), OFFLINE_CAPACITY)
    return segno.make_qr(
        text,
        error=OFFLINE_ERROR_LEVEL.lower(),
        mode="alphanumeric",
        version=None,
        boost_error=False,
    )


def _make(data: str) -> segno.QRCode:
    return segno.make_qr(data, error=ERROR_LEVEL, boost_error=False)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise OfflineQRError(f"payload has duplicate JSON key {key!r}")
        document[key] = value
    return document


def _refuse_constant(name: str) -> Any:
    raise OfflineQRError(f"payload has the non-JSON number {name}")
