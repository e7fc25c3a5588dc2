"""The scan page in a real browser: headless Chromium screenshots at phone size.

A genuine, a revoked and a not-found page in each language are written to a
temporary directory and shot at 390×844 (an iPhone 12-14 viewport) into
``tests/artifacts/scan-<lang>-<verdict>.png``. Each screenshot must be a real
image whose top banner has the verdict's colour. Skipped when Chromium is not
installed. Nothing leaves the machine: the pages are ``file://`` URLs with no
external resources, and Chromium's background networking is switched off.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from tests.test_scanpage import example_view
from verifier.i18n import LANGUAGES
from verifier.result import Verdict
from verifier.scanpage import VERDICT_COLOURS, render_not_found, render_scan_page

ARTIFACTS = Path(__file__).parent / "artifacts"
WIDTH, HEIGHT = 390, 844
VERDICTS = (Verdict.GENUINE, Verdict.REVOKED, Verdict.NOT_FOUND)
CHROMIUM = next(
    (p for p in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")) if p
     and Path(p).exists()),
    None,
)  # fmt: skip

# `make test` installs Debian's chromium (Makefile target system-deps): without it these
# tests fail rather than skip.


def _page(lang: str, verdict: Verdict) -> str:
    if verdict is Verdict.NOT_FOUND:
        return render_not_found(
            lang, "06901234567899", "no label was issued for GTIN 06901234567899"
        )
    return render_scan_page(example_view(lang, verdict))


def _shoot(html_file: Path, png: Path, profile: Path) -> None:
    assert CHROMIUM is not None
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{HEIGHT}",
            f"--screenshot={png}",
            html_file.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[tuple[str, str], Path]]:
    """Every (lang, verdict) page shot once, four browsers at a time."""
    work = tmp_path_factory.mktemp("scanpages")
    ARTIFACTS.mkdir(exist_ok=True)
    jobs = {}
    for lang in LANGUAGES:
        for verdict in VERDICTS:
            name = f"scan-{lang}-{verdict.value}"
            html_file = work / f"{name}.html"
            html_file.write_text(_page(lang, verdict), encoding="utf-8")
            png = ARTIFACTS / f"{name}.png"
            png.unlink(missing_ok=True)
            jobs[(lang, verdict.value)] = (html_file, png, work / f"profile-{name}")
    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(_shoot, *job) for job in jobs.values()]:
            future.result()
    yield {key: png for key, (_, png, _) in jobs.items()}


def _close(pixel: object, hex_colour: str, tolerance: int = 6) -> bool:
    assert isinstance(pixel, tuple)
    expected = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], expected, strict=True))


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("verdict", VERDICTS, ids=[v.value for v in VERDICTS])
def test_screenshot(screenshots: dict[tuple[str, str], Path], lang: str, verdict: Verdict) -> None:
    png = screenshots[(lang, verdict.value)]
    assert png.exists() and png.stat().st_size > 20_000
    with Image.open(png) as image:
        assert image.size == (WIDTH, HEIGHT)
        rgb = image.convert("RGB")
        background = VERDICT_COLOURS[verdict][0]
        # the banner's corners and the strip below the glyph carry the verdict colour
        for xy in [(3, 3), (WIDTH - 4, 3), (WIDTH // 2, 4), (6, 90)]:
            assert _close(rgb.getpixel(xy), background), (xy, rgb.getpixel(xy))
        # further down is the page, not the banner
        assert not _close(rgb.getpixel((3, HEIGHT - 40)), background)
        # the banner carries text: some pixels are far from the banner colour
        band = rgb.crop((60, 10, WIDTH - 10, 70))
        assert len(band.getcolors(maxcolors=100_000) or []) > 20
