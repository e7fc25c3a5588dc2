"""Badge binding (verifier.binding): every reason code, and the claims that must pass."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from verifier.binding import BINDING_REASONS, BadgeClaims, check_binding

EXAMPLES = Path(__file__).resolve().parents[1] / "schemas" / "examples"
GTIN = "06901234567892"
HOLDER = "91440606MA4WK7R2X8"
DISTRIBUTOR = "91440300MA5FL2N969"
STRANGER = "91440106MA5CQ8H316"  # a valid USCC named nowhere in the label


def _example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    return loaded


LABEL = _example("label-credential.room-ac")
GRADE = _example("grade-credential.room-ac")  # grades LABEL: grade "3"


def _codes(claims: BadgeClaims, grade: dict[str, Any] | None = GRADE, **kw: Any) -> list[str]:
    return [r.code for r in check_binding(LABEL, claims, grade, **kw)]


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param(BadgeClaims(), id="nothing-claimed"),
        pytest.param(
            BadgeClaims(
                gtin=GTIN,
                seller=HOLDER,
                grade="3",
                footprint_value=Decimal("5900.5"),
                footprint_unit="piece",
                boundary="cradle-to-grave",
            ),
            id="everything-matches",
        ),
        pytest.param(BadgeClaims(gtin="6901234567892"), id="gtin-13-form"),
        pytest.param(BadgeClaims(seller=DISTRIBUTOR), id="authorised-distributor"),
        pytest.param(BadgeClaims(seller=HOLDER.lower()), id="seller-lowercase"),
        pytest.param(BadgeClaims(grade="4"), id="worse-grade-claimed"),
        pytest.param(BadgeClaims(footprint_value=Decimal("5901")), id="value-rounded-half-up"),
        pytest.param(BadgeClaims(footprint_value=Decimal("6000")), id="value-overstated"),
        pytest.param(BadgeClaims(footprint_value=Decimal("5.9E+3")), id="value-in-hundreds"),
        pytest.param(BadgeClaims(footprint_unit="PIECE"), id="unit-case-insensitive"),
    ],
)
def test_backed_claims_pass(claims: BadgeClaims) -> None:
    assert check_binding(LABEL, claims, GRADE) == []


@pytest.mark.parametrize(
    ("claims", "grade", "code"),
    [
        pytest.param(
            BadgeClaims(gtin="06901234567885"), GRADE, "GTIN_NOT_COVERED", id="other-gtin"
        ),
        pytest.param(BadgeClaims(gtin="06901234567893"), GRADE, "GTIN_NOT_COVERED", id="bad-check"),
        pytest.param(BadgeClaims(seller=STRANGER), GRADE, "SELLER_NOT_AUTHORISED", id="stranger"),
        pytest.param(BadgeClaims(grade="2"), GRADE, "GRADE_INFLATED", id="better-grade"),
        pytest.param(BadgeClaims(grade="3"), None, "GRADE_INFLATED", id="grade-without-credential"),
        pytest.param(BadgeClaims(grade="A"), GRADE, "GRADE_INFLATED", id="unrankable-grade"),
        pytest.param(
            BadgeClaims(footprint_value=Decimal("5900")),
            GRADE,
            "VALUE_MISSTATED",
            id="rounded-down",
        ),
        pytest.param(
            BadgeClaims(footprint_value=Decimal("5E+3")), GRADE, "VALUE_MISSTATED", id="thousands"
        ),
        pytest.param(
            BadgeClaims(footprint_value=Decimal("590.05")), GRADE, "VALUE_MISSTATED", id="tenth"
        ),
        pytest.param(BadgeClaims(footprint_unit="kilogram"), GRADE, "UNIT_MISMATCH", id="unit"),
        pytest.param(BadgeClaims(boundary="cradle-to-gate"), GRADE, "BOUNDARY_MISMATCH", id="gate"),
    ],
)
def test_each_reason(claims: BadgeClaims, grade: dict[str, Any] | None, code: str) -> None:
    assert _codes(claims, grade) == [code]
    assert code in BINDING_REASONS


def test_grade_credential_for_another_label_does_not_back_a_grade() -> None:
    other = copy.deepcopy(GRADE)
    other["credentialSubject"]["gradedCredential"]["id"] = "https://example.org/labels/other"
    assert _codes(BadgeClaims(grade="3"), other) == ["GRADE_INFLATED"]


def test_grade_order_from_the_rule_is_used_when_given() -> None:
    lettered = copy.deepcopy(GRADE)
    lettered["credentialSubject"]["grade"] = "B"
    order = ["A", "B", "C"]
    assert _codes(BadgeClaims(grade="C"), lettered, grade_order=order) == []
    assert _codes(BadgeClaims(grade="A"), lettered, grade_order=order) == ["GRADE_INFLATED"]


def test_value_is_not_compared_across_units() -> None:
    claims = BadgeClaims(footprint_value=Decimal("1"), footprint_unit="kilogram")
    assert _codes(claims) == ["UNIT_MISMATCH"]


def test_every_mismatch_is_reported_in_order() -> None:
    claims = BadgeClaims(
        gtin="06901234567885",
        seller=STRANGER,
        grade="1",
        footprint_value=Decimal("100"),
        boundary="cradle-to-gate",
    )
    assert _codes(claims) == [
        "GTIN_NOT_COVERED",
        "SELLER_NOT_AUTHORISED",
        "GRADE_INFLATED",
        "VALUE_MISSTATED",
        "BOUNDARY_MISMATCH",
    ]


def test_label_without_a_footprint_backs_no_value() -> None:
    bare = copy.deepcopy(LABEL)
    del bare["credentialSubject"]["carbonFootprint"]
    reasons = check_binding(bare, BadgeClaims(footprint_value=Decimal("1")), None)
    assert [r.code for r in reasons] == ["VALUE_MISSTATED"]
