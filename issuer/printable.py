"""Printable carbon-footprint labels (碳足迹标签) as SVG and PDF.

One layout, drawn in millimetres, serves both outputs: a 100 mm × 66 mm label with a
green title band "碳足迹标签 Carbon Footprint Label", the product name, the footprint
value in large type with its declared unit, the system boundary in Chinese and English
(从摇篮到坟墓 cradle-to-grave, 从摇篮到大门 cradle-to-gate), a grade badge and the
grading rule when the label is graded, the label number, the issuer, the end of
validity and the QR code.

Physical size of the QR code: the symbol itself (finder pattern edge to finder pattern
edge, quiet zone excluded) is ``qr_mm`` wide, 28 mm by default and never less than
25 mm, so a phone reads it when printed at 100 %; the module size is ``qr_mm / N`` for a
symbol of N × N modules (0.76 mm for the 37-module QR of a label's printed URI, which
names the label: ``…/01/{GTIN}?label=GDCL-…``, see :func:`schemas.digitallink.label_link`;
0.27 mm for a version-22 offline QR). A quiet zone of 4 modules on every side (ISO/IEC 18004 §6.3.8)
is kept white and free of any other drawing. Print at 100 % ("actual size"); scaling
to fit a page shrinks the code.

A revoked or suspended label is still served, stamped: a large red "REVOKED 已撤销"
or "SUSPENDED 已暂停" (with the date of the change) across the label's diagonal,
semi-opaque so what was printed stays legible. A stamp rather than ``410 Gone``: a
regulator, a retailer or a court can still see exactly what was printed, and no
copy of the file can be mistaken for a valid label.

PDF: reportlab, page size = label size, Chinese text in the CID font ``STSong-Light``
(one of the Adobe-GB1 fonts every PDF reader has; nothing is embedded), Latin text in
Helvetica, the QR drawn as filled vector rectangles. SVG: ``width``/``height`` in mm
with a ``viewBox`` in mm, segno's QR path inline, every text XML-escaped.
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

import segno

from schemas.vocabulary import BOUNDARIES

__all__ = [
    "BOUNDARY_NAMES",
    "LABEL_HEIGHT_MM",
    "LABEL_WIDTH_MM",
    "MIN_QR_MM",
    "STAMPS",
    "LabelInfo",
    "label_pdf",
    "label_svg",
]

LABEL_WIDTH_MM: Final = 100.0
LABEL_HEIGHT_MM: Final = 66.0
MIN_QR_MM: Final = 25.0
DEFAULT_QR_MM: Final = 28.0
QUIET_ZONE_MODULES: Final = 4

# Chinese and English names of the PACT / schemas boundaries.
BOUNDARY_NAMES: Final = {
    "cradle-to-grave": ("从摇篮到坟墓", "Cradle-to-grave"),
    "cradle-to-gate": ("从摇篮到大门", "Cradle-to-gate"),
}

_GREEN: Final = "#1b6e3a"
_LIGHT_GREEN: Final = "#e8f3ec"
_INK: Final = "#1a1a1a"
_GREY: Final = "#555555"
_WHITE: Final = "#ffffff"
_SVG_FONTS: Final = (
    "'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',"
    "'SimHei','STSong',sans-serif"
)
_PDF_CJK_FONT: Final = "STSong-Light"
_STAMP_RED: Final = "#c8102e"
_STAMP_OPACITY: Final = 0.85
STAMPS: Final = {"revoked": ("REVOKED", "已撤销"), "suspended": ("SUSPENDED", "已暂停")}
"""The stamp of each status a printed label can carry: (English word, Chinese word)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelInfo:
    """What a printed label shows. All text is plain Unicode; the renderers escape it.

    ``footprint_value`` is a :class:`~decimal.Decimal` or a decimal string (shown as
    written); ``boundary`` is ``"cradle-to-grave"`` or ``"cradle-to-gate"``; ``grade``
    (e.g. ``"3"``) comes with the name of its grading rule. Raises :class:`ValueError`
    naming the field for anything else, and for control characters in any text.
    """

    label_number: str
    product_name: str
    footprint_value: Decimal | str
    footprint_unit: str
    boundary: str
    issuer_name: str
    valid_until: date | str
    grade: str | None = None
    grade_rule: str | None = None
    status: str | None = None
    """``"revoked"`` or ``"suspended"`` stamps the label (see :data:`STAMPS`); None: in force."""
    status_since: date | str | None = None
    """When the status changed (printed on the stamp), if known."""

    def __post_init__(self) -> None:
        for name in ("label_number", "product_name", "footprint_unit", "issuer_name"):
            _check_text(name, getattr(self, name), required=True)
        for name in ("grade", "grade_rule"):
            _check_text(name, getattr(self, name), required=False)
        if self.boundary not in BOUNDARIES:
            raise ValueError(f"boundary: must be one of {', '.join(BOUNDARIES)}")
        if (self.grade is None) != (self.grade_rule is None):
            raise ValueError("grade: a grade and its grade_rule come together")
        if not isinstance(self.valid_until, date):
            _check_text("valid_until", self.valid_until, required=True)
        if self.status is not None and self.status not in STAMPS:
            raise ValueError(f"status: must be one of {', '.join(STAMPS)} or None")
        if not isinstance(self.status_since, date):
            _check_text("status_since", self.status_since, required=False)
        _footprint_text(self.footprint_value)

    @property
    def value_text(self) -> str:
        """The footprint value as printed: the string as given, or the Decimal without exponent."""
        return _footprint_text(self.footprint_value)

    @property
    def valid_until_text(self) -> str:
        """The end of validity as printed (ISO 8601 date for a :class:`~datetime.date`)."""
        if isinstance(self.valid_until, date):
            return self.valid_until.isoformat()
        return self.valid_until


# --- layout -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    stroke: str | None = None
    stroke_width: float = 0.0
    radius: float = 0.0


@dataclass(frozen=True, slots=True)
class _Text:
    x: float
    y: float  # baseline
    text: str
    size: float  # font size in mm
    fill: str = _INK
    bold: bool = False
    anchor: Literal["start", "middle", "end"] = "start"


@dataclass(frozen=True, slots=True)
class _QR:
    x: float  # top-left corner of the symbol, quiet zone excluded
    y: float
    module: float  # mm per module
    qr: segno.QRCode


@dataclass(frozen=True, slots=True)
class _Stamp:
    """A status stamp: a framed word and a smaller line, rotated about (cx, cy)."""

    cx: float
    cy: float
    angle: float  # degrees, counter-clockwise as seen on the page
    word: str
    word_size: float
    line: str
    line_size: float
    width: float
    height: float


_Item = _Rect | _Text | _QR | _Stamp


def _layout(info: LabelInfo, qr_data: str, qr_mm: float) -> list[_Item]:
    if not qr_mm >= MIN_QR_MM:
        raise ValueError(f"qr_mm: the QR code must be at least {MIN_QR_MM} mm wide")
    qr = segno.make_qr(qr_data, error="m", boost_error=False)
    modules = qr.symbol_size(scale=1, border=0)[0]
    module = qr_mm / modules
    quiet = QUIET_ZONE_MODULES * module
    w, h, pad = LABEL_WIDTH_MM, LABEL_HEIGHT_MM, 3.5
    band = 11.0
    qr_right = w - pad - quiet
    qr_x = qr_right - qr_mm
    qr_top = band + 0.8 + quiet
    qr_block_left = qr_x - quiet
    left_max = qr_block_left - pad - 1.0  # right edge of the text column
    cn_boundary, en_boundary = BOUNDARY_NAMES[info.boundary]

    items: list[_Item] = [
        _Rect(0.3, 0.3, w - 0.6, h - 0.6, _WHITE, _GREEN, 0.6, 2.5),
        _Rect(0.3, 0.3, w - 0.6, band, _GREEN, None, 0.0, 2.5),
        _Rect(0.3, band - 2.5, w - 0.6, 2.8, _GREEN),
        _Text(pad, 7.6, "碳足迹标签", 5.2, _WHITE, bold=True),
        _Text(pad + 29.0, 7.4, "Carbon Footprint Label", 3.6, _WHITE, bold=True),
        _Rect(qr_block_left, qr_top - quiet, qr_mm + 2 * quiet, qr_mm + 2 * quiet, _WHITE),
        _QR(qr_x, qr_top, module, qr),
    ]
    text_width = left_max - pad
    items.append(_fit(pad, 16.5, info.product_name, 3.4, text_width, bold=True))
    value_width = text_width - (16.5 if info.grade is not None else 0.0)
    items.append(_fit(pad, 21.8, "产品碳足迹 Product carbon footprint", 2.3, value_width, _GREY))
    items.append(_fit(pad, 32.5, info.value_text, 10.0, value_width, fill=_GREEN, bold=True))
    items.append(_fit(pad, 37.8, info.footprint_unit, 3.2, value_width))
    items.append(_Text(pad, 44.0, "系统边界 System boundary", 2.3, _GREY))
    items.append(_fit(pad, 48.3, f"{cn_boundary}  {en_boundary}", 3.2, text_width))
    if info.grade is not None and info.grade_rule is not None:
        bx, by, bw, bh = left_max - 15.0, 19.5, 15.0, 17.0
        items += [
            _Rect(bx, by, bw, bh, _LIGHT_GREEN, _GREEN, 0.5, 2.0),
            _Text(bx + bw / 2, by + 4.0, "等级 Grade", 2.3, _GREEN, anchor="middle"),
            _fit(bx + bw / 2, by + 13.2, info.grade, 8.0, bw - 2.0, _GREEN, True, "middle"),
        ]
        items.append(_fit(pad, 52.6, f"分级规则 Rule: {info.grade_rule}", 2.3, text_width, _GREY))
    footer = w - 2 * pad
    items += [
        _Rect(pad, 54.6, footer, 0.25, _GREEN),
        _fit(pad, 58.6, f"标签编号 Label No. {info.label_number}", 2.7, footer, bold=True),
        _fit(
            pad,
            62.6,
            f"发证机构 Issuer: {info.issuer_name}   有效期至 Valid until: {info.valid_until_text}",
            2.4,
            footer,
        ),
    ]
    if info.status is not None:
        items.append(_stamp(info))
    return items


def _stamp(info: LabelInfo) -> _Stamp:
    """The status stamp across the label's diagonal, sized to stay inside the label."""
    assert info.status is not None
    word, chinese = STAMPS[info.status]
    since = info.status_since
    line = chinese if since is None else f"{chinese} {_date_text(since)}"
    word_size = min(13.0, 78.0 / max(_estimated_width(word, 1.0, True), 1.0))
    line_size = 4.6
    width = max(_estimated_width(word, word_size, True), _estimated_width(line, line_size, False))
    angle = math.degrees(math.atan2(LABEL_HEIGHT_MM, LABEL_WIDTH_MM))
    return _Stamp(
        LABEL_WIDTH_MM / 2,
        LABEL_HEIGHT_MM / 2,
        angle,
        word,
        word_size,
        line,
        line_size,
        width + 8.0,
        word_size + line_size + 9.0,
    )


def _date_text(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else value


def _fit(
    x: float,
    y: float,
    text: str,
    size: float,
    max_width: float,
    fill: str = _INK,
    bold: bool = False,
    anchor: Literal["start", "middle", "end"] = "start",
) -> _Text:
    """A text item whose font shrinks (to at most half) so its estimated width fits."""
    width = _estimated_width(text, size, bold)
    if width > max_width:
        size = max(size * max_width / width, size / 2)
    return _Text(x, y, text, size, fill, bold, anchor)


def _estimated_width(text: str, size: float, bold: bool) -> float:
    """Conservative advance width in mm: wide (CJK) glyphs 1 em, others 0.62 (bold 0.7) em."""
    narrow = (0.7 if bold else 0.62) * size
    return sum(size if unicodedata.east_asian_width(c) in "WF" else narrow for c in text)


# --- SVG --------------------------------------------------------------------------------


def label_svg(info: LabelInfo, qr_data: str, *, qr_mm: float = DEFAULT_QR_MM) -> str:
    """The label as an SVG 1.1 document, ``100mm`` × ``66mm``, user units in mm.

    The QR code of ``qr_data`` (error level M) is segno's path, scaled so the symbol is
    ``qr_mm`` (≥ 25) mm wide without its quiet zone, which is 4 modules of white on
    every side. Raises :class:`ValueError` if ``qr_mm`` < 25; segno's
    ``DataOverflowError`` if ``qr_data`` does not fit any QR version.
    """
    body = "\n".join(_svg_item(item) for item in _layout(info, qr_data, qr_mm))
    w, h = _num(LABEL_WIDTH_MM), _num(LABEL_HEIGHT_MM)
    title = escape(f"碳足迹标签 Carbon Footprint Label {info.label_number}")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}mm" height="{h}mm" '
        f'viewBox="0 0 {w} {h}">\n<title>{title}</title>\n'
        f'<g font-family="{_SVG_FONTS}">\n{body}\n</g>\n</svg>\n'
    )


def _svg_item(item: _Item) -> str:
    if isinstance(item, _Rect):
        stroke = (
            f' stroke="{item.stroke}" stroke-width="{_num(item.stroke_width)}"'
            if item.stroke
            else ""
        )
        radius = f' rx="{_num(item.radius)}"' if item.radius else ""
        return (
            f'<rect x="{_num(item.x)}" y="{_num(item.y)}" width="{_num(item.w)}" '
            f'height="{_num(item.h)}"{radius} fill="{item.fill}"{stroke}/>'
        )
    if isinstance(item, _Stamp):
        return _svg_stamp(item)
    if isinstance(item, _Text):
        weight = ' font-weight="bold"' if item.bold else ""
        return (
            f'<text x="{_num(item.x)}" y="{_num(item.y)}" font-size="{_num(item.size)}" '
            f'fill="{item.fill}" text-anchor="{item.anchor}"{weight}>{escape(item.text)}</text>'
        )
    return (
        f'<g transform="translate({_num(item.x)} {_num(item.y)}) scale({item.module:.6f})">'
        f'<path fill="none" stroke="#000" d={quoteattr(_segno_path(item.qr))}/></g>'
    )


def _svg_stamp(stamp: _Stamp) -> str:
    """The stamp as an SVG group (``class="status-stamp"``), rotated about its centre."""
    x, y = stamp.cx - stamp.width / 2, stamp.cy - stamp.height / 2
    word_y = y + 4.0 + stamp.word_size * 0.8
    line_y = word_y + 2.5 + stamp.line_size
    return (
        f'<g class="status-stamp" opacity="{_STAMP_OPACITY}" '
        f'transform="rotate({_num(-stamp.angle)} {_num(stamp.cx)} {_num(stamp.cy)})">'
        f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(stamp.width)}" '
        f'height="{_num(stamp.height)}" rx="2" fill="none" stroke="{_STAMP_RED}" '
        f'stroke-width="1.2"/>'
        f'<text x="{_num(stamp.cx)}" y="{_num(word_y)}" font-size="{_num(stamp.word_size)}" '
        f'fill="{_STAMP_RED}" text-anchor="middle" font-weight="bold" '
        f'letter-spacing="0.6">{escape(stamp.word)}</text>'
        f'<text x="{_num(stamp.cx)}" y="{_num(line_y)}" font-size="{_num(stamp.line_size)}" '
        f'fill="{_STAMP_RED}" text-anchor="middle" font-weight="bold">{escape(stamp.line)}</text>'
        "</g>"
    )


def _segno_path(qr: segno.QRCode) -> str:
    """The ``d`` of segno's SVG path for ``qr`` at 1 unit per module, without quiet zone."""
    svg = ElementTree.fromstring(qr.svg_inline(scale=1, border=0, omitsize=True))
    path = svg.find("{http://www.w3.org/2000/svg}path")
    if path is None:
        path = svg.find("path")
    if path is None or "d" not in path.attrib:  # pragma: no cover - segno always draws one
        raise RuntimeError("segno's SVG has no path")
    return path.attrib["d"]


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


# --- PDF --------------------------------------------------------------------------------


def label_pdf(info: LabelInfo, qr_data: str, *, qr_mm: float = DEFAULT_QR_MM) -> bytes:
    """The label as a one-page PDF of 100 mm × 66 mm (reportlab, reproducible bytes).

    Same layout and QR geometry as :func:`label_svg`: the QR symbol is ``qr_mm``
    (≥ 25) mm wide without its 4-module quiet zone, drawn as vector rectangles.
    Raises :class:`ValueError` if ``qr_mm`` < 25.
    """
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen.canvas import Canvas

    items = _layout(info, qr_data, qr_mm)
    if _PDF_CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_PDF_CJK_FONT))
    out = io.BytesIO()
    page_h = LABEL_HEIGHT_MM * mm
    canvas = Canvas(out, pagesize=(LABEL_WIDTH_MM * mm, page_h), invariant=True)
    canvas.setTitle(f"碳足迹标签 Carbon Footprint Label {info.label_number}")
    canvas.setAuthor(info.issuer_name)
    canvas.setSubject(info.product_name)
    for item in items:
        if isinstance(item, _Rect):
            canvas.setFillColor(item.fill)
            if item.stroke:
                canvas.setStrokeColor(item.stroke)
                canvas.setLineWidth(item.stroke_width * mm)
            args = (item.x * mm, page_h - (item.y + item.h) * mm, item.w * mm, item.h * mm)
            stroke = 1 if item.stroke else 0
            if item.radius:
                canvas.roundRect(*args, item.radius * mm, stroke=stroke, fill=1)
            else:
                canvas.rect(*args, stroke=stroke, fill=1)
        elif isinstance(item, _Stamp):
            _pdf_stamp(canvas, item, page_h, mm)
        elif isinstance(item, _Text):
            ascii_only = item.text.isascii()
            font = ("Helvetica-Bold" if item.bold else "Helvetica") if ascii_only else _PDF_CJK_FONT
            canvas.setFont(font, item.size * mm)
            canvas.setFillColor(item.fill)
            x, y = item.x * mm, page_h - item.y * mm
            if item.anchor == "middle":
                canvas.drawCentredString(x, y, item.text)
            elif item.anchor == "end":
                canvas.drawRightString(x, y, item.text)
            else:
                canvas.drawString(x, y, item.text)
        else:
            canvas.setFillColor("#000000")
            path = canvas.beginPath()
            unit = item.module * mm
            for row, col, run in _dark_runs(item.qr):
                path.rect(
                    item.x * mm + col * unit,
                    page_h - item.y * mm - (row + 1) * unit,
                    run * unit,
                    unit,
                )
            canvas.drawPath(path, stroke=0, fill=1)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _pdf_stamp(canvas: Any, stamp: _Stamp, page_h: float, mm: float) -> None:
    """The stamp on a reportlab canvas: same geometry as :func:`_svg_stamp`."""
    canvas.saveState()
    canvas.translate(stamp.cx * mm, page_h - stamp.cy * mm)
    canvas.rotate(stamp.angle)  # PDF y points up: positive is counter-clockwise on the page
    canvas.setFillAlpha(_STAMP_OPACITY)
    canvas.setStrokeAlpha(_STAMP_OPACITY)
    canvas.setStrokeColor(_STAMP_RED)
    canvas.setFillColor(_STAMP_RED)
    canvas.setLineWidth(1.2 * mm)
    top = stamp.height / 2
    canvas.roundRect(
        -stamp.width / 2 * mm, -top * mm, stamp.width * mm, stamp.height * mm, 2 * mm, 1, 0
    )
    word_y = -top + 4.0 + stamp.word_size * 0.8
    line_y = word_y + 2.5 + stamp.line_size
    canvas.setFont("Helvetica-Bold", stamp.word_size * mm)
    canvas.drawCentredString(0, -word_y * mm, stamp.word)
    font = "Helvetica-Bold" if stamp.line.isascii() else _PDF_CJK_FONT
    canvas.setFont(font, stamp.line_size * mm)
    canvas.drawCentredString(0, -line_y * mm, stamp.line)
    canvas.restoreState()


def _dark_runs(qr: segno.QRCode) -> Iterator[tuple[int, int, int]]:
    """(row, first column, length) of each horizontal run of dark modules."""
    for row, line in enumerate(qr.matrix):
        col, n = 0, len(line)
        while col < n:
            if line[col] & 1:
                start = col
                while col < n and line[col] & 1:
                    col += 1
                yield row, start, col - start
            else:
                col += 1


# --- checks -----------------------------------------------------------------------------


def _check_text(name: str, value: object, *, required: bool) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name}: must be a non-empty string")
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cs") or char in "\ufffe\uffff":
            raise ValueError(f"{name}: control character U+{ord(char):04X} cannot be printed")


def _footprint_text(value: object) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("footprint_value: must be a finite decimal")
        return format(value, "f")
    if isinstance(value, str):
        try:
            parsed = Decimal(value)
        except InvalidOperation:
            parsed = Decimal("NaN")
        if not parsed.is_finite() or not value.strip() == value or "e" in value.lower():
            raise ValueError(f"footprint_value: {value!r} is not a plain decimal number")
        return value
    raise ValueError("footprint_value: must be a Decimal or a decimal string, not a float")
