"""Grading a footprint against a GradingRule: thresholds, refusals, monotonicity."""

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas import ClassBoundary, Footprint, NotGradable, grade, rule_digest

EXAMPLES = Path(__file__).resolve().parents[1] / "schemas" / "examples"
AT = datetime(2026, 3, 1, tzinfo=UTC)


def load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    return loaded


RULE = load("grading-rule.room-ac")
FOOTPRINT = load("label-request.room-ac")["footprint"]


def footprint_with(**changes: Any) -> dict[str, Any]:
    block: dict[str, Any] = json.loads(json.dumps(FOOTPRINT))
    block.update(changes)
    return block


def refusal(footprint: Any, rule: dict[str, Any] | None = None, **kwargs: Any) -> NotGradable:
    with pytest.raises(NotGradable) as caught:
        grade(footprint, rule if rule is not None else RULE, at=kwargs.pop("at", AT), **kwargs)
    assert caught.value.detail
    return caught.value


def test_example_grade_matches_grade_credential() -> None:
    outcome = grade(FOOTPRINT, RULE, at=AT, product_category="room-air-conditioner")
    subject = load("grade-credential.room-ac")["credentialSubject"]
    assert outcome.grade == subject["grade"] == "3"
    assert outcome.ratio == Decimal(subject["ratio"]) == Decimal("0.9220")
    assert outcome.class_boundary == ClassBoundary("3", Decimal("1.00"))
    assert outcome.footprint_value == Decimal("5900.5")
    assert outcome.benchmark_value == Decimal("6400.0")
    assert (outcome.rule_id, outcome.rule_version) == (RULE["id"], "1.0.0")
    assert subject["gradingRule"]["digest"] == rule_digest(RULE)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5120.0", "1"),  # exactly 0.80 x 6400
        ("5120.0001", "2"),
        ("5760", "2"),  # exactly 0.90
        ("5760.00000000000000000000000001", "3"),
        ("6400.000", "3"),  # exactly 1.00
        ("7040", "4"),  # exactly 1.10
        ("7040.01", "5"),
        ("0.001", "1"),
        ("99999999", "5"),
    ],
)
def test_class_boundaries_are_inclusive_upper_bounds(value: str, expected: str) -> None:
    outcome = grade(footprint_with(pcfExcludingBiogenicUptake=value), RULE, at=AT)
    assert outcome.grade == expected


def test_ratio_is_rounded_half_up() -> None:
    outcome = grade(footprint_with(pcfExcludingBiogenicUptake="5120.32"), RULE, at=AT)
    assert outcome.ratio == Decimal("0.8001")  # 0.800050
    assert outcome.grade == "2"


def test_dataclass_footprint() -> None:
    fp = Footprint(
        declared_unit_of_measurement="piece",
        declared_unit_amount=Decimal("1"),
        boundary="cradle-to-grave",
        pcf_excluding_biogenic_uptake=Decimal("4000"),
        primary_data_share=Decimal("50"),
        technological_dqr=Decimal("1"),
        geographical_dqr=Decimal("2"),
        temporal_dqr=Decimal("3.0"),
    )
    assert grade(fp, RULE, at=AT).grade == "1"


@pytest.mark.parametrize(
    ("name", "changes", "reason"),
    [
        ("unit-of-measurement", {"declaredUnitOfMeasurement": "kilogram"}, "unit-mismatch"),
        ("unit-amount", {"declaredUnitAmount": "2"}, "unit-mismatch"),
        ("boundary", {"boundary": "cradle-to-gate"}, "boundary-mismatch"),
        (
            "dqr-worse",
            {"dqi": {"technologicalDQR": "1.0", "geographicalDQR": "1.0", "temporalDQR": "3.1"}},
            "data-quality-below-minimum",
        ),
        ("dqi-missing", {"dqi": None}, "data-quality-below-minimum"),
        ("primary-share-low", {"primaryDataShare": "19.9"}, "data-quality-below-minimum"),
        ("zero-footprint", {"pcfExcludingBiogenicUptake": "0"}, "invalid-footprint"),
        ("negative-footprint", {"pcfExcludingBiogenicUptake": "-1.5"}, "invalid-footprint"),
        ("not-a-decimal", {"pcfExcludingBiogenicUptake": "1e3"}, "invalid-footprint"),
    ],
)
def test_refusals(name: str, changes: dict[str, Any], reason: str) -> None:
    assert refusal(footprint_with(**changes)).reason == reason


def test_data_quality_at_the_minimum_is_enough() -> None:
    dqi = {"technologicalDQR": "3.0", "geographicalDQR": "3", "temporalDQR": "3.00"}
    assert grade(footprint_with(dqi=dqi, primaryDataShare="20.0"), RULE, at=AT).grade == "3"


def test_unit_amount_compares_as_number() -> None:
    assert grade(footprint_with(declaredUnitAmount="1.000"), RULE, at=AT).grade == "3"


def test_category_mismatch() -> None:
    assert refusal(FOOTPRINT, product_category="lithium-ion-battery").reason == "category-mismatch"


@pytest.mark.parametrize(
    "at",
    [
        datetime(2025, 9, 30, 23, 59, 59, tzinfo=UTC),
        datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC),  # validUntil is exclusive
        datetime(2028, 1, 1, 7, 59, 59, tzinfo=timezone(timedelta(hours=8))),
    ],
)
def test_rule_not_valid_at_time(at: datetime) -> None:
    assert refusal(FOOTPRINT, at=at).reason == "rule-not-valid-at-time"


def test_rule_valid_from_is_inclusive() -> None:
    assert grade(FOOTPRINT, RULE, at=datetime(2025, 10, 1, tzinfo=UTC)).grade == "3"


def test_naive_time_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        grade(FOOTPRINT, RULE, at=datetime(2026, 1, 1))


def test_bounded_last_class() -> None:
    rule = {**RULE, "classBoundaries": RULE["classBoundaries"][:-1]}
    assert grade(footprint_with(pcfExcludingBiogenicUptake="7040"), rule, at=AT).grade == "4"
    too_high = footprint_with(pcfExcludingBiogenicUptake="7040.1")
    assert refusal(too_high, rule).reason == "ratio-above-all-classes"


@pytest.mark.parametrize(
    "classes",
    [
        [{"grade": "A", "maxRatio": "0.9"}, {"grade": "B", "maxRatio": "0.9"}],
        [{"grade": "A"}, {"grade": "B", "maxRatio": "0.9"}],
        [{"grade": "A", "maxRatio": "0.9"}, {"grade": "A"}],
        [{"grade": "A", "maxRatio": "0"}, {"grade": "B"}],
        [],
    ],
)
def test_invalid_rule(classes: list[dict[str, str]]) -> None:
    assert refusal(FOOTPRINT, {**RULE, "classBoundaries": classes}).reason == "invalid-rule"


def test_including_biogenic_metric() -> None:
    rule = {**RULE, "footprintMetric": "pcfIncludingBiogenicUptake"}
    outcome = grade(footprint_with(pcfIncludingBiogenicUptake="5000"), rule, at=AT)
    assert (outcome.footprint_metric, outcome.footprint_value) == (
        "pcfIncludingBiogenicUptake",
        Decimal("5000"),
    )
    assert outcome.grade == "1"


def test_rule_digest_is_sha256_of_jcs() -> None:
    rule = {"version": "1.0.0", "id": "https://example.org/r", "benchmark": {"value": "1.5"}}
    canonical = b'{"benchmark":{"value":"1.5"},"id":"https://example.org/r","version":"1.0.0"}'
    assert rule_digest(rule) == hashlib.sha256(canonical).hexdigest()
    assert rule_digest(dict(reversed(list(rule.items())))) == rule_digest(rule)
    assert rule_digest({**rule, "version": "1.0.1"}) != rule_digest(rule)


def test_rule_digest_of_example_is_pinned() -> None:
    assert len(rule_digest(RULE)) == 64
    assert rule_digest(RULE) == rule_digest(load("grading-rule.room-ac"))


# --- properties ---------------------------------------------------------------------

GRADE_ORDER = [c["grade"] for c in RULE["classBoundaries"]]
footprints = st.decimals(
    min_value=Decimal("0.001"), max_value=Decimal("100000"), places=3, allow_nan=False
)


@given(footprints, footprints)
def test_lower_footprint_never_gets_a_worse_grade(a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    graded_low = grade(footprint_with(pcfExcludingBiogenicUptake=str(low)), RULE, at=AT)
    graded_high = grade(footprint_with(pcfExcludingBiogenicUptake=str(high)), RULE, at=AT)
    assert GRADE_ORDER.index(graded_low.grade) <= GRADE_ORDER.index(graded_high.grade)
    assert graded_low.ratio <= graded_high.ratio


@given(footprints)
def test_grade_agrees_with_exact_fractions(value: Decimal) -> None:
    ratio = Fraction(value) / Fraction(RULE["benchmark"]["value"])
    expected = next(
        c["grade"]
        for c in RULE["classBoundaries"]
        if "maxRatio" not in c or ratio <= Fraction(c["maxRatio"])
    )
    assert (
        grade(footprint_with(pcfExcludingBiogenicUptake=str(value)), RULE, at=AT).grade == expected
    )
