"""Issue 10 defect 5: the QR printed on a label resolves to that label, never to another.

Two labels A and B for one GTIN; A revoked. Scanning the QR printed on A (decoded
from its PNG) shows A's "revoked" verdict, B's shows B's; a bare GTIN scan lists
both with their statuses (HTML, JSON, linkset) instead of one's green page. On
0dc98bf the printed QR carried only the GTIN and every scan showed the newest
label, B, as genuine.
"""

from __future__ import annotations

import copy
import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from app.cli import main
from app.main import create_app
from app.runtime import Runtime, utcnow
from app.settings import Settings
from issuer.qr import qr_svg
from verifier.i18n import t
from verifier.scanpage import LabelChoice, render_label_list

ROOT = Path(__file__).resolve().parent.parent
REQUEST = json.loads((ROOT / "examples/label.json").read_text())
GTIN14 = "0" + REQUEST["product"]["gtin"]
OTHER_GTIN = "06901234567892"  # a valid GTIN no label is issued for here
EN = {"Accept-Language": "en"}


@pytest.fixture
def api(deployment: Settings) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    runtime = Runtime(deployment)
    now = utcnow()
    runtime.directory.add_org(
        slug="gd-clc",
        name="广东省碳标签专业委员会",
        uscc="12440000MB2C401574",
        credential_types=["CarbonLabelCredential", "GradeResultCredential"],
        product_categories=["room-air-conditioner"],
        now=now,
    )
    tokens = {s: runtime.directory.new_token("gd-clc", [s], "t", now) for s in ("issue", "status")}
    headers = {scope: {"Authorization": f"Bearer {token}"} for scope, token in tokens.items()}
    with TestClient(create_app(deployment, runtime)) as client:
        yield client, headers


def issue(client: TestClient, headers: dict[str, str], request: dict[str, Any]) -> Any:
    response = client.post("/labels", json=request, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def revoke(client: TestClient, headers: dict[str, str], credential_id: str) -> None:
    response = client.post(
        "/credentials/status",
        json={
            "credentialId": credential_id,
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status": True,
        },
        headers=headers,
    )
    assert response.status_code == 200, response.text


def printed_uri(client: TestClient, label_number: str) -> str:
    """What a phone reads from the QR code printed on the label."""
    png = client.get(f"/labels/{label_number}/qr.png")
    assert png.status_code == 200
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert len(found) == 1
    return str(found[0].text)


def local(uri: str) -> str:
    parts = urlsplit(uri)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_a_revoked_labels_qr_shows_that_label_revoked(
    api: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, headers = api
    a = issue(client, headers["issue"], REQUEST)
    b = issue(client, headers["issue"], REQUEST)
    revoke(client, headers["status"], a["verifiableCredential"]["id"])

    uri_a, uri_b = printed_uri(client, a["labelNumber"]), printed_uri(client, b["labelNumber"])
    assert uri_a == a["digitalLink"] and uri_b == b["digitalLink"]
    assert uri_a.endswith(f"/01/{GTIN14}?label={a['labelNumber']}")
    # the credential keeps the product's Digital Link; the printed URI names the label
    product = a["verifiableCredential"]["credentialSubject"]["labelledProduct"]
    assert uri_a.startswith(product["digitalLink"] + "?")

    redirect = client.get(local(uri_a), headers=EN, follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"].startswith(f"/scan/{a['labelNumber']}?")
    page = client.get(local(uri_a), headers=EN)
    assert page.status_code == 200
    assert t("en", "verdict.revoked.title") in page.text
    assert t("en", "verdict.genuine.title") not in page.text
    assert a["labelNumber"] in page.text and b["labelNumber"] not in page.text

    genuine = client.get(local(uri_b), headers=EN)
    assert t("en", "verdict.genuine.title") in genuine.text and b["labelNumber"] in genuine.text

    # machine doors of the printed URI answer for the same label
    bundle = client.get(local(uri_a) + "&linkType=gs1:certificationInfo").json()
    assert bundle["verifiableCredential"]["id"] == a["verifiableCredential"]["id"]
    linkset = client.get(local(uri_a) + "&linkType=linkset").json()["linkset"][0]
    assert linkset["anchor"].endswith(f"?label={a['labelNumber']}")
    assert all(a["labelNumber"] in t["href"] for t in linkset["https://gs1.org/voc/defaultLink"])
    # the SVG QR code and the printable label carry the same URI
    svg = client.get(f"/labels/{b['labelNumber']}/qr.svg")
    assert svg.content == qr_svg(uri_b, scale=4).encode()
    pdf = client.get(f"/labels/{b['labelNumber']}/label.pdf")
    assert pdf.status_code == 200
    png = subprocess.run(
        ["pdftoppm", "-r", "300", "-png", "-singlefile", "-"],
        input=pdf.content,
        capture_output=True,
        check=True,
    ).stdout
    printed = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert [code.text for code in printed] == [uri_b]


def test_a_bare_gtin_scan_lists_every_label_with_its_status(
    api: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, headers = api
    a = issue(client, headers["issue"], REQUEST)
    b = issue(client, headers["issue"], REQUEST)
    revoke(client, headers["status"], a["verifiableCredential"]["id"])

    page = client.get(f"/01/{GTIN14}", headers=EN, follow_redirects=False)
    assert page.status_code == 300
    assert page.headers["content-type"].startswith("text/html")
    assert "location" not in page.headers
    text = page.text
    assert t("en", "several.title") in text
    assert t("en", "verdict.genuine.title") not in text  # no label's verdict stands for the GTIN
    for label, status in ((a, "revoked"), (b, "valid")):
        assert f'href="http://testserver/scan/{label["labelNumber"]}?' in text
        row = text[text.index(label["labelNumber"]) :]
        assert t("en", f"status.{status}") in row[: row.index("</li>")]
    assert "<script" not in text.lower()

    body = client.get(f"/01/{GTIN14}", headers={"Accept": "application/json"})
    assert body.status_code == 300
    labels = {item["labelNumber"]: item for item in body.json()["labels"]}
    assert {n: item["status"] for n, item in labels.items()} == {
        a["labelNumber"]: "revoked",
        b["labelNumber"]: "valid",
    }
    assert labels[a["labelNumber"]]["digitalLink"] == a["digitalLink"]
    assert labels[a["labelNumber"]]["issuer"] == a["verifiableCredential"]["issuer"]["id"]
    scan = client.get(labels[a["labelNumber"]]["scan"])  # lang=zh-Hans: what was negotiated
    assert t("zh-Hans", "verdict.revoked.title") in scan.text
    # one document wanted, several labels: the list, never one label's bundle
    dcc = client.get(f"/01/{GTIN14}", params={"linkType": "gs1:certificationInfo"})
    assert dcc.status_code == 300 and len(dcc.json()["labels"]) == 2
    linkset = client.get(f"/01/{GTIN14}", params={"linkType": "linkset"})
    assert linkset.status_code == 200
    assert linkset.headers["content-type"].startswith("application/linkset+json")
    multi = linkset.json()["linkset"][0]["https://gs1.org/voc/defaultLinkMulti"]
    assert sorted(link["href"].split("/scan/")[1][:19] for link in multi) == sorted(
        [a["labelNumber"], b["labelNumber"]]
    )
    for lang in ("zh-Hans", "zh-Hant", "pt"):
        localized = client.get(f"/01/{GTIN14}", params={"lang": lang})
        assert localized.status_code == 300 and t(lang, "several.title") in localized.text


def test_one_label_is_shown_directly_and_mismatches_are_not_found(
    api: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, headers = api
    a = issue(client, headers["issue"], REQUEST)
    direct = client.get(f"/01/{GTIN14}", follow_redirects=False)
    assert direct.status_code == 307  # the only label: shown directly
    assert direct.headers["location"].startswith(f"/scan/{a['labelNumber']}?")
    # a label number printed with another product's GTIN: not this label
    wrong = client.get(f"/01/{OTHER_GTIN}?label={a['labelNumber']}", headers=EN)
    assert wrong.status_code == 404 and t("en", "verdict.not-found.title") in wrong.text
    assert a["labelNumber"] in wrong.text  # named in the detail
    json_only = {"Accept": "application/json"}
    never = client.get(f"/01/{GTIN14}?label=GDCL-2026-AC-999999", headers=json_only)
    assert never.status_code == 404 and never.json()["type"] == "not-issued"
    # an item label: its printed URI carries its serial and names it; the serial alone
    # (no label parameter) still finds it, the only label with that serial
    item_request = copy.deepcopy(REQUEST)
    item_request["product"]["granularity"] = "item"
    item_request["product"]["serialRange"] = {"firstSerial": "A0001", "lastSerial": "A9999"}
    item = issue(client, headers["issue"], item_request)
    serial = item["logEntry"]["products"]["serial"]
    assert item["digitalLink"].endswith(f"/21/{serial}?label={item['labelNumber']}")
    for uri in (local(item["digitalLink"]), f"/01/{GTIN14}/21/{serial}"):
        found = client.get(uri, follow_redirects=False)
        assert found.status_code == 307, uri
        assert found.headers["location"].startswith(f"/scan/{item['labelNumber']}?")
        assert f"serial={serial}" in found.headers["location"]
    for bad in ("nope", "GDCL-2026-AC-000001&label=GDCL-2026-AC-000002"):
        response = client.get(f"/01/{GTIN14}?label={bad}")
        assert response.status_code == 400, bad
        assert response.json()["type"] == "invalid-digital-link"


def test_cli_verify_of_a_revoked_labels_qr(
    deployment: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``carbonlabel issue label`` writes the QR; ``verify --qr`` of it answers for that label."""
    assert (
        main(
            [
                "issuer",
                "add",
                "--slug",
                "gd-clc",
                "--name",
                "广东省碳标签专业委员会",
                "--uscc",
                "12440000MB2C401574",
            ]
        )
        == 0
    )
    request = tmp_path / "label.json"
    request.write_text(json.dumps(REQUEST))
    for name in ("a", "b"):
        argv = ["issue", "label", str(request), "--issuer", "gd-clc", "--out", str(tmp_path / name)]
        assert main(argv) == 0
    assert main(["label", "revoke", str(tmp_path / "a.json"), "--reason", "study withdrawn"]) == 0
    capsys.readouterr()
    assert main(["verify", "--qr", str(tmp_path / "a.png"), "--local"]) == 1
    assert capsys.readouterr().out.strip().endswith("revoked: NOT verified")
    assert main(["verify", "--qr", str(tmp_path / "b.png"), "--local"]) == 0
    assert "genuine: verified" in capsys.readouterr().out
    # a bare GTIN is ambiguous here: the CLI lists the labels and verifies none
    bare = copy.deepcopy(json.loads((tmp_path / "a.json").read_text()))
    link = bare["verifiableCredential"]["credentialSubject"]["labelledProduct"]["digitalLink"]
    assert main(["verify", "--url", link, "--local"]) == 1
    listed = capsys.readouterr().out
    assert "\trevoked" in listed and "\tvalid" in listed


def test_label_list_page_escapes_and_links_only_web_targets() -> None:
    choices = [
        LabelChoice(
            label_number="GDCL-2026-AC-000001",
            status="revoked",
            issuer_id="did:web:x",
            issuer_name='<img src=x onerror="alert(1)">',
            batch="B&1",
            serial=None,
            valid_from="2026-01-02T00:00:00Z",
            valid_until="2027-01-02T00:00:00Z",
            scan_url="javascript:alert(1)",
            bundle_url="/labels/GDCL-2026-AC-000001",
        ),
        LabelChoice(
            label_number="GDCL-2026-AC-000002",
            status="no-such-status",
            issuer_id="did:web:y",
            issuer_name="",
            batch=None,
            serial="S1",
            valid_from="",
            valid_until="",
            scan_url="/scan/GDCL-2026-AC-000002",
            bundle_url="/labels/GDCL-2026-AC-000002",
        ),
    ]
    page = render_label_list("en", GTIN14, choices)
    assert "<img" not in page and "&lt;img" in page and "B&amp;1" in page
    assert "javascript:" not in page
    assert 'href="/scan/GDCL-2026-AC-000002"' in page
    assert t("en", "status.revoked") in page and "no-such-status" in page
    assert "2027-01-02" in page and "T00:00" not in page
