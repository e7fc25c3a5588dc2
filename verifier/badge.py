"""The live e-commerce badge: a 220×64 SVG a listing embeds next to the product.

It shows the verdict as of the request (the scan page's colour and glyph, a
localized word), the declared footprint and the grade, so a revoked or
suspended label turns red or amber on every listing that shows it. A revoked or
suspended label shows its status instead of its footprint and grade (a listing
must not keep advertising a withdrawn grade); the grade is shown only while the
label is genuine or merely flagged. Every value is XML-escaped; the result is a
standalone SVG 1.1 document.
"""

from __future__ import annotations

from typing import Final
from xml.sax.saxutils import escape, quoteattr

from verifier.i18n import LANGUAGES, format_decimal, t
from verifier.result import Verdict
from verifier.scanpage import VERDICT_COLOURS, VERDICT_ICONS

__all__ = ["BADGE_HEIGHT", "BADGE_WIDTH", "render_badge_svg"]

BADGE_WIDTH: Final = 220
BADGE_HEIGHT: Final = 64
_STRIPE: Final = 50
_TEXT_X: Final = _STRIPE + 8
_GRADE_R: Final = 18
_GRADE_CY: Final = 28
_FONT: Final = (
    'system-ui,-apple-system,Roboto,"PingFang SC","PingFang TC","Microsoft YaHei",'
    '"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif'
)
_GRADE_SHOWN: Final = frozenset({Verdict.GENUINE, Verdict.WARNING})
"""Verdicts under which the badge shows the grade (never for a revoked or suspended label)."""
_MAX_CHARS: Final = 48
_MIN_FONT: Final = 7.0


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_CHARS else text[: _MAX_CHARS - 1] + "…"


def _em_width(text: str, bold: bool = False) -> float:
    """Generous advance of ``text`` in ems: wide (CJK) characters 1, others 0.62 (0.68 bold)."""
    narrow = 0.68 if bold else 0.62
    return sum(1.0 if ord(c) >= 0x2E80 else narrow for c in text)


def _fit(text: str, size: float, width: float, bold: bool = False) -> tuple[str, float]:
    """``text`` and a font size that keep it within ``width`` pixels: the size shrinks
    down to 7 px, then the text is cut short with an ellipsis."""
    needed = _em_width(text, bold) * size
    if needed <= width:
        return text, size
    scaled = size * width / needed
    if scaled >= _MIN_FONT:
        return text, scaled
    while len(text) > 1 and _em_width(text + "…", bold) * _MIN_FONT > width:
        text = text[:-1]
    return text + "…", _MIN_FONT


def _line(y: int, text: str, size: float, width: float, fill: str, bold: bool = False) -> str:
    text, size = _fit(text, size, width, bold)
    weight = ' font-weight="700"' if bold else ""
    return (
        f'<text x="{_TEXT_X}" y="{y}" font-size="{size:.1f}"{weight} '
        f'fill="{fill}">{escape(text)}</text>'
    )


def _centred(x: int, y: int, text: str, size: float, width: float, bold: bool = False) -> str:
    text, size = _fit(text, size, width, bold)
    weight = ' font-weight="700"' if bold else ""
    fill = "#111827" if bold else "#4b5563"
    return (
        f'<text x="{x}" y="{y}" text-anchor="middle" font-size="{size:.1f}"{weight} '
        f'fill="{fill}">{escape(text)}</text>'
    )


def render_badge_svg(
    *,
    lang: str,
    verdict: Verdict,
    label_number: str | None,
    grade: str | None,
    footprint_value: str | None,
    footprint_unit: str | None,
) -> str:
    """The badge for one label as an SVG document (UTF-8 text, no XML declaration).

    Lines: the localized verdict word; the footprint value and unit (for a revoked or
    suspended label, its status instead); the scheme name and label number; a disc
    with the grade on the right (only for a genuine or warning verdict). ``lang`` outside
    :data:`verifier.i18n.LANGUAGES` renders in ``zh-Hans``; ``footprint_value`` is
    a decimal string, grouped for the language; ``None`` leaves its part out.
    """
    lang = lang if lang in LANGUAGES else LANGUAGES[0]
    withdrawn = verdict in (Verdict.REVOKED, Verdict.SUSPENDED)
    if verdict not in _GRADE_SHOWN:
        grade = None
    if withdrawn:
        footprint_value = None
    background, foreground = VERDICT_COLOURS[verdict]
    word = t(lang, f"verdict.{verdict.value}.short")
    label = _clip(label_number) if label_number else None
    title = t(lang, "badge.title", label=label or "?", verdict=word)
    full_width = BADGE_WIDTH - _TEXT_X - 8
    width = full_width - (2 * _GRADE_R + 4 if grade else 0)

    lines = [_line(24, word, 17, width, "#111827", bold=True)]
    if withdrawn:
        status = t(lang, f"badge.status.{verdict.value}")
        lines.append(_line(42, _clip(status), 12.5, width, background, bold=True))
    if footprint_value:
        value = format_decimal(lang, footprint_value)
        if footprint_unit:
            value += " " + footprint_unit
        lines.append(_line(42, _clip(value), 12.5, width, "#1f2937"))
    brand = t(lang, "badge.brand")
    footer = f"{brand} {label}" if label else brand
    if label and _em_width(footer) * 8.5 > full_width:
        footer = label  # the scheme name only where it fits legibly
    lines.append(_line(58, footer, 10, full_width, "#6b7280"))
    if grade:
        cx = BADGE_WIDTH - _GRADE_R - 6
        lines.append(
            f'<circle cx="{cx}" cy="{_GRADE_CY}" r="{_GRADE_R}" fill="#f9fafb" '
            f'stroke="{background}" stroke-width="2.5"/>'
            + _centred(cx, _GRADE_CY - 6, t(lang, "badge.grade"), 8, 2 * _GRADE_R - 8)
            + _centred(cx, _GRADE_CY + 11, _clip(grade), 16, 2 * _GRADE_R - 10, bold=True)
        )
    icon_scale = 1.4
    icon_offset = (_STRIPE - 24 * icon_scale) / 2
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{BADGE_WIDTH}" height="{BADGE_HEIGHT}" '
        f'viewBox="0 0 {BADGE_WIDTH} {BADGE_HEIGHT}" role="img" aria-label={quoteattr(title)} '
        f'lang="{lang}" xml:lang="{lang}" font-family={quoteattr(_FONT)}>'
        f"<title>{escape(title)}</title>"
        f'<rect x="0.5" y="0.5" width="{BADGE_WIDTH - 1}" height="{BADGE_HEIGHT - 1}" rx="7" '
        f'fill="#ffffff" stroke="{background}"/>'
        f'<path d="M7.5 .5H{_STRIPE}V{BADGE_HEIGHT - 0.5}H7.5A7 7 0 0 1 .5 {BADGE_HEIGHT - 7.5}'
        f'V7.5A7 7 0 0 1 7.5 .5Z" fill="{background}"/>'
        f'<g transform="translate({icon_offset:.1f} {(BADGE_HEIGHT - 24 * icon_scale) / 2:.1f}) '
        f'scale({icon_scale})" fill="none" stroke="{foreground}" stroke-linecap="round" '
        'stroke-linejoin="round"><circle cx="12" cy="12" r="10.5" stroke-width="2"/>'
        f'<path d="{VERDICT_ICONS[verdict]}" stroke-width="2.6"/></g>'
        f"{''.join(lines)}</svg>"
    )
