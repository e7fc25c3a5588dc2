"""JSON Schemas, examples, error reporting and identifier checks of ``schemas``."""

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from schemas import (
    KINDS,
    FieldError,
    InvalidGTIN,
    InvalidUSCC,
    SchemaValidationError,
    UnknownSchemaKind,
    check_gtin,
    check_uscc,
    schema_document,
    untp_dcc_schema_document,
    validate,
    validate_untp_dcc,
)
from schemas.vocabulary import SCHEMA_BASE_URL

EXAMPLES = Path(__file__).resolve().parents[1] / "schemas" / "examples"
UNTP = Path(__file__).resolve().parent / "vectors" / "untp"  # see SOURCE.md there
EXAMPLE_KINDS = {
    "label-request.room-ac": "LabelRequest",
    "label-credential.room-ac": "CarbonLabelCredential",
    "grading-rule.room-ac": "GradingRule",
    "grade-credential.room-ac": "GradeResultCredential",
    "recognition-credential.hk": "RecognitionCredential",
    "recognition-credential.mo-scheme": "RecognitionCredential",
}
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    return loaded


def errors_of(kind: str, document: dict[str, Any]) -> list[FieldError]:
    with pytest.raises(SchemaValidationError) as caught:
        validate(kind, document)
    assert caught.value.kind == kind
    return caught.value.errors


# --- schemas and examples ---------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_valid_2020_12_with_id(kind: str) -> None:
    schema = schema_document(kind)
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"{SCHEMA_BASE_URL}{kind}.schema.json"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("name", sorted(EXAMPLE_KINDS))
def test_example_validates(name: str) -> None:
    validate(EXAMPLE_KINDS[name], example(name))


@pytest.mark.parametrize("name", ["label-credential.room-ac", "grade-credential.room-ac"])
def test_dcc_examples_validate_against_untp(name: str) -> None:
    validate_untp_dcc(example(name))


def test_bundled_untp_schema_is_the_reference_copy() -> None:
    reference = json.loads((UNTP / "untp-dcc-schema.json").read_text("utf-8"))
    assert untp_dcc_schema_document() == reference
    validate_untp_dcc(json.loads((UNTP / "untp-dcc-instance.json").read_text()))


def test_untp_errors_are_reported() -> None:
    document = example("label-credential.room-ac")
    document["credentialSubject"]["assessorLevel"] = "Neighbour"
    with pytest.raises(SchemaValidationError) as caught:
        validate_untp_dcc(document)
    assert (
        FieldError(
            "/credentialSubject/assessorLevel",
            "must be one of Self, Commercial, Buyer, Membership, Unspecified, 3rdParty",
        )
        in caught.value.errors
    )


def test_unknown_kind() -> None:
    with pytest.raises(UnknownSchemaKind):
        validate("LabelCredential", {})


# --- mutations: pointers and reasons ----------------------------------------------

Mutation = Callable[[dict[str, Any]], None]
SUBJECT = "/credentialSubject"
FOOTPRINT = "/credentialSubject/carbonFootprint"


def _set(path: list[str | int], value: Any) -> Mutation:
    def apply(document: dict[str, Any]) -> None:
        node: Any = document
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return apply


def _delete(path: list[str | int]) -> Mutation:
    def apply(document: dict[str, Any]) -> None:
        node: Any = document
        for step in path[:-1]:
            node = node[step]
        del node[path[-1]]

    return apply


CS = "credentialSubject"
FP = [CS, "carbonFootprint"]
DECIMAL_REASON = 'must be a decimal number written as a string, e.g. "12.5"'
MUTATIONS: dict[str, tuple[str, str, Mutation, set[FieldError]]] = {
    "boundary-not-in-enum": (
        "CarbonLabelCredential",
        "label-credential.room-ac",
        _set([*FP, "boundary"], "gate-to-gate"),
        {FieldError(f"{FOOTPRINT}/boundary", "must be one of cradle-to-gate, cradle-to-grave")},
    ),
    "label-number-missing": (
        "CarbonLabelCredential",
        "label-credential.room-ac",
        _delete([CS, "labelNumber"]),
        {FieldError(f"{SUBJECT}/labelNumber", "is required")},
    ),
    "label-number-format": (
        "CarbonLabelCredential",
        "label-credential.room-ac",
        _set([CS, "labelNumber"], "GDCL-25-AC-123"),
        {FieldError(f"{SUBJECT}/labelNumber", "must be a label number like GDCL-2025-AC-000123")},
    ),
    "gtin-check-digit": (
        "CarbonLabelCredential",
        "label-credential.room-ac",
        _set([CS, "labelledProduct", "gtin"], "06901234567893"),
        {
            FieldError(
                f"{SUBJECT}/labelledProduct/gtin",
                "must be a valid GTIN check digit (expected 2, found 3)",
            ),
            FieldError(
                f"{SUBJECT}/labelledProduct/digitalLink",
                "must carry the labelled GTIN 06901234567893 after /01/",
            ),
            FieldError(
                f"{SUBJECT}/assessment/0/assessedProduct/0/product/registeredId",
                "must equal the labelled GTIN 06901234567893",
            ),
        },
    ),
    "manufacturer-uscc-check": (
        "CarbonLabelCredential",
        "label-credential.room-ac",
        _set([CS, "issuedToParty", "registeredId"], "91440606MA4WK7R2X9"),
        {
            FieldError(
                f"{SUBJECT}/issuedToParty/registeredId",
                "must be a valid USCC check character (expected 8, found 9)",
            )
        },
    ),
    "distributor-uscc-letter": (
        "CarbonLabelCredential",
        "label-credential.room-ac",
        _set([CS, "authorisedDistributors", 1, "registeredId"], "91440300MA5FL2NI69"),
        {
            FieldError(
                f"{SUBJECT}/authorisedDistributors/1/registeredId",
                "must be an 18-character Unified Social Credit Code (GB 32100-2015), "
                "e.g. 91440400192548256N",
            )
        },
    ),
    "decimal-trailing-newline": (
        "CarbonLabelCredential",
        "label-credential.room-ac",
        _set([*FP, "pcfExcludingBiogenicUptake"], "5900.5\n"),
        {FieldError(f"{FOOTPRINT}/pcfExcludingBiogenicUptake", DECIMAL_REASON)},
    ),
    "decimal-exponent": (
        "CarbonLabelCredential",
        "label-credential.room-ac",
        _set([*FP, "pcfIncludingBiogenicUptake"], "5.9e3"),
        {FieldError(f"{FOOTPRINT}/pcfIncludingBiogenicUptake", DECIMAL_REASON)},
    ),
    "decimal-as-number": (
        "CarbonLabelCredential",
        "label-credential.room-ac",
        _set([*FP, "fossilGhgEmissions"], 5884.1),
        {FieldError(f"{FOOTPRINT}/fossilGhgEmissions", "must be a string")},
    ),
    "dqr-out-of-range": (
        "CarbonLabelCredential",
        "label-credential.room-ac",
        _set([*FP, "dqi", "temporalDQR"], "5.5"),
        {
            FieldError(
                f"{FOOTPRINT}/dqi/temporalDQR",
                'must be a data quality rating between 1 and 5 written as a string, e.g. "1.6"',
            )
        },
    ),
    "undefined-property": (
        "CarbonLabelCredential",
        "label-credential.room-ac",
        _set([CS, "labelledProduct", "colour/finish"], "white"),
        {
            FieldError(
                f"{SUBJECT}/labelledProduct/colour~1finish", "is not an allowed property here"
            )
        },
    ),
    "gate-boundary-with-use-stage": (
        "CarbonLabelCredential",
        "label-credential.room-ac",
        _set([*FP, "boundary"], "cradle-to-gate"),
        {
            FieldError(
                f"{FOOTPRINT}/lifeCycleStageEmissions/3/stage",
                "use is outside a cradle-to-gate boundary",
            ),
            FieldError(
                f"{FOOTPRINT}/lifeCycleStageEmissions/4/stage",
                "end-of-life is outside a cradle-to-gate boundary",
            ),
        },
    ),
    "stages-do-not-add-up": (
        "CarbonLabelCredential",
        "label-credential.room-ac",
        _set([*FP, "lifeCycleStageEmissions", 3, "emissions"], "4391.0"),
        {
            FieldError(
                f"{FOOTPRINT}/lifeCycleStageEmissions",
                "stage emissions must add up to pcfExcludingBiogenicUptake (5900.5) within 1 %; "
                "they add up to 4900.5",
            )
        },
    ),
    "reference-period-reversed": (
        "CarbonLabelCredential",
        "label-credential.room-ac",
        _set([*FP, "referencePeriodEnd"], "2023-12-31T00:00:00Z"),
        {FieldError(f"{FOOTPRINT}/referencePeriodEnd", "must be later than referencePeriodStart")},
    ),
    "bad-date-time": (
        "CarbonLabelCredential",
        "label-credential.room-ac",
        _set(["validUntil"], "2027-02-30T00:00:00Z"),
        {
            FieldError(
                "/validUntil",
                "must be an RFC 3339 date-time with a time zone, e.g. 2025-10-01T00:00:00Z",
            )
        },
    ),
    "issued-to-party-missing-reported-once": (
        "CarbonLabelCredential",
        "label-credential.room-ac",
        _delete([CS, "issuedToParty"]),
        {FieldError(f"{SUBJECT}/issuedToParty", "is required")},
    ),
    "type-missing-label-type": (
        "CarbonLabelCredential",
        "label-credential.room-ac",
        _set(["type"], ["VerifiableCredential", "DigitalConformityCredential"]),
        {FieldError("/type", 'must contain "CarbonLabelCredential"')},
    ),
    "request-gtin-12-digits-check": (
        "LabelRequest",
        "label-request.room-ac",
        _set(["product", "gtin"], "690123456789"),
        {FieldError("/product/gtin", "must be a valid GTIN check digit (expected 7, found 9)")},
    ),
    "request-gtin-not-digits": (
        "LabelRequest",
        "label-request.room-ac",
        _set(["product", "gtin"], "69012345678X"),
        {FieldError("/product/gtin", "must be a GTIN of 8, 12, 13 or 14 digits")},
    ),
    "request-batch-without-number": (
        "LabelRequest",
        "label-request.room-ac",
        _set(["product", "granularity"], "batch"),
        {FieldError("/product/batchNumber", "is required")},
    ),
    "request-item-without-serials": (
        "LabelRequest",
        "label-request.room-ac",
        _set(["product", "granularity"], "item"),
        {FieldError("/product/serialRange", "is required")},
    ),
    "request-study-digest": (
        "LabelRequest",
        "label-request.room-ac",
        _set(["documents", "studyReportSha256"], "ABC"),
        {
            FieldError(
                "/documents/studyReportSha256",
                "must be a SHA-256 digest: 64 lowercase hexadecimal characters",
            )
        },
    ),
    "request-no-standard": (
        "LabelRequest",
        "label-request.room-ac",
        _set(["footprint", "crossSectoralStandards"], ["PAS2050"]),
        {
            FieldError(
                "/footprint/crossSectoralStandards", "must contain GB/T24067-2024 or ISO14067"
            )
        },
    ),
    "rule-thresholds-not-increasing": (
        "GradingRule",
        "grading-rule.room-ac",
        _set(["classBoundaries", 2, "maxRatio"], "0.85"),
        {
            FieldError(
                "/classBoundaries/2/maxRatio",
                "must be greater than the previous class's maxRatio (0.90)",
            )
        },
    ),
    "rule-open-class-in-middle": (
        "GradingRule",
        "grading-rule.room-ac",
        _delete(["classBoundaries", 1, "maxRatio"]),
        {
            FieldError(
                "/classBoundaries/1/maxRatio",
                "is required on every class but the last (the open-ended one)",
            )
        },
    ),
    "rule-zero-benchmark": (
        "GradingRule",
        "grading-rule.room-ac",
        _set(["benchmark", "value"], "0.0"),
        {
            FieldError(
                "/benchmark/value",
                'must be a positive decimal number written as a string, e.g. "12.5"',
            )
        },
    ),
    "grade-digest": (
        "GradeResultCredential",
        "grade-credential.room-ac",
        _set([CS, "gradingRule", "digest"], "sha256:00"),
        {
            FieldError(
                f"{SUBJECT}/gradingRule/digest",
                "must be a SHA-256 digest: 64 lowercase hexadecimal characters",
            )
        },
    ),
    "recognition-jurisdiction": (
        "RecognitionCredential",
        "recognition-credential.hk",
        _set([CS, "jurisdiction"], "TW"),
        {FieldError(f"{SUBJECT}/jurisdiction", "must be one of HK, MO")},
    ),
    "recognition-both-targets": (
        "RecognitionCredential",
        "recognition-credential.hk",
        _set([CS, "recognisedScheme"], {"id": "https://example.org/s", "version": "1.0.0"}),
        {FieldError(SUBJECT, "must name exactly one of recognisedCredential, recognisedScheme")},
    ),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutation_reports_pointer_and_reason(name: str) -> None:
    kind, base, mutate, expected = MUTATIONS[name]
    document = example(base)
    mutate(document)
    errors = errors_of(kind, document)
    assert expected <= set(errors), errors
    assert len(errors) == len(set(errors))


def test_context_order() -> None:
    document = example("label-credential.room-ac")
    document["@context"][1:] = reversed(document["@context"][1:])
    reasons = {
        e.reason for e in errors_of("CarbonLabelCredential", document) if e.pointer == "/@context/1"
    }
    assert reasons == {'must be "https://test.uncefact.org/vocabulary/untp/dcc/working/"'}


def test_many_errors_reported_at_once() -> None:
    document = example("label-credential.room-ac")
    names = ["boundary-not-in-enum", "label-number-missing", "manufacturer-uscc-check"]
    names += ["decimal-trailing-newline", "undefined-property", "dqr-out-of-range"]
    expected: set[FieldError] = set()
    for name in names:
        _, _, mutate, errors = MUTATIONS[name]
        mutate(document)
        expected |= errors
    assert set(errors_of("CarbonLabelCredential", document)) == expected


def test_errors_are_sorted_and_message_summarises() -> None:
    document = example("label-request.room-ac")
    document["manufacturer"] = {}
    document["marketRegions"] = []
    with pytest.raises(SchemaValidationError) as caught:
        validate("LabelRequest", document)
    errors = caught.value.errors
    assert errors == sorted(errors, key=lambda e: (e.pointer, e.reason))
    assert FieldError("/marketRegions", "must not be empty") in errors
    assert FieldError("/manufacturer/uscc", "is required") in errors
    assert "LabelRequest: 3 error(s)" in str(caught.value)


def test_validate_does_not_modify_document() -> None:
    document = example("label-credential.room-ac")
    before = copy.deepcopy(document)
    validate("CarbonLabelCredential", document)
    assert document == before


# --- identifiers -------------------------------------------------------------------

# Published codes of well-known companies (GB 32100-2015 format).
GOOD_USCC = [
    "91440400192548256N",  # 珠海格力电器股份有限公司
    "91440606722473344C",  # 美的集团股份有限公司
    "9144030071526726XG",  # 深圳市腾讯计算机系统有限公司
    "914403001922038216",  # 华为技术有限公司
    "91330100716105852F",  # 阿里巴巴(中国)有限公司
]
BAD_USCC = {
    "too-short": ("9144040019254825", "must be 18 characters (GB 32100-2015)"),
    "lowercase": (
        "91440400192548256n",
        "must use only digits and the capital letters ABCDEFGHJKLMNPQRTUWXY (found 'n')",
    ),
    "letter-O": (
        "9144O400192548256N",
        "must use only digits and the capital letters ABCDEFGHJKLMNPQRTUWXY (found 'O')",
    ),
    "division-not-digits": (
        "9144A400192548256N",
        "characters 3 to 8 must be the 6-digit administrative division code",
    ),
    "check-character": (
        "91440400192548256M",
        "must be a valid USCC check character (expected N, found M)",
    ),
    "swapped": (
        "91440400195248256N",
        "must be a valid USCC check character (expected H, found N)",
    ),
}


@pytest.mark.parametrize("code", GOOD_USCC)
def test_uscc_good(code: str) -> None:
    check_uscc(code)


@pytest.mark.parametrize("name", sorted(BAD_USCC))
def test_uscc_bad(name: str) -> None:
    code, reason = BAD_USCC[name]
    with pytest.raises(InvalidUSCC) as caught:
        check_uscc(code)
    assert caught.value.reason == reason
    assert isinstance(caught.value, ValueError)


def _uscc_check(body: str) -> str:
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


@given(
    st.text(USCC_CHARSET, min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(USCC_CHARSET, min_size=9, max_size=9),
    st.sampled_from(USCC_CHARSET),
)
def test_uscc_property(head: str, division: str, org: str, other: str) -> None:
    body = head + division + org
    check_uscc(body + _uscc_check(body))
    if other != _uscc_check(body):
        with pytest.raises(InvalidUSCC):
            check_uscc(body + other)


GOOD_GTIN = {
    "4006381333931": "04006381333931",  # EAN-13
    "036000291452": "00036000291452",  # UPC-A
    "96385074": "00000096385074",  # EAN-8
    "00012345600012": "00012345600012",  # GTIN-14
    "6901234567892": "06901234567892",
}
BAD_GTIN = {
    "check-digit": ("4006381333932", "must be a valid GTIN check digit (expected 1, found 2)"),
    "length-10": ("4006381333", "must be 8, 12, 13 or 14 digits"),
    "letters": ("40063813339X", "must contain only the digits 0-9"),
    "fullwidth-digits": ("４００６３８１３３３９３１", "must contain only the digits 0-9"),
    "empty": ("", "must contain only the digits 0-9"),
}


@pytest.mark.parametrize("gtin", sorted(GOOD_GTIN))
def test_gtin_good(gtin: str) -> None:
    assert check_gtin(gtin) == GOOD_GTIN[gtin]


@pytest.mark.parametrize("name", sorted(BAD_GTIN))
def test_gtin_bad(name: str) -> None:
    gtin, reason = BAD_GTIN[name]
    with pytest.raises(InvalidGTIN) as caught:
        check_gtin(gtin)
    assert caught.value.reason == reason


@given(
    st.sampled_from([7, 11, 12, 13]).flatmap(
        lambda n: st.text("0123456789", min_size=n, max_size=n)
    )
)
def test_gtin_property(body: str) -> None:
    weighted = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    digit = (10 - weighted % 10) % 10
    assert check_gtin(f"{body}{digit}") == f"{body}{digit}".zfill(14)
    with pytest.raises(InvalidGTIN):
        check_gtin(f"{body}{(digit + 1) % 10}")
