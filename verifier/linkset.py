"""Links of a labelled product: RFC 9264 linksets and RFC 8288 ``Link`` headers.

The GS1 Digital Link resolver (ISO/IEC 18975) answers ``?linkType=linkset`` with
an ``application/linkset+json`` document (RFC 9264 §4.2) and puts the same links
in the ``Link`` header of its 307 redirect (RFC 8288 §3).

Relation types. RFC 8288 §2.1.2 allows registered names (``linkset``,
``describedby``) and extension relation types, which are URIs. We use:

- GS1 Web Vocabulary link types by their full IRI in the ``https://gs1.org/voc/``
  namespace, as GS1-conformant resolvers do: :data:`GS1_DEFAULT_LINK`,
  :data:`GS1_DEFAULT_LINK_MULTI` (one of several default links: a GTIN with
  several labels lists one per label),
  :data:`GS1_PIP`, :data:`GS1_CERTIFICATION_INFO`, :data:`GS1_SUSTAINABILITY_INFO`.
- UNTP's Digital Conformity Credential link type by its full IRI,
  :data:`UNTP_DCC` = ``https://test.uncefact.org/vocabulary/linkTypes/dcc``: the
  value UNTP credentials carry in ``linkType`` (our label credential's
  ``endorsementEvidence`` too). The UNTP Identity Resolver spec writes it as the
  CURIE ``untp:dcc`` inside a non-RFC ``"link": [{"rel": [...]}]`` shape; we keep
  the RFC 9264 shape (relation type as member name) and the expanded IRI, so
  generic RFC 9264 clients and GS1 resolvers read it. :func:`expand_link_type`
  turns the ``gs1:`` / ``untp:`` CURIEs that ``?linkType=`` accepts into IRIs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

__all__ = [
    "GS1_CERTIFICATION_INFO",
    "GS1_DEFAULT_LINK",
    "GS1_DEFAULT_LINK_MULTI",
    "GS1_PIP",
    "GS1_SUSTAINABILITY_INFO",
    "GS1_VOCABULARY",
    "LINKSET_MEDIA_TYPE",
    "LINKSET_REL",
    "UNTP_DCC",
    "UNTP_LINK_TYPES",
    "Link",
    "expand_link_type",
    "link_header",
    "linkset",
]

LINKSET_MEDIA_TYPE: Final = "application/linkset+json"
LINKSET_REL: Final = "linkset"  # IANA-registered by RFC 9264 §6.2

GS1_VOCABULARY: Final = "https://gs1.org/voc/"
GS1_DEFAULT_LINK: Final = GS1_VOCABULARY + "defaultLink"
GS1_DEFAULT_LINK_MULTI: Final = GS1_VOCABULARY + "defaultLinkMulti"
GS1_PIP: Final = GS1_VOCABULARY + "pip"
GS1_CERTIFICATION_INFO: Final = GS1_VOCABULARY + "certificationInfo"
GS1_SUSTAINABILITY_INFO: Final = GS1_VOCABULARY + "sustainabilityInfo"

UNTP_LINK_TYPES: Final = "https://test.uncefact.org/vocabulary/linkTypes/"
UNTP_DCC: Final = UNTP_LINK_TYPES + "dcc"

_PREFIXES: Final = {"gs1": GS1_VOCABULARY, "untp": UNTP_LINK_TYPES}
_CURIE: Final = re.compile(r"^([a-z0-9]+):([A-Za-z][A-Za-z0-9]*)$")
_LANGUAGE_TAG: Final = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
# RFC 3986 reserved and unreserved characters, and "%" of existing escapes.
_URI_SAFE: Final = ":/?#[]@!$&'()*+,;=-._~%"


@dataclass(frozen=True)
class Link:
    """One typed link: a relation type (registered name or IRI) and its target."""

    rel: str
    href: str
    type: str | None = None
    title: str | None = None
    hreflang: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.rel or not self.href:
            raise ValueError("a link needs a relation type and a target")
        for tag in self.hreflang:
            if not _LANGUAGE_TAG.match(tag):
                raise ValueError(f"hreflang {tag!r} is not a language tag")


def expand_link_type(value: str) -> str | None:
    """``gs1:pip`` → ``https://gs1.org/voc/pip``, ``untp:dcc`` → the UNTP IRI; an IRI
    in either namespace is returned as is; anything else is None."""
    match = _CURIE.match(value)
    if match is not None and match.group(1) in _PREFIXES:
        return _PREFIXES[match.group(1)] + match.group(2)
    if value.startswith((GS1_VOCABULARY, UNTP_LINK_TYPES)):
        return value
    return None


def _target(link: Link) -> dict[str, Any]:
    target: dict[str, Any] = {"href": link.href}
    if link.type is not None:
        target["type"] = link.type
    if link.title is not None:
        target["title"] = link.title
    if link.hreflang:
        target["hreflang"] = list(link.hreflang)  # RFC 9264 §4.2.4.1: always an array
    return target


def linkset(anchor: str, links: Sequence[Link]) -> dict[str, Any]:
    """The RFC 9264 §4.2 JSON linkset of ``links`` about ``anchor``.

    One context object: ``{"linkset": [{"anchor": anchor, rel: [target, ...], ...}]}``;
    relation types in first-seen order, each target with ``href`` and, when set,
    ``type``, ``title`` and ``hreflang`` (an array of language tags).
    """
    context: dict[str, Any] = {"anchor": anchor}
    for link in links:
        if link.rel == "anchor":
            raise ValueError('"anchor" is not a relation type')
        context.setdefault(link.rel, []).append(_target(link))
    return {"linkset": [context]}


def _quoted(value: str) -> str:
    """RFC 9110 §5.6.4 quoted-string of printable ASCII."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _printable_ascii(value: str) -> bool:
    return all(" " <= c <= "~" for c in value)


def _link_value(link: Link) -> str:
    href = quote(link.href, safe=_URI_SAFE)
    if not _printable_ascii(link.rel) or not link.rel.strip() or " " in link.rel:
        raise ValueError(f"relation type {link.rel!r} cannot go in a Link header")
    parts = [f"<{href}>", f"rel={_quoted(link.rel)}"]
    if link.type is not None:
        if not _printable_ascii(link.type):
            raise ValueError(f"media type {link.type!r} cannot go in a Link header")
        parts.append(f"type={_quoted(link.type)}")
    if link.title is not None:
        if _printable_ascii(link.title):
            parts.append(f"title={_quoted(link.title)}")
        else:  # RFC 8288 §3.4.1 / RFC 8187 ext-value
            parts.append("title*=UTF-8''" + quote(link.title, safe=""))
    parts.extend(f"hreflang={tag}" for tag in link.hreflang)
    return "; ".join(parts)


def link_header(links: Sequence[Link]) -> str:
    """RFC 8288 §3 ``Link`` field value for ``links`` (comma-separated link-values).

    Targets are percent-encoded where RFC 3986 does not allow a character; a
    non-ASCII or control-character title goes as ``title*`` (RFC 8187), so no
    value can break out of the header. Raises ``ValueError`` for a relation type
    or media type that is not printable ASCII.
    """
    return ", ".join(_link_value(link) for link in links)
