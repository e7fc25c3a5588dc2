"""Printable labels: SVG and PDF content, and the QR read back at its printed size."""

import io
import math
import re
import subprocess
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import segno
import zxingcpp
from PIL import Image

from issuer.printable import (
    LABEL_HEIGHT_MM,
    LABEL_WIDTH_MM,
    MIN_QR_MM,
    LabelInfo,
    label_pdf,
    label_svg,
)
from issuer.qr import encode_offline
from schemas.digitallink import digital_link
from tests.test_qr import signed_credential

ARTIFACTS = Path(__file__).parent / "artifacts"
SVG_NS = "{http://www.w3.org/2000/svg}"
DPI = 300
URI = digital_link(
    "https://id.gd-carbon-label.example", "6901234567892", batch="B2025-07", serial="U5C2H3CKXG6NQ"
)
INFO = LabelInfo(
    label_number="GDCL-2025-AC-000123",
    product_name="房间空调器 KFR-35GW/BP3DN8Y",
    footprint_value=Decimal("1234.5"),
    footprint_unit="kg CO2e / piece",
    boundary="cradle-to-grave",
    issuer_name="广东省碳标签专业委员会",
    valid_until=date(2027, 9, 30),
    grade="3",
    grade_rule="GDCL-RAC-2025 房间空调器分级规则",
)

# pdftoppm (poppler-utils) and rsvg-convert (librsvg2-bin) are installed by `make test`
# (Makefile target system-deps); without them these tests fail rather than skip.


def _texts(svg: str) -> list[str]:
    root = ElementTree.fromstring(svg.encode())
    return ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]


def _read_qr(png: bytes, name: str) -> zxingcpp.Barcode:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_bytes(png)
    image = Image.open(io.BytesIO(png)).convert("L")
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, f"expected one QR code in {name}, found {len(found)}"
    return found[0]


def _width_mm(barcode: zxingcpp.Barcode, dpi: int) -> float:
    """Width of the symbol (corner to corner, quiet zone excluded) in millimetres."""
    p = barcode.position
    top = math.dist((p.top_left.x, p.top_left.y), (p.top_right.x, p.top_right.y))
    bottom = math.dist((p.bottom_left.x, p.bottom_left.y), (p.bottom_right.x, p.bottom_right.y))
    return min(top, bottom) / dpi * 25.4


def _pdf_to_png(pdf: bytes, name: str) -> bytes:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
    return subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-png", "-singlefile", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout


def _svg_to_png(svg: str, name: str) -> bytes:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{name}.svg").write_text(svg, encoding="utf-8")
    return subprocess.run(
        ["rsvg-convert", "--dpi-x", str(DPI), "--dpi-y", str(DPI), "-b", "white"],
        input=svg.encode(),
        capture_output=True,
        check=True,
    ).stdout


# --- LabelInfo ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"boundary": "gate-to-gate"}, "boundary", id="boundary"),
        pytest.param({"grade_rule": None}, "grade", id="grade-without-rule"),
        pytest.param({"label_number": ""}, "label_number", id="empty-number"),
        pytest.param({"product_name": "A\x00B"}, "product_name", id="nul"),
        pytest.param({"issuer_name": "A\x1bB"}, "issuer_name", id="escape-char"),
        pytest.param({"footprint_value": 1.5}, "footprint_value", id="float"),
        pytest.param({"footprint_value": "1e3"}, "footprint_value", id="exponent"),
        pytest.param({"footprint_value": "abc"}, "footprint_value", id="not-a-number"),
        pytest.param({"footprint_value": Decimal("NaN")}, "footprint_value", id="nan"),
        pytest.param({"valid_until": ""}, "valid_until", id="empty-date"),
    ],
)
def test_label_info_refuses(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        replace(INFO, **changes)


def test_value_and_date_text() -> None:
    assert INFO.value_text == "1234.5"
    assert replace(INFO, footprint_value=Decimal("1.2E+3")).value_text == "1200"
    assert replace(INFO, footprint_value="0.850").value_text == "0.850"
    assert INFO.valid_until_text == "2027-09-30"


# --- SVG ---------------------------------------------------------------------------------


def test_svg_shows_the_label() -> None:
    svg = label_svg(INFO, URI)
    root = ElementTree.fromstring(svg.encode())
    assert root.get("width") == f"{LABEL_WIDTH_MM:g}mm"
    assert root.get("height") == f"{LABEL_HEIGHT_MM:g}mm"
    texts = "\n".join(_texts(svg))
    for expected in (
        "碳足迹标签",
        "Carbon Footprint Label",
        "GDCL-2025-AC-000123",
        "1234.5",
        "kg CO2e / piece",
        "从摇篮到坟墓",
        "Cradle-to-grave",
        "等级 Grade",
        "GDCL-RAC-2025 房间空调器分级规则",
        "广东省碳标签专业委员会",
        "2027-09-30",
    ):
        assert expected in texts, expected


def test_svg_cradle_to_gate_without_grade() -> None:
    info = replace(INFO, boundary="cradle-to-gate", grade=None, grade_rule=None)
    texts = "\n".join(_texts(label_svg(info, URI)))
    assert "从摇篮到大门" in texts and "Cradle-to-gate" in texts
    assert "Grade" not in texts and "坟墓" not in texts


def test_svg_escapes_all_text() -> None:
    nasty = "<script>alert(\"x\")</script> & 'q' ]]>"
    info = replace(INFO, product_name=nasty, issuer_name="A&B <Ltd>", label_number="N<1>&")
    svg = label_svg(info, URI)
    assert "<script>" not in svg
    texts = _texts(svg)
    assert nasty in texts
    assert any("A&B <Ltd>" in t for t in texts)
    root = ElementTree.fromstring(svg.encode())
    assert "N<1>&" in "".join(root.itertext())


def test_svg_qr_is_at_least_25_mm() -> None:
    svg = label_svg(INFO, URI)
    root = ElementTree.fromstring(svg.encode())
    group = next(g for g in root.iter(f"{SVG_NS}g") if "scale(" in g.get("transform", ""))
    match = re.search(r"scale\(([0-9.]+)\)", group.get("transform", ""))
    assert match is not None
    modules = segno.make_qr(URI, error="m", boost_error=False).symbol_size(scale=1, border=0)[0]
    assert float(match.group(1)) * modules >= MIN_QR_MM


def test_qr_smaller_than_25_mm_is_refused() -> None:
    with pytest.raises(ValueError, match="qr_mm"):
        label_svg(INFO, URI, qr_mm=24.9)
    with pytest.raises(ValueError, match="qr_mm"):
        label_pdf(INFO, URI, qr_mm=10)


@pytest.mark.parametrize("qr_mm", [MIN_QR_MM, 28.0])
def test_svg_rendered_qr_decodes_at_printed_size(qr_mm: float) -> None:
    png = _svg_to_png(label_svg(INFO, URI, qr_mm=qr_mm), f"label-svg-{qr_mm:g}mm")
    image = Image.open(io.BytesIO(png))
    width_px, height_px = image.size
    assert width_px == pytest.approx(LABEL_WIDTH_MM / 25.4 * DPI, abs=1)
    assert height_px == pytest.approx(LABEL_HEIGHT_MM / 25.4 * DPI, abs=1)
    found = _read_qr(png, f"label-svg-{qr_mm:g}mm.png")
    assert found.text == URI
    assert _width_mm(found, DPI) >= MIN_QR_MM - 0.2  # corner detection is within a pixel or two
    assert _width_mm(found, DPI) == pytest.approx(qr_mm, abs=0.5)


# --- PDF ---------------------------------------------------------------------------------


def test_pdf_is_one_label_sized_page_and_reproducible() -> None:
    pdf = label_pdf(INFO, URI)
    assert pdf.startswith(b"%PDF-")
    assert pdf == label_pdf(INFO, URI)
    box = re.search(rb"/MediaBox \[\s*0 0 ([0-9.]+) ([0-9.]+)\s*\]", pdf)
    assert box is not None
    assert float(box.group(1)) == pytest.approx(LABEL_WIDTH_MM / 25.4 * 72, abs=0.01)
    assert float(box.group(2)) == pytest.approx(LABEL_HEIGHT_MM / 25.4 * 72, abs=0.01)
    assert b"/STSong-Light" in pdf


def test_pdf_text() -> None:
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=label_pdf(INFO, URI), capture_output=True, check=True
    ).stdout.decode()
    for expected in ("GDCL-2025-AC-000123", "1234.5", "kg CO2e / piece", "Cradle-to-grave"):
        assert expected in text, expected


@pytest.mark.parametrize("qr_mm", [MIN_QR_MM, 28.0])
def test_pdf_rendered_qr_decodes_at_printed_size(qr_mm: float) -> None:
    png = _pdf_to_png(label_pdf(INFO, URI, qr_mm=qr_mm), f"label-pdf-{qr_mm:g}mm")
    found = _read_qr(png, f"label-pdf-{qr_mm:g}mm.png")
    assert found.text == URI
    assert _width_mm(found, DPI) >= MIN_QR_MM - 0.2
    assert _width_mm(found, DPI) == pytest.approx(qr_mm, abs=0.5)


def test_offline_qr_label_decodes() -> None:
    """A version-22 offline QR at 28 mm (0.27 mm modules) still reads at 300 dpi."""
    text = encode_offline(signed_credential())
    info = replace(INFO, grade=None, grade_rule=None)
    for kind, png in (
        ("pdf", _pdf_to_png(label_pdf(info, text), "label-offline")),
        ("svg", _svg_to_png(label_svg(info, text), "label-offline")),
    ):
        found = _read_qr(png, f"label-offline-{kind}.png")
        assert found.text == text
        assert found.extra["Version"] == "22"
        assert _width_mm(found, DPI) >= MIN_QR_MM
