"""Badge binding: does a label back what a product page or badge claims (虚标滥标)?

An e-commerce platform shows a carbon badge next to a listing: a GTIN, the
seller's Unified Social Credit Code, perhaps a grade and a footprint figure.
:func:`check_binding` compares those claims with a (verified) label credential
and, for a grade, the grade credential that grades it. It is pure: both
credentials must already have passed the pipeline's other checks.

Reason codes:

=========================  ===========================================================
``GTIN_NOT_COVERED``        the claimed GTIN is not the labelled product (another
                            product or model, or not a valid GTIN)
``SELLER_NOT_AUTHORISED``   the seller is neither the label holder (``issuedToParty``)
                            nor one of the ``authorisedDistributors``
``GRADE_INFLATED``          a better grade than the graded one, or a grade claimed with
                            no grade credential for this label
``VALUE_MISSTATED``         the claimed footprint is below the certified one by more
                            than rounding to the claim's precision allows
``UNIT_MISMATCH``           the claim is per another declared unit
``BOUNDARY_MISMATCH``       the claim names another life-cycle boundary
=========================  ===========================================================

Grade order: in the scheme's grading rules (``schemas/examples/grading-rule.room-ac.json``)
classes are listed from the lowest ``maxRatio`` up, so the *first* class is the
best ("grade 1 is best"). Given the rule's class list (``grade_order``) that order
is used; without it grades that are decimal integers compare numerically, lower
is better; any other differing grade counts as inflated (it cannot be confirmed).

The certified footprint is ``carbonFootprint.pcfExcludingBiogenicUptake`` in
kgCO2e per ``declaredUnitAmount`` ``declaredUnitOfMeasurement`` (PACT v3); a
claimed unit is compared with ``declaredUnitOfMeasurement`` (case-insensitive).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Final

from schemas.errors import InvalidGTIN
from schemas.validate import check_gtin

__all__ = [
    "BINDING_REASONS",
    "BadgeClaims",
    "BindingReason",
    "check_binding",
]

BINDING_REASONS: Final = (
    "GTIN_NOT_COVERED",
    "SELLER_NOT_AUTHORISED",
    "GRADE_INFLATED",
    "VALUE_MISSTATED",
    "UNIT_MISMATCH",
    "BOUNDARY_MISMATCH",
)


@dataclass(frozen=True)
class BadgeClaims:
    """What a listing or badge claims; ``None`` means "not claimed", and is not checked."""

    gtin: str | None = None
    seller: str | None = None
    """The seller's Unified Social Credit Code."""
    grade: str | None = None
    footprint_value: Decimal | None = None
    """kgCO2e per declared unit."""
    footprint_unit: str | None = None
    """The declared unit of measurement the value is per (``piece``, ``kilogram``...)."""
    boundary: str | None = None


@dataclass(frozen=True)
class BindingReason:
    """One mismatch between the claims and the credentials: a code and a sentence."""

    code: str
    message: str


def _get(document: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(document, Mapping):
            return None
        document = document.get(name)
    return document


def _label_gtins(subject: Any) -> set[str]:
    found: set[str] = set()
    candidates = [_get(subject, "labelledProduct", "gtin")]
    assessments = _get(subject, "assessment")
    for assessment in assessments if isinstance(assessments, list) else []:
        products = _get(assessment, "assessedProduct")
        for product in products if isinstance(products, list) else []:
            candidates.append(_get(product, "product", "registeredId"))
    for value in candidates:
        if isinstance(value, str):
            try:
                found.add(check_gtin(value))
            except InvalidGTIN:
                continue
    return found


def _check_gtin(subject: Any, claimed: str) -> BindingReason | None:
    try:
        gtin = check_gtin(claimed)
    except InvalidGTIN as exc:
        return BindingReason("GTIN_NOT_COVERED", f"the claimed GTIN {claimed!r} is invalid: {exc}")
    if gtin not in _label_gtins(subject):
        labelled = _get(subject, "labelledProduct", "gtin")
        return BindingReason(
            "GTIN_NOT_COVERED",
            f"the label covers GTIN {labelled}, not the listed product {gtin}",
        )
    return None


def _check_seller(subject: Any, seller: str) -> BindingReason | None:
    allowed: set[str] = set()
    holder = _get(subject, "issuedToParty", "registeredId")
    if isinstance(holder, str):
        allowed.add(holder.upper())
    distributors = _get(subject, "authorisedDistributors")
    for distributor in distributors if isinstance(distributors, list) else []:
        code = _get(distributor, "registeredId")
        if isinstance(code, str):
            allowed.add(code.upper())
    if seller.strip().upper() not in allowed:
        return BindingReason(
            "SELLER_NOT_AUTHORISED",
            f"seller {seller} is neither the label holder nor an authorised distributor",
        )
    return None


def _better(claimed: str, graded: str, grade_order: Sequence[str] | None) -> bool:
    """Whether ``claimed`` is a better grade than ``graded`` (or cannot be ranked)."""
    if claimed == graded:
        return False
    if grade_order is not None and claimed in grade_order and graded in grade_order:
        return list(grade_order).index(claimed) < list(grade_order).index(graded)
    if claimed.isdecimal() and graded.isdecimal():
        return int(claimed) < int(graded)
    return True


def _check_grade(
    label: Mapping[str, Any],
    claimed: str,
    grade_credential: Mapping[str, Any] | None,
    grade_order: Sequence[str] | None,
) -> BindingReason | None:
    if grade_credential is None:
        return BindingReason(
            "GRADE_INFLATED", f"grade {claimed} is claimed but no grade credential backs it"
        )
    graded_id = _get(grade_credential, "credentialSubject", "gradedCredential", "id")
    if graded_id != label.get("id"):
        return BindingReason(
            "GRADE_INFLATED",
            f"grade {claimed} is claimed with a grade credential for another label ({graded_id})",
        )
    graded = _get(grade_credential, "credentialSubject", "grade")
    if not isinstance(graded, str) or _better(claimed, graded, grade_order):
        return BindingReason(
            "GRADE_INFLATED", f"grade {claimed} is claimed; the product is graded {graded}"
        )
    return None


def _check_value(footprint: Any, claimed: Decimal) -> BindingReason | None:
    raw = _get(footprint, "pcfExcludingBiogenicUptake")
    try:
        certified = Decimal(raw) if isinstance(raw, str) else None
    except InvalidOperation:
        certified = None
    if certified is None:
        return BindingReason(
            "VALUE_MISSTATED", f"{claimed} is claimed but the label certifies no footprint value"
        )
    if not claimed.is_finite():
        return BindingReason("VALUE_MISSTATED", f"{claimed} is not a footprint value")
    if claimed >= certified:
        return None
    exponent = claimed.as_tuple().exponent
    places = exponent if isinstance(exponent, int) else 0
    rounded = certified.quantize(Decimal(1).scaleb(places), rounding=ROUND_HALF_UP)
    if claimed == rounded:
        return None
    return BindingReason(
        "VALUE_MISSTATED",
        f"{claimed} kgCO2e is claimed; the label certifies {certified} kgCO2e",
    )


def check_binding(
    label: Mapping[str, Any],
    claims: BadgeClaims,
    grade_credential: Mapping[str, Any] | None,
    *,
    grade_order: Sequence[str] | None = None,
) -> list[BindingReason]:
    """Every mismatch between ``claims`` and the label (and its grade), in the order above.

    Precondition: ``label`` is a verified CarbonLabelCredential and
    ``grade_credential``, if any, a verified GradeResultCredential.
    ``grade_order`` lists the rule's grades best first (its ``classBoundaries``
    order). Returns an empty list when every claim is backed; raises nothing.
    """
    subject = label.get("credentialSubject")
    footprint = _get(subject, "carbonFootprint")
    reasons: list[BindingReason | None] = []
    if claims.gtin is not None:
        reasons.append(_check_gtin(subject, claims.gtin))
    if claims.seller is not None:
        reasons.append(_check_seller(subject, claims.seller))
    if claims.grade is not None:
        reasons.append(_check_grade(label, claims.grade, grade_credential, grade_order))
    unit_ok = True
    if claims.footprint_unit is not None:
        unit = _get(footprint, "declaredUnitOfMeasurement")
        if not isinstance(unit, str) or unit.casefold() != claims.footprint_unit.casefold():
            unit_ok = False
            reasons.append(
                BindingReason(
                    "UNIT_MISMATCH",
                    f"the claim is per {claims.footprint_unit}; the label is per {unit}",
                )
            )
    if claims.footprint_value is not None and unit_ok:
        reasons.append(_check_value(footprint, claims.footprint_value))
    if claims.boundary is not None:
        boundary = _get(footprint, "boundary")
        if claims.boundary != boundary:
            reasons.append(
                BindingReason(
                    "BOUNDARY_MISMATCH",
                    f"the claim is {claims.boundary}; the label's boundary is {boundary}",
                )
            )
    return [reason for reason in reasons if reason is not None]
