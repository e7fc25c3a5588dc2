"""issuer.build: label and grade credentials, label summaries, label numbers.

Every row of ``examples/labels.csv`` is built into a label credential that must pass
the carbon-label schema, the UNTP DCC schema and JSON-LD safe-mode expansion (no
undefined term). The grade builder is checked against the schemas example grading
rule and grade credential.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.canonical import canonicalize_jcs, expand
from credentials.dataintegrity import did_key_method_resolver, sign, verify
from credentials.didkey import did_key_from_public_key, did_key_verification_method_id
from credentials.multikey import Ed25519KeyPair
from credentials.statuslist import status_list_entry
from issuer.batchfile import BatchRow, read_batch
from issuer.build import (
    CATEGORY_CODES,
    DEFAULT_LABEL_VALIDITY,
    IssuerProfile,
    build_grade_credential,
    build_label_credential,
    category_code,
    label_number,
    label_summary,
)
from schemas.errors import SchemaValidationError
from schemas.grading import GradeOutcome, grade, rule_digest
from schemas.logentry import credential_digest
from schemas.validate import check_gtin, validate

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_EXAMPLES = ROOT / "schemas" / "examples"
LABELS_CSV = ROOT / "examples" / "labels.csv"
LABEL_JSON = ROOT / "examples" / "label.json"

VALID_FROM = datetime(2025, 11, 1, tzinfo=UTC)
GRADED_AT = datetime(2025, 11, 2, tzinfo=UTC)
REGISTRY = "https://registry.gd-carbon-label.example"
RESOLVER = "https://id.gd-carbon-label.example"
STATUS_LIST = f"{REGISTRY}/status/2025/revocation"
LABEL_AUTHORITY = IssuerProfile(
    did="did:web:registry.gd-carbon-label.example:issuers:gdlc-clc",
    name="广东省碳标签专业委员会 (illustrative issuer)",
    uscc="12440000MB2C401574",
)
GRADING_AUTHORITY = IssuerProfile(
    did="did:web:registry.gd-carbon-label.example:issuers:grading",
    name="Grading authority (illustrative)",
    uscc="12440000MB2C401574",
)


def _json(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return loaded


def _csv_rows() -> list[BatchRow]:
    return list(read_batch(LABELS_CSV))


def _digital_link(request: dict[str, Any]) -> str:
    product = request["product"]
    link = f"{RESOLVER}/01/{check_gtin(product['gtin'])}"
    if "batchNumber" in product:
        link += f"/10/{product['batchNumber']}"
    return link


def _build(request: dict[str, Any], sequence: int = 123, **overrides: Any) -> dict[str, Any]:
    code = category_code(request["product"]["productCategory"])
    number = label_number(2025, code, sequence)
    arguments: dict[str, Any] = {
        "issuer": LABEL_AUTHORITY,
        "credential_id": f"{REGISTRY}/credentials/label/{number}",
        "label_number": number,
        "status_entries": [status_list_entry(STATUS_LIST, sequence, "revocation")],
        "valid_from": VALID_FROM,
    }
    arguments.update(overrides)
    if "digital_link" not in arguments:
        arguments["digital_link"] = _digital_link(request)
    return build_label_credential(request, **arguments)


@pytest.fixture(scope="module")
def key() -> Ed25519KeyPair:
    private = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    did = did_key_from_public_key(private.public_key())
    return Ed25519KeyPair(private.public_key(), private, did_key_verification_method_id(did), did)


# --- the label credential ------------------------------------------------------------


ROWS = _csv_rows()


@pytest.mark.parametrize("row", ROWS, ids=[f"line{r.line}" for r in ROWS])
def test_every_csv_row_builds_a_valid_label(row: BatchRow) -> None:
    assert row.request is not None, row.errors
    credential = _build(row.request, sequence=row.line)
    validate("CarbonLabelCredential", credential)  # our schema and the UNTP DCC schema
    expand(credential)  # safe mode: raises on any undefined term
    subject = credential["credentialSubject"]
    assert subject["carbonFootprint"] == row.request["footprint"]
    assert subject["labelledProduct"]["gtin"] == check_gtin(row.request["product"]["gtin"])
    assert subject["labelNumber"].startswith("GDCL-2025-")
    expected_until = row.request.get("validUntil") or (
        (VALID_FROM + DEFAULT_LABEL_VALIDITY).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    assert credential["validUntil"] == expected_until


def test_csv_rows_cover_granularities_and_default_validity() -> None:
    requests = [r.request for r in ROWS if r.request is not None]
    assert {r["product"]["granularity"] for r in requests} == {"model", "batch", "item"}
    assert any("validUntil" not in r for r in requests)


def test_schemas_example_request_gives_the_schemas_example_credential() -> None:
    request = _json(SCHEMA_EXAMPLES / "label-request.room-ac.json")
    example = _json(SCHEMA_EXAMPLES / "label-credential.room-ac.json")
    credential = _build(
        request,
        sequence=10452,
        credential_id=example["id"],
        label_number="GDCL-2025-AC-000123",
        digital_link=f"{RESOLVER}/01/06901234567892",
        valid_from=datetime(2025, 10, 1, tzinfo=UTC),
    )
    for name in ("@context", "type", "id", "validFrom", "validUntil", "credentialStatus"):
        assert credential[name] == example[name], name
    ours, theirs = credential["credentialSubject"], example["credentialSubject"]
    for name in (
        "type",
        "id",
        "assessorLevel",
        "assessmentLevel",
        "attestationType",
        "issuedToParty",
        "conformityCertificate",
        "auditableEvidence",
        "scope",
        "labelNumber",
        "labelledProduct",
        "carbonFootprint",
        "authorisedDistributors",
        "marketRegions",
    ):
        assert ours[name] == theirs[name], name
    assessment = ours["assessment"][0]
    assert assessment["referenceStandard"] == theirs["assessment"][0]["referenceStandard"]
    assert assessment["assessedProduct"] == theirs["assessment"][0]["assessedProduct"]
    assert assessment["declaredValue"][0]["metricValue"]["value"] == 5900.5
    assert assessment["auditor"] == {
        "id": "urn:gtr:gsxt.gov.cn:91440104MA9Y3T6K0Y",
        "name": "广州某认证有限公司 (example certification body)",
        "registeredId": "91440104MA9Y3T6K0Y",
    }
    assert credential["issuer"]["issuerAlsoKnownAs"][0]["registeredId"] == "12440000MB2C401574"


def test_example_post_body_builds_signs_and_verifies(key: Ed25519KeyPair) -> None:
    credential = _build(_json(LABEL_JSON))
    expand(credential)
    assert key.id is not None
    signed = sign(credential, key, verification_method=key.id, created=VALID_FROM)
    verified = verify(signed, resolve_method=did_key_method_resolver, now=GRADED_AT)
    assert verified.document == credential


def test_batch_and_item_labels_carry_batch_and_serials() -> None:
    requests = [r.request for r in ROWS if r.request is not None]
    batch = next(r for r in requests if r["product"]["granularity"] == "batch")
    item = next(r for r in requests if r["product"]["granularity"] == "item")
    credential = _build(batch)
    product = credential["credentialSubject"]["labelledProduct"]
    assert product["batchNumber"] == batch["product"]["batchNumber"]
    assert product["digitalLink"].endswith(f"/10/{batch['product']['batchNumber']}")
    verified = credential["credentialSubject"]["assessment"][0]["assessedProduct"][0]
    assert verified["product"]["batchNumber"] == batch["product"]["batchNumber"]
    credential = _build(item)
    assert (
        credential["credentialSubject"]["labelledProduct"]["serialRange"]
        == item["product"]["serialRange"]
    )
    expand(credential)


def test_no_status_entries_means_no_credential_status() -> None:
    credential = _build(_json(LABEL_JSON), status_entries=[])
    assert "credentialStatus" not in credential
    validate("CarbonLabelCredential", credential)


@pytest.mark.parametrize(
    ("pcf", "stages", "value"),
    [("3833.3", "3833.3", 3833.3), ("3833.0", "3833", 3833), ("120", "120.00", 120)],
)
def test_the_declared_value_is_an_integer_when_whole(pcf: str, stages: str, value: float) -> None:
    """A whole footprint is written as a JSON integer (3833, not 3833.0): the same number
    to JSON-LD and RFC 8785, which canonicalizes it without converting it first."""
    request = _json(LABEL_JSON)
    footprint = request["footprint"]
    footprint["pcfExcludingBiogenicUptake"] = pcf
    footprint["lifeCycleStageEmissions"] = [{"stage": "manufacturing", "emissions": stages}]
    credential = _build(request)
    written = credential["credentialSubject"]["assessment"][0]["declaredValue"][0]
    assert written["metricValue"]["value"] == value
    assert type(written["metricValue"]["value"]) is type(value)
    assert canonicalize_jcs(credential) == rfc8785.dumps(credential)
    validate("CarbonLabelCredential", credential)


def test_default_validity_when_request_has_none() -> None:
    request = _json(LABEL_JSON)
    del request["validUntil"]
    credential = _build(request)
    assert credential["validUntil"] == "2028-10-31T00:00:00Z"


def test_valid_until_is_written_in_utc() -> None:
    request = _json(LABEL_JSON)
    request["validUntil"] = "2028-10-01T07:59:59+08:00"
    assert _build(request)["validUntil"] == "2028-09-30T23:59:59Z"


def test_iso_14067_only_study_references_iso() -> None:
    request = _json(LABEL_JSON)
    request["footprint"]["crossSectoralStandards"] = ["ISO14067", "PACT-3.0"]
    credential = _build(request)
    standard = credential["credentialSubject"]["assessment"][0]["referenceStandard"]
    assert standard["id"] == "urn:iso:std:iso:14067:ed-1"
    assert "ISO 14067:2018" in credential["credentialSubject"]["description"]
    expand(credential)


def test_verifier_without_uscc_has_no_auditor() -> None:
    request = _json(LABEL_JSON)
    del request["certification"]["verifier"]["uscc"]
    credential = _build(request)
    assert "auditor" not in credential["credentialSubject"]["assessment"][0]
    assert label_summary(credential)["certification_body_name"] == LABEL_AUTHORITY.name


def test_invalid_request_is_refused_with_pointers() -> None:
    request = _json(LABEL_JSON)
    request["product"]["gtin"] = "6923517001870"
    del request["documents"]
    with pytest.raises(SchemaValidationError) as caught:
        _build(request, digital_link=f"{RESOLVER}/01/06923517001879")
    pointers = {e.pointer for e in caught.value.errors}
    assert pointers == {"/product/gtin", "/documents"}


def test_valid_until_before_valid_from_is_refused() -> None:
    with pytest.raises(SchemaValidationError) as caught:
        _build(_json(LABEL_JSON), valid_from=datetime(2029, 1, 1, tzinfo=UTC))
    assert [e.pointer for e in caught.value.errors] == ["/validUntil"]


def test_digital_link_must_carry_the_gtin() -> None:
    with pytest.raises(SchemaValidationError) as caught:
        _build(_json(LABEL_JSON), digital_link=f"{RESOLVER}/01/06901234567892")
    assert "/credentialSubject/labelledProduct/digitalLink" in {
        e.pointer for e in caught.value.errors
    }


def test_naive_valid_from_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _build(_json(LABEL_JSON), valid_from=datetime(2025, 11, 1))


def test_valid_from_in_another_zone_is_written_in_utc() -> None:
    china = timezone(timedelta(hours=8))
    credential = _build(_json(LABEL_JSON), valid_from=datetime(2025, 11, 1, 8, tzinfo=china))
    assert credential["validFrom"] == "2025-11-01T00:00:00Z"


def test_the_request_is_not_modified() -> None:
    request = _json(LABEL_JSON)
    before = copy.deepcopy(request)
    credential = _build(request)
    credential["credentialSubject"]["carbonFootprint"]["dqi"]["temporalDQR"] = "4.0"
    assert request == before


@pytest.mark.parametrize(
    ("did", "uscc"),
    [
        ("https://example.org", "12440000MB2C401574"),
        ("did:web", "12440000MB2C401574"),
        ("did:web:example.org", "12440000MB2C401575"),
    ],
)
def test_issuer_profile_is_checked(did: str, uscc: str) -> None:
    with pytest.raises(ValueError):
        IssuerProfile(did=did, name="x", uscc=uscc)


# --- label_summary -------------------------------------------------------------------


def test_label_summary_of_the_example_credential() -> None:
    summary = label_summary(_json(SCHEMA_EXAMPLES / "label-credential.room-ac.json"))
    assert summary == {
        "label_number": "GDCL-2025-AC-000123",
        "credential_id": (f"{REGISTRY}/credentials/label/3f1c9a52-6d0e-4a57-9b7e-2f0c8d1e4a10"),
        "product_name": "房间空调器 分体挂壁式 3.5 kW",
        "model": "KFR-35GW/BP3DN8Y",
        "gtin": "06901234567892",
        "product_category": "room-air-conditioner",
        "granularity": "model",
        "batch_number": None,
        "footprint_value": "5900.5",
        "footprint_metric": "pcfExcludingBiogenicUptake",
        "declared_unit_amount": "1",
        "declared_unit": "piece",
        "boundary": "cradle-to-grave",
        "stages": [
            {"stage": "raw-material-acquisition", "emissions": "412.6"},
            {"stage": "manufacturing", "emissions": "58.3"},
            {"stage": "distribution-and-transport", "emissions": "14.9"},
            {"stage": "use", "emissions": "5391.0"},
            {"stage": "end-of-life", "emissions": "23.7"},
        ],
        "valid_from": "2025-10-01T00:00:00Z",
        "valid_until": "2027-09-30T23:59:59Z",
        "issuer_id": "did:web:registry.gd-carbon-label.example:issuers:gdlc-clc",
        "issuer_name": "广东省碳标签专业委员会 (illustrative issuer)",
        # The example names no auditor: the issuer performed the assessment.
        "certification_body_name": "广东省碳标签专业委员会 (illustrative issuer)",
        "manufacturer_name": "广东某空调制造有限公司 (example manufacturer)",
        "manufacturer_uscc": "91440606MA4WK7R2X8",
        "market_regions": ["CN-GD", "HK", "MO"],
        "distributor_usccs": ["91440101MA5CQ8H31X", "91440300MA5FL2N969"],
    }


def test_label_summary_of_a_built_batch_label() -> None:
    request = next(
        r.request
        for r in ROWS
        if r.request is not None and r.request["product"]["granularity"] == "batch"
    )
    summary = label_summary(_build(request))
    assert summary["batch_number"] == request["product"]["batchNumber"]
    assert summary["certification_body_name"] == request["certification"]["verifier"]["name"]
    assert summary["manufacturer_uscc"] == request["manufacturer"]["uscc"]
    assert summary["distributor_usccs"] == [d["uscc"] for d in request["authorisedDistributors"]]
    assert summary["footprint_value"] == request["footprint"]["pcfExcludingBiogenicUptake"]


@pytest.mark.parametrize(
    ("path", "pointer"),
    [
        (("credentialSubject",), "/credentialSubject"),
        (("credentialSubject", "carbonFootprint"), "/credentialSubject/carbonFootprint"),
        (
            ("credentialSubject", "carbonFootprint", "pcfExcludingBiogenicUptake"),
            "/credentialSubject/carbonFootprint/pcfExcludingBiogenicUptake",
        ),
        (("credentialSubject", "labelNumber"), "/credentialSubject/labelNumber"),
        (
            ("credentialSubject", "labelledProduct", "gtin"),
            "/credentialSubject/labelledProduct/gtin",
        ),
        (("credentialSubject", "marketRegions"), "/credentialSubject/marketRegions"),
        (("issuer", "name"), "/issuer/name"),
        (("validUntil",), "/validUntil"),
    ],
)
def test_label_summary_names_what_is_missing(path: tuple[str, ...], pointer: str) -> None:
    label = _json(SCHEMA_EXAMPLES / "label-credential.room-ac.json")
    node = label
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    with pytest.raises(ValueError, match=re.escape(pointer)):
        label_summary(label)


def test_label_summary_refuses_a_string_issuer() -> None:
    label = _json(SCHEMA_EXAMPLES / "label-credential.room-ac.json")
    label["issuer"] = label["issuer"]["id"]
    with pytest.raises(ValueError, match="/issuer"):
        label_summary(label)


# --- label numbers ---------------------------------------------------------------------


def _label_number_regex() -> re.Pattern[str]:
    common = json.loads((ROOT / "schemas" / "json" / "common.schema.json").read_text("utf-8"))
    pattern: str = common["$defs"]["LabelNumber"]["pattern"]
    return re.compile(pattern)


@pytest.mark.parametrize(
    ("year", "code", "sequence", "expected"),
    [
        (2025, "AC", 123, "GDCL-2025-AC-000123"),
        (2026, "LB", 1, "GDCL-2026-LB-000001"),
        (2030, "PV", 999_999, "GDCL-2030-PV-999999"),
        (2027, "ABCD", 42, "GDCL-2027-ABCD-000042"),
    ],
)
def test_label_number(year: int, code: str, sequence: int, expected: str) -> None:
    number = label_number(year, code, sequence)
    assert number == expected
    assert _label_number_regex().fullmatch(number)


@pytest.mark.parametrize(
    ("year", "code", "sequence"),
    [
        (25, "AC", 1),
        (10_000, "AC", 1),
        (2025, "ac", 1),
        (2025, "A", 1),
        (2025, "ABCDE", 1),
        (2025, "A1", 1),
        (2025, "AC", 0),
        (2025, "AC", -1),
        (2025, "AC", 1_000_000),
        (2025, "AC", True),
        (True, "AC", 1),
    ],
)
def test_label_number_refuses_bad_parts(year: int, code: str, sequence: int) -> None:
    with pytest.raises(ValueError):
        label_number(year, code, sequence)


def test_category_codes() -> None:
    assert CATEGORY_CODES["room-air-conditioner"] == "AC"
    assert CATEGORY_CODES["lithium-battery"] == "LB"
    assert len(set(CATEGORY_CODES.values())) == len(CATEGORY_CODES)
    for category, code in CATEGORY_CODES.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", category)
        assert label_number(2025, code, 1).startswith(f"GDCL-2025-{code}-")
    with pytest.raises(ValueError, match="no label-number code"):
        category_code("spaceship")


# --- the grade credential --------------------------------------------------------------


def _rule() -> dict[str, Any]:
    return _json(SCHEMA_EXAMPLES / "grading-rule.room-ac.json")


def _signed_label(key: Ed25519KeyPair, request: dict[str, Any], **kw: Any) -> dict[str, Any]:
    assert key.id is not None
    return sign(_build(request, **kw), key, verification_method=key.id, created=VALID_FROM)


def _grade(label: dict[str, Any], rule: dict[str, Any], outcome: GradeOutcome) -> dict[str, Any]:
    return build_grade_credential(
        label,
        label_digest=credential_digest(label),
        rule=rule,
        outcome=outcome,
        issuer=GRADING_AUTHORITY,
        credential_id=f"{REGISTRY}/credentials/grade/8b0e2f47-1c3d-4e5f-a6b7-c8d9e0f1a2b3",
        status_entries=[status_list_entry(STATUS_LIST, 20001, "revocation")],
        valid_from=GRADED_AT,
    )


def test_grade_credential_matches_the_schemas_example(key: Ed25519KeyPair) -> None:
    example = _json(SCHEMA_EXAMPLES / "grade-credential.room-ac.json")
    request = _json(SCHEMA_EXAMPLES / "label-request.room-ac.json")
    label = _signed_label(key, request, label_number="GDCL-2025-AC-000123")
    rule = _rule()
    outcome = grade(
        label["credentialSubject"]["carbonFootprint"],
        rule,
        at=GRADED_AT,
        product_category="room-air-conditioner",
    )
    credential = _grade(label, rule, outcome)
    validate("GradeResultCredential", credential)
    expand(credential)
    ours, theirs = credential["credentialSubject"], example["credentialSubject"]
    for name in (
        "type",
        "id",
        "assessorLevel",
        "assessmentLevel",
        "attestationType",
        "issuedToParty",
        "labelNumber",
        "productCategory",
        "grade",
        "ratio",
        "footprintUsed",
        "gradingRule",
        "benchmark",
        "classBoundary",
    ):
        assert ours[name] == theirs[name], name
    assert ours["gradingRule"]["digest"] == rule_digest(rule)
    assert ours["gradedCredential"] == {
        "id": label["id"],
        "digest": credential_digest(label).removeprefix("sha256:"),
    }
    assert credential["validUntil"] == example["validUntil"]  # the label's, before the rule's
    assert credential["issuer"]["id"] == example["issuer"]["id"]


def test_grade_validity_ends_with_the_rule(key: Ed25519KeyPair) -> None:
    request = _json(LABEL_JSON)  # valid until 2028-09-30, the rule until 2027-12-31
    label = _signed_label(key, request)
    rule = _rule()
    outcome = grade(label["credentialSubject"]["carbonFootprint"], rule, at=GRADED_AT)
    assert _grade(label, rule, outcome)["validUntil"] == "2027-12-31T23:59:59Z"


AC_MODEL_ROWS = [
    r
    for r in ROWS
    if r.request is not None
    and r.request["product"]["productCategory"] == "room-air-conditioner"
    and r.request["product"]["granularity"] == "model"
]


def _row_for_grade(wanted: str) -> BatchRow:
    rule = _rule()
    for row in AC_MODEL_ROWS:
        assert row.request is not None
        if grade(row.request["footprint"], rule, at=GRADED_AT).grade == wanted:
            return row
    raise AssertionError(f"no row of examples/labels.csv grades {wanted}")


@pytest.mark.parametrize("wanted", ["1", "2", "3", "4", "5"])
def test_csv_labels_grade_into_every_class(key: Ed25519KeyPair, wanted: str) -> None:
    row = _row_for_grade(wanted)
    assert row.request is not None
    label = _signed_label(key, row.request, sequence=row.line)
    rule = _rule()
    outcome = grade(label["credentialSubject"]["carbonFootprint"], rule, at=GRADED_AT)
    credential = _grade(label, rule, outcome)
    validate("GradeResultCredential", credential)
    expand(credential)
    boundary = credential["credentialSubject"]["classBoundary"]
    assert boundary["grade"] == wanted
    assert ("maxRatio" in boundary) is (wanted != "5")  # grade 5 is the open-ended class


def _example_grading(key: Ed25519KeyPair) -> tuple[dict[str, Any], dict[str, Any], GradeOutcome]:
    label = _signed_label(key, _json(LABEL_JSON))
    rule = _rule()
    return label, rule, grade(label["credentialSubject"]["carbonFootprint"], rule, at=GRADED_AT)


def test_grade_accepts_a_bare_hex_digest(key: Ed25519KeyPair) -> None:
    label, rule, outcome = _example_grading(key)
    hex_digest = credential_digest(label).removeprefix("sha256:")
    credential = build_grade_credential(
        label,
        label_digest=hex_digest,
        rule=rule,
        outcome=outcome,
        issuer=GRADING_AUTHORITY,
        credential_id=f"{REGISTRY}/credentials/grade/1",
        status_entries=[],
        valid_from=GRADED_AT,
    )
    assert credential["credentialSubject"]["gradedCredential"]["digest"] == hex_digest
    assert "credentialStatus" not in credential


@pytest.mark.parametrize("digest", ["sha256:abc", "", "A" * 64, "sha512:" + "0" * 64])
def test_grade_refuses_a_malformed_digest(key: Ed25519KeyPair, digest: str) -> None:
    label, rule, outcome = _example_grading(key)
    with pytest.raises(ValueError, match="label_digest"):
        build_grade_credential(
            label,
            label_digest=digest,
            rule=rule,
            outcome=outcome,
            issuer=GRADING_AUTHORITY,
            credential_id=f"{REGISTRY}/credentials/grade/1",
            status_entries=[],
            valid_from=GRADED_AT,
        )


def test_grade_refuses_an_outcome_for_another_rule(key: Ed25519KeyPair) -> None:
    label, rule, outcome = _example_grading(key)
    newer = {**rule, "version": "1.1.0"}
    with pytest.raises(ValueError, match="outcome is for rule"):
        _grade(label, newer, outcome)


def test_grade_refuses_an_outcome_for_another_footprint(key: Ed25519KeyPair) -> None:
    label, rule, _ = _example_grading(key)
    other = _json(SCHEMA_EXAMPLES / "label-request.room-ac.json")["footprint"]
    outcome = grade(other, rule, at=GRADED_AT)
    with pytest.raises(ValueError, match="the label declares"):
        _grade(label, rule, outcome)
