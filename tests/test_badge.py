"""The e-commerce badge: valid SVG for every verdict and language, escaped values."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from verifier.badge import BADGE_HEIGHT, BADGE_WIDTH, render_badge_svg
from verifier.i18n import LANGUAGES, format_decimal, t
from verifier.result import Verdict
from verifier.scanpage import VERDICT_COLOURS

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def _text(root: ElementTree.Element) -> str:
    return " ".join("".join(e.itertext()) for e in root.iter(f"{SVG}text"))


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("verdict", list(Verdict))
def test_badge_is_svg_for_every_verdict_and_language(lang: str, verdict: Verdict) -> None:
    svg = render_badge_svg(
        lang=lang,
        verdict=verdict,
        label_number="GDCL-2025-AC-000123",
        grade="3",
        footprint_value="5900.5",
        footprint_unit="kgCO2e/piece",
    )
    root = _parse(svg)
    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height")) == (str(BADGE_WIDTH), str(BADGE_HEIGHT))
    assert root.get("lang") == lang
    word = t(lang, f"verdict.{verdict.value}.short")
    title = root.find(f"{SVG}title")
    assert title is not None and word in (title.text or "")
    assert root.get("aria-label") == title.text
    shown = _text(root)
    assert word in shown
    texts = [e.text for e in root.iter(f"{SVG}text")]
    if verdict in (Verdict.REVOKED, Verdict.SUSPENDED):  # the status instead of the claims
        assert t(lang, f"badge.status.{verdict.value}") in texts
        assert "5900" not in shown.replace(",", "").replace("\u00a0", "")
    else:
        assert format_decimal(lang, "5900.5") + " kgCO2e/piece" in shown
    if verdict in (Verdict.GENUINE, Verdict.WARNING):
        assert t(lang, "badge.grade") in texts and "3" in texts
    else:  # a grade is shown only while the label holds
        assert t(lang, "badge.grade") not in texts and "3" not in texts
    assert "GDCL-2025-AC-000123" in shown
    background = VERDICT_COLOURS[verdict][0]
    assert any(p.get("fill") == background for p in root.iter(f"{SVG}path"))


def test_badge_leaves_out_what_it_does_not_have() -> None:
    svg = render_badge_svg(
        lang="en",
        verdict=Verdict.NOT_FOUND,
        label_number=None,
        grade=None,
        footprint_value=None,
        footprint_unit=None,
    )
    root = _parse(svg)
    assert [e.text for e in root.iter(f"{SVG}text")] == ["Not issued", "Carbon label"]
    assert len(list(root.iter(f"{SVG}circle"))) == 1  # the glyph's ring only, no grade disc


def test_badge_escapes_values() -> None:
    hostile = '<script>alert("x")</script>&]]>'
    svg = render_badge_svg(
        lang="zh-Hant",
        verdict=Verdict.GENUINE,
        label_number=hostile,
        grade=hostile,
        footprint_value=hostile,
        footprint_unit=hostile,
    )
    root = _parse(svg)
    assert "<script" not in svg
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter("script"))
    assert any(hostile[:40] in (e.text or "") for e in root.iter(f"{SVG}text"))


def test_long_values_are_shrunk_and_clipped() -> None:
    svg = render_badge_svg(
        lang="pt",
        verdict=Verdict.WARNING,
        label_number="GDCL-" + "9" * 80,
        grade="10",
        footprint_value="123456789.123",
        footprint_unit="kgCO2e/tonelada-quilómetro",
    )
    root = _parse(svg)
    sizes = [float(e.get("font-size", "0")) for e in root.iter(f"{SVG}text")]
    assert all(7.0 <= size <= 17.0 for size in sizes)
    texts = [e.text or "" for e in root.iter(f"{SVG}text")]
    assert all(len(text) <= 48 for text in texts)
    assert any(
        text.startswith("123\u00a0456\u00a0789,123") and text.endswith("…") for text in texts
    )
