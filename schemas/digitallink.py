"""GS1 Digital Link URIs for labelled products (GS1 Digital Link: URI syntax, ISO/IEC 18975).

A product's Digital Link is ``{base}/01/{GTIN-14}[/10/{batch}][/21/{serial}]``:

- AI 01 (GTIN) is always written as 14 digits: GTIN-8, -12 and -13 are padded with
  leading zeros, and the GS1 mod-10 check digit is verified
  (GS1 General Specifications §7.9, through :func:`schemas.validate.check_gtin`).
- AI 10 (batch/lot) and AI 21 (serial) are key qualifiers of the GTIN, in that order.
  Each holds 1 to 20 characters of the GS1 AI encodable character set 82 (GS1 General
  Specifications §7.11, figure 7.11-1): ``A-Z a-z 0-9`` and ``! " % & ' ( ) * + , - . / :
  ; < = > ? _``.
- In the URI every character of a value other than ``A-Z a-z 0-9 - . _`` is
  percent-encoded with upper-case hex digits (GS1 Digital Link URI syntax §7.3;
  ``/`` and ``%`` in particular, so a value never splits a path segment).

**The URI printed on a label** (its QR code, the printable label, the ``digitalLink`` the
API returns) is the product's Digital Link plus one non-GS1 query parameter naming the
label: ``{base}/01/{GTIN-14}[/10/{batch}][/21/{serial}]?label=GDCL-2026-AC-000123``
(:func:`label_link`). GS1 Digital Link URI syntax 1.x lets a URI carry, after the
path of the key and its qualifiers, a query string of GS1 data attributes (numeric AI
keys such as ``17=261231``) *and* other key=value pairs whose keys are not AIs; a
conformant parser keeps the GS1 part (``01``, ``10``, ``21``) and ignores the rest, and a
GS1-conformant resolver passes such parameters on. So any GS1 reader still reads the
GTIN, batch and serial from the printed code, while our resolver reads ``label`` and
answers with *that* label (its own status: a revoked label's code says "revoked"), never
with another label of the same product. The key ``label`` is alphabetic, so it can never
be mistaken for an AI, and it is none of the resolver's own parameters (``linkType``,
``context``, ``lang``). A key qualifier was not used: GS1 defines no AI for "the label
of this item", and a made-up path AI would make the URI invalid for every GS1 tool.

:func:`parse_digital_link` reads such a URI (or only its path) back, accepting
GTIN-8/12/13/14, lower- or upper-case percent-encoding and RFC 3986 sub-delimiters
written literally. Everything it refuses raises :class:`DigitalLinkError` naming the
element (``gtin``, ``batch``, ``serial``, ``base_url`` or ``path``) and the reason.

:func:`new_serial` makes an unguessable serial for AI 21: 13 characters from the
31-character alphabet of GB 32100 (digits and capitals without I, O, S, V, Z), i.e.
13 × log2(31) ≈ 64.4 bits drawn with :mod:`secrets`. Serials are never sequential,
so one genuine label says nothing about the serials of others.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Final
from urllib.parse import parse_qs, urlsplit

from schemas.errors import InvalidGTIN
from schemas.validate import check_gtin

__all__ = [
    "GS1_CSET82",
    "LABEL_PARAMETER",
    "SERIAL_ALPHABET",
    "SERIAL_LENGTH",
    "DigitalLinkError",
    "DigitalLinkId",
    "digital_link",
    "label_link",
    "new_serial",
    "parse_digital_link",
]

# GS1 General Specifications §7.11, figure 7.11-1: GS1 AI encodable character set 82.
GS1_CSET82: Final = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
# GS1 Digital Link URI syntax: the characters of CSet 82 written as they are in a URI.
_URI_LITERAL: Final = frozenset("-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
# RFC 3986 §3.3 pchar characters that a reader meets unencoded in a path segment.
_PCHAR_LITERAL: Final = _URI_LITERAL | frozenset("~!$&'()*+,;=:@")
_QUALIFIER_MAX_LENGTH: Final = 20
_PCT: Final = re.compile(r"%([0-9A-Fa-f]{2})")

# AI 01 and its key qualifiers, in the order GS1 Digital Link requires.
_AI_GTIN: Final = "01"
_QUALIFIERS: Final = {"10": "batch", "21": "serial"}

# The non-GS1 query parameter of a printed label URI that names the label.
LABEL_PARAMETER: Final = "label"
# schemas/json/common.schema.json#/$defs/LabelNumber: URI-safe, never percent-encoded.
_LABEL_NUMBER: Final = re.compile(r"GDCL-[0-9]{4}-[A-Z]{2,4}-[0-9]{6}")

# GB 32100-2015 character set: digits and capitals without I, O, S, V, Z, so a serial
# read aloud or retyped from print is not mistaken (0/O, 1/I, 5/S, 2/Z, U/V).
SERIAL_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# 31**13 > 2**64: at least 64 bits of randomness per serial.
SERIAL_LENGTH: Final = 13


class DigitalLinkError(ValueError):
    """A GS1 Digital Link element is invalid; ``element`` names it, ``reason`` says why."""

    def __init__(self, element: str, reason: str) -> None:
        self.element = element
        self.reason = reason
        super().__init__(f"{element}: {reason}")


@dataclass(frozen=True, slots=True)
class DigitalLinkId:
    """The GS1 keys a Digital Link carries: GTIN-14 and the optional batch and serial,
    and ``label``, the label number of a printed label URI (:func:`label_link`)."""

    gtin14: str
    batch: str | None = None
    serial: str | None = None
    label: str | None = None


def digital_link(
    base_url: str, gtin: str, *, batch: str | None = None, serial: str | None = None
) -> str:
    """Build ``{base}/01/{GTIN-14}[/10/{batch}][/21/{serial}]`` (GS1 Digital Link URI syntax).

    ``base_url`` is an ``http``/``https`` URL with a host and optionally a path prefix,
    without query or fragment; a trailing ``/`` is dropped. ``gtin`` is a GTIN-8, -12,
    -13 or -14 with a valid check digit. ``batch`` and ``serial`` are 1-20 characters
    of GS1 CSet 82. Raises :class:`DigitalLinkError` naming the bad element.
    """
    base = _check_base_url(base_url)
    parts = [base, _AI_GTIN, _gtin14(gtin)]
    for ai, element, value in (("10", "batch", batch), ("21", "serial", serial)):
        if value is not None:
            _check_qualifier(element, value)
            parts += [ai, _percent_encode(value)]
    return "/".join(parts)


def label_link(link: str, label_number: str) -> str:
    """The URI printed on label ``label_number`` of the product whose Digital Link is ``link``:
    ``{link}?label={label_number}`` (see the module docstring).

    ``link`` is a Digital Link as :func:`digital_link` builds it (no query, no fragment);
    ``label_number`` matches ``GDCL-YYYY-XX-NNNNNN``. Raises :class:`DigitalLinkError`
    (element ``label`` or ``path``).
    """
    if not isinstance(label_number, str) or _LABEL_NUMBER.fullmatch(label_number) is None:
        raise DigitalLinkError("label", f"{label_number!r} is not a label number")
    if "?" in link or "#" in link:
        raise DigitalLinkError("path", "a Digital Link to label must have no query or fragment")
    return f"{link}?{LABEL_PARAMETER}={label_number}"


def parse_digital_link(path_or_uri: str) -> DigitalLinkId:
    """Read the GTIN, batch and serial from a GS1 Digital Link URI or its path.

        The primary key is the first path segment ``01``; whatever comes before it is the
        resolver's own path prefix. After the GTIN only ``/10/{batch}`` then
        ``/21/{serial}`` may follow. In the query, ``label`` (at most once, a label number
    ``GDCL-YYYY-XX-NNNNNN``) names the label the URI was printed for; every other query
    parameter (``?linkType=...``) and the fragment are ignored.
        Raises :class:`DigitalLinkError` naming the element and the reason.
    """
    if not isinstance(path_or_uri, str):
        raise DigitalLinkError("path", "must be a string")
    split = urlsplit(path_or_uri)
    if split.scheme and split.scheme.lower() not in ("http", "https"):
        raise DigitalLinkError("path", f"scheme must be http or https, not {split.scheme!r}")
    segments = split.path.split("/")
    try:
        start = segments.index(_AI_GTIN)
    except ValueError:
        raise DigitalLinkError("path", "has no /01/{GTIN} primary key") from None
    pairs = segments[start:]
    if len(pairs) % 2:
        raise DigitalLinkError(
            "path", f"AI {pairs[-1]!r} has no value (path elements come in AI/value pairs)"
        )
    gtin_text = _percent_decode("gtin", pairs[1])
    gtin14 = _gtin14(gtin_text)
    values: dict[str, str] = {}
    last_rank = -1
    for ai, raw in zip(pairs[2::2], pairs[3::2], strict=True):
        if ai not in _QUALIFIERS:
            raise DigitalLinkError(
                "path", f"AI {ai!r} is not a supported key qualifier of a GTIN (10 or 21)"
            )
        rank = list(_QUALIFIERS).index(ai)
        element = _QUALIFIERS[ai]
        if rank <= last_rank:
            raise DigitalLinkError(
                element, f"AI {ai} is repeated or out of order (batch /10 comes before serial /21)"
            )
        last_rank = rank
        value = _percent_decode(element, raw)
        _check_qualifier(element, value)
        values[element] = value
    return DigitalLinkId(
        gtin14, values.get("batch"), values.get("serial"), _label_parameter(split.query)
    )


def _label_parameter(query: str) -> str | None:
    if not query:
        return None
    found = parse_qs(query, keep_blank_values=True).get(LABEL_PARAMETER)
    if found is None:
        return None
    if len(found) != 1:
        raise DigitalLinkError("label", "the label parameter is given more than once")
    if _LABEL_NUMBER.fullmatch(found[0]) is None:
        raise DigitalLinkError(
            "label", f"{found[0][:40]!r} is not a label number like GDCL-2026-AC-000123"
        )
    return found[0]


def new_serial(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """A random GTIN serial (AI 21): 13 characters of :data:`SERIAL_ALPHABET`, ≥ 64 bits.

    ``randbelow(n)`` must return a uniformly random integer in ``[0, n)``; it defaults
    to :func:`secrets.randbelow` and is a parameter only so tests can pin it.
    """
    n = len(SERIAL_ALPHABET)
    return "".join(SERIAL_ALPHABET[randbelow(n)] for _ in range(SERIAL_LENGTH))


def _gtin14(gtin: str) -> str:
    try:
        return check_gtin(gtin)
    except InvalidGTIN as exc:
        raise DigitalLinkError("gtin", exc.reason) from exc


def _check_base_url(base_url: str) -> str:
    if not isinstance(base_url, str) or not base_url:
        raise DigitalLinkError("base_url", "must be a non-empty string")
    return _checked_base_url(base_url)


@lru_cache(maxsize=64)  # a deployment links every label to one resolver
def _checked_base_url(base_url: str) -> str:
    split = urlsplit(base_url)
    if split.scheme.lower() not in ("http", "https"):
        raise DigitalLinkError("base_url", "must be an http or https URL")
    if not split.hostname:
        raise DigitalLinkError("base_url", "must name a host")
    if split.query or split.fragment or "?" in base_url or "#" in base_url:
        raise DigitalLinkError("base_url", "must not have a query or fragment")
    if any(c.isspace() or ord(c) < 0x21 or ord(c) > 0x7E for c in base_url):
        raise DigitalLinkError("base_url", "must be ASCII without spaces or control characters")
    if _AI_GTIN in split.path.split("/"):
        raise DigitalLinkError("base_url", "path prefix must not contain a /01/ segment")
    return base_url.rstrip("/")


def _check_qualifier(element: str, value: str) -> None:
    if not isinstance(value, str) or not value:
        raise DigitalLinkError(element, "must be 1 to 20 characters")
    if len(value) > _QUALIFIER_MAX_LENGTH:
        raise DigitalLinkError(element, f"must be at most 20 characters (has {len(value)})")
    for char in value:
        if char not in GS1_CSET82:
            raise DigitalLinkError(
                element, f"character {char!r} is not in GS1 AI encodable character set 82"
            )


def _percent_encode(value: str) -> str:
    return "".join(c if c in _URI_LITERAL else f"%{ord(c):02X}" for c in value)


def _percent_decode(element: str, raw: str) -> str:
    for char in _PCT.sub("", raw):
        if char not in _PCHAR_LITERAL:
            raise DigitalLinkError(
                element, f"character {char!r} must be percent-encoded in a URI path"
            )
    return _PCT.sub(lambda m: _decode_octet(element, m.group(1)), raw)


def _decode_octet(element: str, hex_digits: str) -> str:
    octet = int(hex_digits, 16)
    if octet > 0x7E or octet < 0x20:
        raise DigitalLinkError(
            element, f"%{hex_digits} is not a character of GS1 AI encodable character set 82"
        )
    return chr(octet)
