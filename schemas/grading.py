"""Grade a product carbon footprint against a category grading rule (分级管理).

A ``GradingRule`` (``schemas/json/GradingRule.schema.json``) fixes, for one product
category, the declared unit, the life-cycle boundary, the footprint metric, a
benchmark value and ordered class boundaries: ``ratio = footprint / benchmark``
falls in the first class whose ``maxRatio`` it does not exceed (upper bounds are
inclusive; the last class may be open-ended). Everything is ``Decimal``: the class
is decided exactly (``footprint <= maxRatio × benchmark``), and the reported ratio is
rounded half-up to :data:`RATIO_PLACES` decimal places.
"""

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any, Final

import rfc8785

from schemas.errors import NotGradable

__all__ = [
    "RATIO_PLACES",
    "ClassBoundary",
    "Footprint",
    "GradeOutcome",
    "grade",
    "rule_digest",
]

RATIO_PLACES: Final = 4
_QUANTUM: Final = Decimal(1).scaleb(-RATIO_PLACES)
_DECIMAL: Final = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DQR_FIELDS: Final = ("technologicalDQR", "geographicalDQR", "temporalDQR")


@dataclass(frozen=True, slots=True)
class Footprint:
    """The footprint figures grading needs, in PACT v3 terms (kgCO2e per declared unit)."""

    declared_unit_of_measurement: str
    declared_unit_amount: Decimal
    boundary: str
    pcf_excluding_biogenic_uptake: Decimal
    pcf_including_biogenic_uptake: Decimal | None = None
    primary_data_share: Decimal | None = None
    technological_dqr: Decimal | None = None
    geographical_dqr: Decimal | None = None
    temporal_dqr: Decimal | None = None

    @classmethod
    def from_block(cls, block: Mapping[str, Any]) -> "Footprint":
        """Read a ``carbonFootprint`` / LabelRequest ``footprint`` block.

        Raises :class:`NotGradable` (``invalid-footprint``) if a needed field is
        missing or not a decimal string.
        """
        dqi = block.get("dqi")
        dqi = dqi if isinstance(dqi, Mapping) else {}
        unit = block.get("declaredUnitOfMeasurement")
        boundary = block.get("boundary")
        if not isinstance(unit, str) or not isinstance(boundary, str):
            raise NotGradable(
                "invalid-footprint", "the footprint has no declared unit of measurement or boundary"
            )
        return cls(
            declared_unit_of_measurement=unit,
            declared_unit_amount=_required_decimal(
                block, "declaredUnitAmount", "invalid-footprint"
            ),
            boundary=boundary,
            pcf_excluding_biogenic_uptake=_required_decimal(
                block, "pcfExcludingBiogenicUptake", "invalid-footprint"
            ),
            pcf_including_biogenic_uptake=_optional_decimal(block, "pcfIncludingBiogenicUptake"),
            primary_data_share=_optional_decimal(block, "primaryDataShare"),
            technological_dqr=_optional_decimal(dqi, "technologicalDQR"),
            geographical_dqr=_optional_decimal(dqi, "geographicalDQR"),
            temporal_dqr=_optional_decimal(dqi, "temporalDQR"),
        )

    def metric(self, name: str) -> Decimal | None:
        """The value of a PACT footprint metric named as in ``GradingRule.footprintMetric``."""
        if name == "pcfExcludingBiogenicUptake":
            return self.pcf_excluding_biogenic_uptake
        if name == "pcfIncludingBiogenicUptake":
            return self.pcf_including_biogenic_uptake
        return None


@dataclass(frozen=True, slots=True)
class ClassBoundary:
    """One class of a rule: ratios up to ``max_ratio`` (inclusive; ``None`` = open-ended)."""

    grade: str
    max_ratio: Decimal | None


@dataclass(frozen=True, slots=True)
class GradeOutcome:
    """The result of :func:`grade`."""

    grade: str
    ratio: Decimal
    class_boundary: ClassBoundary
    footprint_metric: str
    footprint_value: Decimal
    benchmark_value: Decimal
    rule_id: str
    rule_version: str


def rule_digest(rule: Mapping[str, Any]) -> str:
    """SHA-256 (lowercase hex) of the RFC 8785 (JCS) canonical JSON of a grading rule."""
    canonical: bytes = rfc8785.dumps(dict(rule))
    return hashlib.sha256(canonical).hexdigest()


def grade(
    footprint: Footprint | Mapping[str, Any],
    rule: Mapping[str, Any],
    *,
    at: datetime,
    product_category: str | None = None,
) -> GradeOutcome:
    """Grade ``footprint`` under ``rule`` at time ``at`` (timezone-aware).

    Precondition: ``rule`` is a GradingRule document (ideally schema-validated).
    Checks, in order: the rule is well formed (``invalid-rule``), the footprint is
    (``invalid-footprint``: fields missing, or a value ≤ 0), the rule is in force at
    ``at`` (``rule-not-valid-at-time``), the category matches when given
    (``category-mismatch``), the declared unit (``unit-mismatch``), the boundary
    (``boundary-mismatch``), the data-quality minimum
    (``data-quality-below-minimum``), then the class (``ratio-above-all-classes`` if
    the last class is bounded and the ratio exceeds it). Raises :class:`NotGradable`.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be timezone-aware")
    classes = _class_boundaries(rule)
    benchmark = _benchmark(rule)
    fp = footprint if isinstance(footprint, Footprint) else Footprint.from_block(footprint)
    metric = str(rule.get("footprintMetric", "pcfExcludingBiogenicUptake"))
    value = fp.metric(metric)
    if value is None:
        raise NotGradable("invalid-footprint", f"the footprint has no {metric} value")
    if value <= 0:
        raise NotGradable("invalid-footprint", f"{metric} must be positive to be graded")

    _check_validity(rule, at)
    category = rule.get("productCategory")
    if product_category is not None and product_category != category:
        raise NotGradable(
            "category-mismatch",
            f"the rule is for category {category}, the product is {product_category}",
        )
    _check_unit(rule, fp)
    if fp.boundary != rule.get("boundary"):
        raise NotGradable(
            "boundary-mismatch",
            f"the rule grades {rule.get('boundary')} footprints, this one is {fp.boundary}",
        )
    _check_data_quality(rule, fp)

    with localcontext() as ctx:
        ctx.prec = 200  # exact for any products of decimal strings we accept
        chosen = next(
            (c for c in classes if c.max_ratio is None or value <= c.max_ratio * benchmark), None
        )
        if chosen is None:
            raise NotGradable(
                "ratio-above-all-classes",
                f"ratio {value / benchmark:.4f} exceeds the last class bound "
                f"{classes[-1].max_ratio}",
            )
        ctx.prec = 50
        ratio = (value / benchmark).quantize(_QUANTUM, rounding=ROUND_HALF_UP)
    return GradeOutcome(
        grade=chosen.grade,
        ratio=ratio,
        class_boundary=chosen,
        footprint_metric=metric,
        footprint_value=value,
        benchmark_value=benchmark,
        rule_id=str(rule.get("id")),
        rule_version=str(rule.get("version")),
    )


def _optional_decimal(block: Mapping[str, Any], name: str) -> Decimal | None:
    value = block.get(name)
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return Decimal(value)
    return None


def _required_decimal(block: Mapping[str, Any], name: str, reason: str) -> Decimal:
    value = _optional_decimal(block, name)
    if value is None:
        raise NotGradable(reason, f"{name} is missing or not a decimal string")
    return value


def _class_boundaries(rule: Mapping[str, Any]) -> list[ClassBoundary]:
    raw = rule.get("classBoundaries")
    if not isinstance(raw, list) or not raw:
        raise NotGradable("invalid-rule", "the rule has no class boundaries")
    classes: list[ClassBoundary] = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("grade"), str):
            raise NotGradable("invalid-rule", f"class {index} has no grade")
        bound = _optional_decimal(entry, "maxRatio")
        if bound is None and ("maxRatio" in entry or index != len(raw) - 1):
            raise NotGradable("invalid-rule", f"class {index} needs a decimal maxRatio")
        previous = classes[-1].max_ratio if classes else None
        if bound is not None and (bound <= 0 or (previous is not None and bound <= previous)):
            raise NotGradable("invalid-rule", "class maxRatio values must increase from zero")
        classes.append(ClassBoundary(grade=entry["grade"], max_ratio=bound))
    if len({c.grade for c in classes}) != len(classes):
        raise NotGradable("invalid-rule", "grades must be unique")
    return classes


def _benchmark(rule: Mapping[str, Any]) -> Decimal:
    block = rule.get("benchmark")
    value = _optional_decimal(block, "value") if isinstance(block, Mapping) else None
    if value is None or value <= 0:
        raise NotGradable("invalid-rule", "the rule needs a positive benchmark value")
    return value


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _check_validity(rule: Mapping[str, Any], at: datetime) -> None:
    start = _instant(rule.get("validFrom"))
    if start is None:
        raise NotGradable("invalid-rule", "the rule has no timezone-aware validFrom")
    end = _instant(rule.get("validUntil")) if "validUntil" in rule else None
    if "validUntil" in rule and end is None:
        raise NotGradable("invalid-rule", "the rule's validUntil is not a date-time")
    if at < start or (end is not None and at >= end):
        window = f"{rule.get('validFrom')} to {rule.get('validUntil', 'open end')}"
        raise NotGradable(
            "rule-not-valid-at-time", f"the rule is valid {window}, not at {at.isoformat()}"
        )


def _check_unit(rule: Mapping[str, Any], fp: Footprint) -> None:
    amount = _optional_decimal(rule, "declaredUnitAmount")
    unit = rule.get("declaredUnitOfMeasurement")
    if amount is None or not isinstance(unit, str):
        raise NotGradable("invalid-rule", "the rule has no declared unit")
    if fp.declared_unit_of_measurement != unit or fp.declared_unit_amount != amount:
        raise NotGradable(
            "unit-mismatch",
            f"the rule's declared unit is {amount} {unit}, the footprint's is "
            f"{fp.declared_unit_amount} {fp.declared_unit_of_measurement}",
        )


def _check_data_quality(rule: Mapping[str, Any], fp: Footprint) -> None:
    minimum = rule.get("minimumDataQuality")
    minimum = minimum if isinstance(minimum, Mapping) else {}
    max_dqr = _optional_decimal(minimum, "maximumDQR")
    if max_dqr is not None:
        ratings = zip(
            _DQR_FIELDS, (fp.technological_dqr, fp.geographical_dqr, fp.temporal_dqr), strict=True
        )
        for name, rating in ratings:
            if rating is None or rating > max_dqr:
                shown = "missing" if rating is None else str(rating)
                raise NotGradable(
                    "data-quality-below-minimum",
                    f"{name} is {shown}; the rule requires {max_dqr} or better (lower)",
                )
    min_share = _optional_decimal(minimum, "minimumPrimaryDataShare")
    if min_share is not None and (
        fp.primary_data_share is None or fp.primary_data_share < min_share
    ):
        shown = "missing" if fp.primary_data_share is None else f"{fp.primary_data_share} %"
        raise NotGradable(
            "data-quality-below-minimum",
            f"primaryDataShare is {shown}; the rule requires at least {min_share} %",
        )
