"""QR codes: Digital Link QR read back by a real decoder, base45 (RFC 9285), offline QR."""

import io
import json
import subprocess
import zlib
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import base58
import pytest
import segno
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from issuer.qr import (
    BASE45_ALPHABET,
    MAX_DECOMPRESSED_BYTES,
    OFFLINE_CAPACITY,
    OFFLINE_PREFIX,
    Base45Error,
    OfflineQRError,
    OfflineQRTooLarge,
    b45decode,
    b45encode,
    decode_offline,
    encode_offline,
    offline_qr,
    qr_png,
    qr_svg,
)
from schemas.digitallink import digital_link

ARTIFACTS = Path(__file__).parent / "artifacts"
URI = digital_link(
    "https://id.gd-carbon-label.example", "6901234567892", batch="B2025-07", serial="U5C2H3CKXG6NQ"
)


def _read_qr(image: Image.Image) -> list[zxingcpp.Barcode]:
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, f"expected one QR code, found {len(found)}"
    return found


def _save(name: str, png: bytes) -> Image.Image:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_bytes(png)
    return Image.open(io.BytesIO(png))


def signed_credential(stages: int = 0) -> dict[str, Any]:
    """A lean label credential with an eddsa-jcs-2022-style proof (deterministic key).

    ``stages`` adds life-cycle stage rows to grow the document for capacity tests.
    """
    footprint: dict[str, Any] = {
        "declaredUnit": "piece",
        "unitaryProductAmount": "1",
        "pcfExcludingBiogenicUptake": "1234.5",
        "boundary": "cradle-to-grave",
        "standard": "GB/T 24067-2024",
        "productCategoryRule": "GDCL-PCR-RAC-2025",
    }
    if stages:
        footprint["stages"] = [
            {"stage": f"stage-{i}", "emissions": f"{100 + 37 * i}.{i}"} for i in range(stages)
        ]
    document: dict[str, Any] = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://registry.gd-carbon-label.example/contexts/gdcl/v1/",
        ],
        "type": ["VerifiableCredential", "CarbonLabelCredential"],
        "id": "urn:uuid:3f1c9a52-6d0e-4a57-9b7e-2f0c8d1e4a10",
        "issuer": "did:web:registry.gd-carbon-label.example:issuers:gdlc-clc",
        "validFrom": "2025-10-01T00:00:00Z",
        "validUntil": "2027-09-30T23:59:59Z",
        "credentialStatus": {
            "id": "https://registry.gd-carbon-label.example/status/2025/revocation#10452",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "10452",
            "statusListCredential": "https://registry.gd-carbon-label.example/status/2025/revocation",
        },
        "credentialSubject": {
            "id": "https://registry.gd-carbon-label.example/labels/GDCL-2025-AC-000123",
            "type": ["CarbonLabelAttestation"],
            "labelNumber": "GDCL-2025-AC-000123",
            "product": {"gtin": "06901234567892", "name": "房间空调器 KFR-35GW/BP3DN8Y"},
            "footprint": footprint,
            "grade": {"value": "3", "rule": "GDCL-RAC-2025"},
        },
    }
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    payload = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    document["proof"] = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2025-10-01T08:00:00Z",
        "verificationMethod": "did:web:registry.gd-carbon-label.example:issuers:gdlc-clc#key-1",
        "proofPurpose": "assertionMethod",
        "proofValue": "z" + base58.b58encode(key.sign(payload)).decode(),
    }
    return document


def _compact_size(document: dict[str, Any]) -> int:
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode())


# --- base45 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        pytest.param(b"AB", "BB8", id="rfc9285-4.3-AB"),
        pytest.param(b"Hello!!", "%69 VD92EX0", id="rfc9285-4.3-hello"),
        pytest.param(b"base-45", "UJCLQE7W581", id="rfc9285-4.3-base-45"),
        pytest.param(b"ietf!", "QED8WEX0", id="rfc9285-4.4-ietf"),
        pytest.param(b"", "", id="empty"),
        pytest.param(b"\x00", "00", id="zero-byte"),
        pytest.param(b"\xff\xff", "FGW", id="max-pair"),
    ],
)
def test_base45_vectors(raw: bytes, encoded: str) -> None:
    assert b45encode(raw) == encoded
    assert b45decode(encoded) == raw


def test_base45_alphabet_is_qr_alphanumeric() -> None:
    assert len(BASE45_ALPHABET) == 45
    assert segno.make_qr(BASE45_ALPHABET, mode="alphanumeric").mode == "alphanumeric"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("GGW", "65535", id="triple-overflow"),
        pytest.param("ab8", "'a'", id="lowercase"),
        pytest.param("BB8=", "'='", id="padding"),
        pytest.param("B", "length 1", id="length-3k+1"),
        pytest.param(":6", "255", id="pair-overflow"),
    ],
)
def test_base45_bad_input(text: str, reason: str) -> None:
    with pytest.raises(Base45Error, match=reason):
        b45decode(text)


# --- Digital Link QR -----------------------------------------------------------------------


def test_png_decodes_to_exactly_the_uri() -> None:
    image = _save("qr-digital-link.png", qr_png(URI, scale=6))
    (found,) = _read_qr(image)
    assert found.text == URI
    assert found.ec_level == "M"


def test_png_border_and_scale() -> None:
    qr = segno.make_qr(URI, error="m", boost_error=False)
    size = qr.symbol_size(scale=1, border=0)[0]
    image = Image.open(io.BytesIO(qr_png(URI, scale=3, border=4)))
    assert image.size == ((size + 8) * 3, (size + 8) * 3)


def test_svg_decodes_to_exactly_the_uri() -> None:
    svg = qr_svg(URI, scale=0.8, unit="mm")
    assert svg.startswith("<svg")
    root = ElementTree.fromstring(svg)
    assert root.get("width", "").endswith("mm")
    png = subprocess.run(
        ["rsvg-convert", "--dpi-x", "300", "--dpi-y", "300", "--background-color", "white"],
        input=svg.encode(),
        capture_output=True,
        check=True,
    ).stdout
    (found,) = _read_qr(_save("qr-digital-link-svg.png", png))
    assert found.text == URI


# --- offline QR ----------------------------------------------------------------------------


def test_offline_round_trip_through_a_real_decoder() -> None:
    document = signed_credential()
    size = _compact_size(document)
    assert 1400 <= size <= 1500, size
    text = encode_offline(document)
    assert text.startswith(OFFLINE_PREFIX)
    assert set(text) <= set(BASE45_ALPHABET)
    qr = offline_qr(document)
    assert qr.mode == "alphanumeric"
    assert qr.error == "M"
    assert qr.version <= 22
    out = io.BytesIO()
    qr.save(out, kind="png", scale=4, border=4)
    (found,) = _read_qr(_save("qr-offline.png", out.getvalue()))
    assert found.text == text
    assert found.ec_level == "M"
    assert found.extra["Version"] == str(qr.version)
    assert decode_offline(found.text) == document


def test_offline_payload_is_raw_deflate_of_compact_json() -> None:
    document = signed_credential()
    raw = zlib.decompress(b45decode(encode_offline(document)[len(OFFLINE_PREFIX) :]), wbits=-15)
    compact = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    assert raw == compact


def test_offline_capacity_is_version_22_m_alphanumeric() -> None:
    assert OFFLINE_CAPACITY == 1134
    qr = segno.make_qr("A" * OFFLINE_CAPACITY, error="m", mode="alphanumeric", boost_error=False)
    assert qr.version == 22
    with pytest.raises(segno.DataOverflowError):
        segno.make_qr("A" * (OFFLINE_CAPACITY + 1), error="m", mode="alphanumeric", version=22)


def test_largest_credential_that_fits() -> None:
    """Grow the credential a stage at a time: about 1.45 KB of compact JSON is the most."""
    stages = 0
    while len(encode_offline(signed_credential(stages + 1))) <= OFFLINE_CAPACITY:
        stages += 1
    largest = signed_credential(stages)
    assert offline_qr(largest).version == 22
    assert 1400 < _compact_size(largest) < 1600
    with pytest.raises(OfflineQRTooLarge):
        offline_qr(signed_credential(stages + 1))


def test_too_large_document_says_needed_and_capacity() -> None:
    document = signed_credential()
    document["evidence"] = [
        {"id": f"urn:uuid:{i:032x}", "digest": f"{i * 7919:064x}"} for i in range(40)
    ]
    needed = len(encode_offline(document))
    with pytest.raises(OfflineQRTooLarge) as caught:
        offline_qr(document)
    assert caught.value.needed == needed
    assert caught.value.capacity == OFFLINE_CAPACITY
    assert f"needs {needed} alphanumeric characters" in str(caught.value)
    assert "22-M holds 1134" in str(caught.value)


@pytest.mark.parametrize("stages", [2, 11])
def test_credentials_of_1_5_to_2_kb_do_not_fit(stages: int) -> None:
    document = signed_credential(stages)
    assert 1500 <= _compact_size(document) <= 2000
    with pytest.raises(OfflineQRTooLarge):
        offline_qr(document)


def test_full_untp_example_credential_is_too_large() -> None:
    example = Path(__file__).parents[1] / "schemas" / "examples" / "label-credential.room-ac.json"
    with pytest.raises(OfflineQRTooLarge):
        offline_qr(json.loads(example.read_text(encoding="utf-8")))


def _offline(raw: bytes) -> str:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return OFFLINE_PREFIX + b45encode(compressor.compress(raw) + compressor.flush())


@pytest.mark.parametrize(
    ("text", "error", "reason"),
    [
        pytest.param("BB8", OfflineQRError, "start with 'CL1:'", id="no-prefix"),
        pytest.param("cl1:BB8", OfflineQRError, "start with", id="lowercase-prefix"),
        pytest.param("CL1:bb8", Base45Error, "'b'", id="not-base45"),
        pytest.param("CL1:BB8B", Base45Error, "length", id="bad-length"),
        pytest.param(
            "CL1:" + b45encode(b"\xff\xff\xff"), OfflineQRError, "DEFLATE", id="not-deflate"
        ),
        pytest.param(_offline(b"[1,2]"), OfflineQRError, "JSON object", id="array"),
        pytest.param(_offline(b'{"a":1,"a":2}'), OfflineQRError, "duplicate", id="duplicate-key"),
        pytest.param(_offline(b'{"a":NaN}'), OfflineQRError, "NaN", id="nan"),
        pytest.param(_offline(b'{"a":'), OfflineQRError, "JSON", id="truncated-json"),
        pytest.param(_offline(b'{"a":"\xff"}'), OfflineQRError, "UTF-8", id="not-utf8"),
        pytest.param(
            _offline(b"{}") + b45encode(b"\x00"), OfflineQRError, "extra bytes", id="trailing"
        ),
    ],
)
def test_decode_offline_refuses(text: str, error: type[Exception], reason: str) -> None:
    with pytest.raises(error, match=reason):
        decode_offline(text)


def test_decode_offline_refuses_truncated_stream() -> None:
    text = encode_offline(signed_credential())
    body = b45decode(text[len(OFFLINE_PREFIX) :])
    with pytest.raises(OfflineQRError, match="truncated"):
        decode_offline(OFFLINE_PREFIX + b45encode(body[: len(body) // 2]))


def test_decode_offline_refuses_decompression_bomb() -> None:
    bomb = b'{"a":"' + b" " * MAX_DECOMPRESSED_BYTES + b'"}'
    text = _offline(bomb)
    assert len(text) < 3000  # ~1 MiB of spaces deflates to about 1 KB
    with pytest.raises(OfflineQRError, match="exceeds 1048576 bytes"):
        decode_offline(text)
    just_fits = b'{"a":"' + b" " * (MAX_DECOMPRESSED_BYTES - 8) + b'"}'
    assert decode_offline(_offline(just_fits)) == {"a": " " * (MAX_DECOMPRESSED_BYTES - 8)}


def test_encode_offline_refuses_non_json() -> None:
    with pytest.raises(OfflineQRError, match="not JSON"):
        encode_offline({"a": float("nan")})
    with pytest.raises(OfflineQRError, match="not JSON"):
        encode_offline({"a": object()})
