"""Issue 10 defect 14: a revoked or suspended label looks revoked or suspended everywhere.

The printable label (SVG, PDF) is stamped REVOKED / SUSPENDED from the logged
status; the badge shows the status instead of the grade; the scan page says when
and why (the reason is logged with the status entry, and ``carbonlabel label
revoke`` requires one); a ghost serial reads "do not trust this label" in red.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.main import create_app
from app.runtime import Runtime
from app.settings import Settings
from tests.test_cli_verify import issued, run  # noqa: F401 (the fixture)
from tests.test_scanpage_browser import ARTIFACTS, CHROMIUM, HEIGHT, WIDTH, _close, _shoot
from tests.test_verifier_http import api  # noqa: F401 (the fixture)
from verifier.result import Verdict
from verifier.scanpage import VERDICT_COLOURS

REASON = "足迹研究被撤回 / footprint study withdrawn"


def _tree_size(client: TestClient) -> int:
    size: int = client.get("/healthz").json()["tree_size"]
    return size


def _status(
    client: TestClient, ctx: dict[str, Any], purpose: str, reason: str | None = None
) -> Any:
    body: dict[str, Any] = {
        "credentialId": ctx["label"]["verifiableCredential"]["id"],
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose},
        "status": True,
    }
    if reason is not None:
        body["reason"] = reason
    return client.post(  # ASCII JSON: a lone surrogate travels as its escape
        "/credentials/status",
        content=json.dumps(body).encode(),
        headers={**ctx["headers"], "Content-Type": "application/json"},
    )


def _red_share(png: Path) -> float:
    """The share of pixels that are the stamp's red (blended over the label)."""
    with Image.open(png) as image:
        data = image.convert("RGB").tobytes()
    pixels = [data[i : i + 3] for i in range(0, len(data), 3)]
    red = sum(1 for r, g, b in pixels if r > 150 and g < 110 and b < 130 and r - g > 90)
    return red / len(pixels)


def _rasterise(pdf: bytes, tmp: Path, name: str) -> Path:
    source = tmp / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "100", "-singlefile", str(source), str(tmp / name)],
        check=True,
        timeout=60,
    )
    return tmp / f"{name}.png"


# --- the CLI door ------------------------------------------------------------------


def test_cli_revoke_requires_a_reason_and_the_scan_page_shows_it(
    deployment: Settings,
    issued: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    bundle = issued.with_suffix(".json")
    number = json.loads(bundle.read_text())["verifiableCredential"]["credentialSubject"][
        "labelNumber"
    ]
    runtime = Runtime(deployment)
    with TestClient(create_app(deployment, runtime)) as client:
        before = _tree_size(client)
        code, _, err = run(capsys, "label", "revoke", str(bundle))
        assert code == 2 and "--reason" in err and "required" in err
        code, _, err = run(capsys, "label", "revoke", str(bundle), "--reason", "   ")
        assert code == 2 and "--reason" in err
        code, _, err = run(capsys, "label", "revoke", str(bundle), "--reason", "a\x00b")
        assert code == 1 and "/reason" in err and "U+0000" in err
        assert _tree_size(client) == before  # nothing was logged
        code, out, err = run(capsys, "label", "revoke", str(bundle), "--reason", REASON)
        assert code == 0, err
        assert "revoked=True" in out

        credential_id = json.loads(bundle.read_text())["verifiableCredential"]["id"]
        change = runtime.issuer.status_change(credential_id)
        assert change is not None and change.reason == REASON and change.purpose == "revocation"
        entry = client.get(f"/log/entries/{change.log_index}").json()
        logged = json.loads(entry["text"])
        assert logged["kind"] == "status" and logged["reason"] == REASON

        page = client.get(f"/scan/{number}", params={"lang": "en"})
        assert page.status_code == 200
        assert '<header class="v red"' in page.text and "Label revoked" in page.text
        assert "Revoked on" in page.text
        assert change.at.strftime("%Y-%m-%d %H:%M UTC") in page.text
        assert REASON in page.text
        zh = client.get(f"/scan/{number}", params={"lang": "zh-Hant"}).text
        assert "撤銷時間" in zh and "原因" in zh and REASON in zh


def test_cli_suspend_takes_an_optional_reason(
    deployment: Settings,
    issued: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    bundle = str(issued.with_suffix(".json"))
    code, out, err = run(capsys, "label", "suspend", bundle)
    assert code == 0 and "suspended=True" in out, err
    code, out, err = run(capsys, "label", "reinstate", bundle, "--reason", "audit passed")
    assert code == 0 and "suspended=False" in out, err


# --- the HTTP door ------------------------------------------------------------------


def test_vc_api_status_reason_is_checked_before_the_log(
    api: tuple[TestClient, dict[str, Any]],  # noqa: F811
) -> None:
    client, ctx = api
    before = _tree_size(client)
    for reason, pointer in [
        ("x\x00y", "/reason"),
        ("x\ud800y", "/reason"),
        ("r" * 501, "/reason"),
        ("  ", "/reason"),
    ]:
        response = _status(client, ctx, "revocation", reason)
        assert response.status_code == 422, response.text
        assert [e["pointer"] for e in response.json()["errors"]] == [pointer]
    assert _tree_size(client) == before
    response = _status(client, ctx, "revocation", "r" * 500)
    assert response.status_code == 200, response.text


def test_scan_page_of_a_suspended_label_shows_date_and_reason(
    api: tuple[TestClient, dict[str, Any]],  # noqa: F811
) -> None:
    client, ctx = api
    assert _status(client, ctx, "suspension", "surveillance audit pending").status_code == 200
    page = client.get(f"/scan/{ctx['label']['labelNumber']}", params={"lang": "pt"}).text
    assert "Rótulo suspenso" in page and "Suspenso em" in page
    assert "surveillance audit pending" in page


def test_printable_label_is_stamped_from_the_logged_status(
    api: tuple[TestClient, dict[str, Any]],  # noqa: F811
    tmp_path: Path,
) -> None:
    client, ctx = api
    number = ctx["label"]["labelNumber"]
    svg = client.get(f"/labels/{number}/label.svg")
    assert svg.status_code == 200 and "REVOKED" not in svg.text and "status-stamp" not in svg.text
    clean = _red_share(_rasterise(client.get(f"/labels/{number}/label.pdf").content, tmp_path, "a"))
    assert clean < 0.001

    assert _status(client, ctx, "suspension").status_code == 200
    svg = client.get(f"/labels/{number}/label.svg")
    assert "SUSPENDED" in svg.text and "已暂停" in svg.text and "status-stamp" in svg.text

    assert _status(client, ctx, "revocation", "withdrawn").status_code == 200
    svg = client.get(f"/labels/{number}/label.svg")
    assert svg.status_code == 200 and svg.headers["cache-control"] == "no-cache"
    assert "REVOKED" in svg.text and "已撤销" in svg.text and "SUSPENDED" not in svg.text
    pdf = client.get(f"/labels/{number}/label.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    stamped = _red_share(_rasterise(pdf.content, tmp_path, "b"))
    assert stamped > 0.02, stamped  # a large red stamp across the label


def test_badge_svg_shows_the_status_instead_of_the_grade(
    api: tuple[TestClient, dict[str, Any]],  # noqa: F811
) -> None:
    client, ctx = api
    number = ctx["label"]["labelNumber"]
    grade = ctx["grade"]["verifiableCredential"]["credentialSubject"]["grade"]
    before = client.get(f"/badges/{number}.svg", params={"lang": "en"}).text
    assert ">Grade<" in before and f">{grade}<" in before
    assert _status(client, ctx, "revocation", "withdrawn").status_code == 200
    after = client.get(f"/badges/{number}.svg", params={"lang": "en"}).text
    assert ">Revoked<" in after and "Withdrawn by the issuer" in after
    assert ">Grade<" not in after and f">{grade}<" not in after
    zh = client.get(f"/badges/{number}.svg", params={"lang": "zh-Hans"}).text
    assert ">已撤销<" in zh and ">等级<" not in zh


def test_a_ghost_serial_reads_do_not_trust_in_red(
    api: tuple[TestClient, dict[str, Any]],  # noqa: F811
) -> None:
    client, ctx = api
    number = ctx["label"]["labelNumber"]
    genuine = client.get(f"/scan/{number}", params={"lang": "en"}).text
    assert '<header class="v green"' in genuine
    ghost = client.get(f"/scan/{number}", params={"lang": "en", "serial": "GHOST0001"}).text
    assert '<header class="v red"' in ghost
    assert "Do not trust this label" in ghost and "Valid label" not in ghost
    assert "This serial number was never issued for this label" in ghost
    assert '<section class="w x">' in ghost
    zh = client.get(f"/scan/{number}", params={"lang": "zh-Hans", "serial": "GHOST0002"}).text
    assert '<header class="v red"' in zh and "请勿信任此标签" in zh


@pytest.fixture
def revoked_page(api: tuple[TestClient, dict[str, Any]]) -> Iterator[str]:  # noqa: F811
    client, ctx = api
    assert _status(client, ctx, "revocation", REASON).status_code == 200
    yield client.get(f"/scan/{ctx['label']['labelNumber']}", params={"lang": "en"}).text


def test_screenshot_of_a_revoked_scan_page(revoked_page: str, tmp_path: Path) -> None:
    """As in tests/test_scanpage_browser.py: fails, not skips, without Chromium."""
    assert CHROMIUM is not None, "Chromium is not installed (make system-deps)"
    html_file = tmp_path / "revoked.html"
    html_file.write_text(revoked_page, encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    png = ARTIFACTS / "scan-http-en-revoked-with-reason.png"
    png.unlink(missing_ok=True)
    _shoot(html_file, png, tmp_path / "profile")
    with Image.open(png) as image:
        assert image.size == (WIDTH, HEIGHT)
        rgb = image.convert("RGB")
        red = VERDICT_COLOURS[Verdict.REVOKED][0]
        for xy in [(3, 3), (WIDTH - 4, 3), (6, 90)]:
            assert _close(rgb.getpixel(xy), red), (xy, rgb.getpixel(xy))
