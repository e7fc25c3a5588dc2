"""RFC 9264 linksets and RFC 8288 Link headers of the Digital Link resolver."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from verifier.linkset import (
    GS1_CERTIFICATION_INFO,
    GS1_DEFAULT_LINK,
    GS1_PIP,
    LINKSET_MEDIA_TYPE,
    UNTP_DCC,
    Link,
    expand_link_type,
    link_header,
    linkset,
)

ANCHOR = "https://id.gd-carbon-label.example/01/06901234567892"
LANGS = ("zh-Hans", "zh-Hant", "en", "pt")
LINKS = [
    Link(GS1_DEFAULT_LINK, "https://v.example/scan/GDCL-1", "text/html", "Carbon label", LANGS),
    Link(GS1_CERTIFICATION_INFO, "https://v.example/labels/GDCL-1", "application/json",
         "Label bundle"),
    Link(UNTP_DCC, "https://v.example/labels/GDCL-1", "application/vc+ld+json", "Label credential"),
    Link(GS1_PIP, "https://v.example/labels/GDCL-1/label.pdf", "application/pdf"),
    Link(GS1_CERTIFICATION_INFO, "https://v.example/log/checkpoint", "text/plain",
         "广东碳标签 公开日志"),
]  # fmt: skip


def _assert_rfc9264_document(document: Any) -> None:
    """RFC 9264 §4.2: the JSON shape of a linkset document."""
    assert isinstance(document, dict) and list(document) == ["linkset"]
    contexts = document["linkset"]
    assert isinstance(contexts, list) and contexts
    for context in contexts:
        assert isinstance(context, dict)
        assert isinstance(context.get("anchor"), str)  # §4.2.2
        for rel, targets in context.items():
            if rel == "anchor":
                continue
            # §4.2.2: a relation type (registered name or URI) with an array of targets
            assert re.match(r"^([a-z][a-z0-9.-]*|[a-z][a-z0-9+.-]*:\S+)$", rel), rel
            assert isinstance(targets, list) and targets
            for target in targets:
                assert isinstance(target.get("href"), str)  # §4.2.3
                for name, value in target.items():
                    if name == "hreflang":  # §4.2.4.1: always an array of strings
                        assert isinstance(value, list) and all(isinstance(v, str) for v in value)
                    elif name in ("type", "title", "media"):  # §4.2.4.1: a single string
                        assert isinstance(value, str)
                    else:
                        assert name == "href", name


def test_linkset_shape() -> None:
    document = linkset(ANCHOR, LINKS)
    _assert_rfc9264_document(document)
    _assert_rfc9264_document(json.loads(json.dumps(document)))
    (context,) = document["linkset"]
    assert context["anchor"] == ANCHOR
    assert list(context) == ["anchor", GS1_DEFAULT_LINK, GS1_CERTIFICATION_INFO, UNTP_DCC, GS1_PIP]
    assert [t["href"] for t in context[GS1_CERTIFICATION_INFO]] == [
        "https://v.example/labels/GDCL-1",
        "https://v.example/log/checkpoint",
    ]
    assert context[GS1_DEFAULT_LINK] == [
        {
            "href": "https://v.example/scan/GDCL-1",
            "type": "text/html",
            "title": "Carbon label",
            "hreflang": list(LANGS),
        }
    ]
    assert context[GS1_PIP] == [
        {"href": "https://v.example/labels/GDCL-1/label.pdf", "type": "application/pdf"}
    ]


def test_empty_linkset_keeps_its_anchor() -> None:
    assert linkset(ANCHOR, []) == {"linkset": [{"anchor": ANCHOR}]}


def test_media_type() -> None:
    assert LINKSET_MEDIA_TYPE == "application/linkset+json"


def test_link_rejects_bad_values() -> None:
    with pytest.raises(ValueError):
        Link("", "https://x.example/")
    with pytest.raises(ValueError):
        Link(GS1_PIP, "")
    with pytest.raises(ValueError):
        Link(GS1_PIP, "https://x.example/", hreflang=("en\r\nX-Evil: 1",))
    with pytest.raises(ValueError):
        linkset(ANCHOR, [Link("anchor", "https://x.example/")])


def test_link_header_serialization() -> None:
    header = link_header(LINKS[:2])
    assert header == (
        '<https://v.example/scan/GDCL-1>; rel="https://gs1.org/voc/defaultLink"; '
        'type="text/html"; title="Carbon label"; hreflang=zh-Hans; hreflang=zh-Hant; '
        "hreflang=en; hreflang=pt, "
        '<https://v.example/labels/GDCL-1>; rel="https://gs1.org/voc/certificationInfo"; '
        'type="application/json"; title="Label bundle"'
    )


def test_link_header_encodes_unicode_titles() -> None:
    header = link_header([LINKS[4]])
    assert header.endswith(
        "title*=UTF-8''%E5%B9%BF%E4%B8%9C%E7%A2%B3%E6%A0%87%E7%AD%BE%20"
        "%E5%85%AC%E5%BC%80%E6%97%A5%E5%BF%97"
    )
    header.encode("ascii")


def test_link_header_cannot_be_broken_out_of() -> None:
    hostile = Link(
        GS1_PIP,
        'https://x.example/a b>;rel="evil"\r\nSet-Cookie: x=1',
        "text/html",
        'quote " backslash \\ and\r\nSet-Cookie: y=2',
    )
    header = link_header([hostile])
    assert "\r" not in header and "\n" not in header
    href = header[1 : header.index(">")]
    assert href == "https://x.example/a%20b%3E;rel=%22evil%22%0D%0ASet-Cookie:%20x=1"
    assert "title*=UTF-8''quote%20%22%20backslash%20%5C%20and%0D%0ASet-Cookie%3A%20y%3D2" in header
    ascii_title = link_header([Link(GS1_PIP, "https://x.example/", None, 'say "hi" \\o/')])
    assert ascii_title.endswith('title="say \\"hi\\" \\\\o/"')
    with pytest.raises(ValueError):
        link_header([Link("evil\r\nX: 1", "https://x.example/")])
    with pytest.raises(ValueError):
        link_header([Link(GS1_PIP, "https://x.example/", "text/html\r\nX: 1")])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("gs1:pip", GS1_PIP),
        ("gs1:certificationInfo", GS1_CERTIFICATION_INFO),
        ("untp:dcc", UNTP_DCC),
        (UNTP_DCC, UNTP_DCC),
        (GS1_DEFAULT_LINK, GS1_DEFAULT_LINK),
        ("linkset", None),
        ("foo:bar", None),
        ("gs1:", None),
        ("https://evil.example/voc/pip", None),
    ],
)
def test_expand_link_type(value: str, expected: str | None) -> None:
    assert expand_link_type(value) == expected


def test_link_types_are_the_published_iris() -> None:
    assert GS1_DEFAULT_LINK == "https://gs1.org/voc/defaultLink"
    assert GS1_CERTIFICATION_INFO == "https://gs1.org/voc/certificationInfo"
    assert GS1_PIP == "https://gs1.org/voc/pip"
    # the linkType UNTP credentials (and our label's endorsementEvidence) carry
    assert UNTP_DCC == "https://test.uncefact.org/vocabulary/linkTypes/dcc"
