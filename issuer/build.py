"""Build the unsigned label and grade credentials, and read a label back for display.

Pure functions: time, ids, status entries and links are parameters, nothing touches
HTTP, a database or a clock. The shapes are those of
``schemas/examples/label-credential.room-ac.json`` and
``schemas/examples/grade-credential.room-ac.json``: a W3C VC 2.0 whose subject is a
UNTP Digital Conformity Credential ``ConformityAttestation`` extended by our
vocabulary (``schemas/contexts/gdcl-v1.jsonld``), with the PACT v3 footprint block
carried over from the request unchanged.

Every builder validates what it returns (:func:`schemas.validate.validate`, which
also applies the UNTP DCC schema) and raises
:class:`~schemas.errors.SchemaValidationError` rather than hand back a credential
that would not verify. Signing (and with it JSON-LD safe-mode expansion) is the
caller's next step (:func:`credentials.dataintegrity.sign`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final, TypedDict

from credentials.dataintegrity import format_datetime
from schemas.grading import GradeOutcome, rule_digest
from schemas.validate import check_gtin, check_uscc, validate
from schemas.vocabulary import (
    DCC_CONTEXTS,
    DIGITAL_CONFORMITY_CREDENTIAL,
    GRADE_CREDENTIAL_TYPE,
    GRADE_SUBJECT_TYPES,
    KIND_GRADE_CREDENTIAL,
    KIND_LABEL_CREDENTIAL,
    KIND_LABEL_REQUEST,
    LABEL_CREDENTIAL_TYPE,
    LABEL_SUBJECT_TYPES,
    VERIFIABLE_CREDENTIAL,
)

__all__ = [
    "CATEGORY_CODES",
    "DEFAULT_LABEL_VALIDITY",
    "REGISTRY_BASE_URL",
    "IssuerProfile",
    "LabelSummary",
    "build_grade_credential",
    "build_label_credential",
    "category_code",
    "label_number",
    "label_summary",
    "party_id",
]

REGISTRY_BASE_URL: Final = "https://registry.gd-carbon-label.example"
"""Where label pages, certificates, evidence and the scheme are published."""

DEFAULT_LABEL_VALIDITY: Final = timedelta(days=3 * 365)
"""Validity of a label whose request names no ``validUntil``."""

CATEGORY_CODES: Final[Mapping[str, str]] = {
    "room-air-conditioner": "AC",
    "lithium-battery": "LB",
    "refrigerator": "RF",
    "washing-machine": "WM",
    "television": "TV",
    "electric-water-heater": "WH",
    "photovoltaic-module": "PV",
    "electric-bicycle": "EB",
    "mobile-phone": "MP",
    "ceramic-tile": "CT",
}
"""Product category (``productCategory``) → the code in its label numbers."""

_LABEL_NUMBER_PREFIX: Final = "GDCL"
_CATEGORY_CODE: Final = re.compile(r"[A-Z]{2,4}")
_MAX_SEQUENCE: Final = 999_999
_HEX64: Final = re.compile(r"[0-9a-f]{64}")
_GSXT_URN: Final = "urn:gtr:gsxt.gov.cn:"
_USCC_SCHEME: Final = {
    "type": ["IdentifierScheme"],
    "id": "https://www.gsxt.gov.cn/",
    "name": "统一社会信用代码 (Unified Social Credit Code)",
}
_GTIN_SCHEME: Final = {
    "type": ["IdentifierScheme"],
    "id": "https://id.gs1.org/01/",
    "name": "GS1 GTIN",
}
_SCHEME_OWNER: Final = {
    "id": "urn:gtr:gsxt.gov.cn:12440000MB2C401574",
    "name": "广东省碳标签专业委员会 (illustrative)",
}
_REFERENCE_STANDARDS: Final[Mapping[str, Mapping[str, Any]]] = {
    "GB/T24067-2024": {
        "type": ["Standard"],
        "id": "urn:std:cn:GB/T24067-2024",
        "name": "GB/T 24067-2024 温室气体 产品碳足迹 量化要求和指南",
        "issuingParty": {
            "id": "https://www.samr.gov.cn/",
            "name": "国家市场监督管理总局 / 国家标准化管理委员会",
        },
        "issueDate": "2024-08-23",
    },
    "ISO14067": {
        "type": ["Standard"],
        "id": "urn:iso:std:iso:14067:ed-1",
        "name": "ISO 14067:2018 Greenhouse gases — Carbon footprint of products — "
        "Requirements and guidelines for quantification",
        "issuingParty": {
            "id": "https://www.iso.org/",
            "name": "International Organization for Standardization",
        },
        "issueDate": "2018-08-01",
    },
}
_STANDARD_TITLES: Final = {"GB/T24067-2024": "GB/T 24067-2024", "ISO14067": "ISO 14067:2018"}
_PCF_METRIC: Final = "pcfExcludingBiogenicUptake"


@dataclass(frozen=True)
class IssuerProfile:
    """The label authority or certification body that signs: its DID, name and USCC.

    Raises ValueError (``InvalidUSCC``) on a malformed DID or USCC.
    """

    did: str
    name: str
    uscc: str

    def __post_init__(self) -> None:
        if not self.did.startswith("did:") or self.did.count(":") < 2:
            raise ValueError(f"issuer did must be a DID, got {self.did!r}")
        if not self.name:
            raise ValueError("issuer name must not be empty")
        check_uscc(self.uscc)


class LabelSummary(TypedDict):
    """What a label shows: the fields a verifier page and a printed label need."""

    label_number: str
    credential_id: str
    product_name: str
    model: str
    gtin: str
    product_category: str
    granularity: str
    batch_number: str | None
    footprint_value: str
    footprint_metric: str
    declared_unit_amount: str
    declared_unit: str
    boundary: str
    stages: list[dict[str, str]]
    valid_from: str
    valid_until: str
    issuer_id: str
    issuer_name: str
    certification_body_name: str
    manufacturer_name: str
    manufacturer_uscc: str
    market_regions: list[str]
    distributor_usccs: list[str]


# --- label numbers ---------------------------------------------------------------


def category_code(product_category: str) -> str:
    """The label-number code of a product category; ValueError if it has none."""
    code = CATEGORY_CODES.get(product_category)
    if code is None:
        raise ValueError(
            f"product category {product_category!r} has no label-number code "
            f"(known: {', '.join(sorted(CATEGORY_CODES))})"
        )
    return code


def label_number(year: int, category_code: str, sequence: int) -> str:
    """``GDCL-<year>-<code>-<sequence:06d>``, e.g. ``GDCL-2025-AC-000123``.

    ``year`` has four digits, ``category_code`` two to four capital letters (see
    :data:`CATEGORY_CODES`), ``sequence`` is 1 to 999999. Raises ValueError.
    """
    if isinstance(year, bool) or not isinstance(year, int) or not 1000 <= year <= 9999:
        raise ValueError(f"label year must be a four-digit year, got {year!r}")
    if not isinstance(category_code, str) or _CATEGORY_CODE.fullmatch(category_code) is None:
        raise ValueError(f"category code must be 2 to 4 capital letters A-Z, got {category_code!r}")
    if (
        isinstance(sequence, bool)
        or not isinstance(sequence, int)
        or not 1 <= sequence <= _MAX_SEQUENCE
    ):
        raise ValueError(f"label sequence must be 1 to {_MAX_SEQUENCE}, got {sequence!r}")
    return f"{_LABEL_NUMBER_PREFIX}-{year:04d}-{category_code}-{sequence:06d}"


def party_id(uscc: str) -> str:
    """URN of an organisation in the national enterprise credit register, by its USCC."""
    return _GSXT_URN + uscc


# --- the label credential --------------------------------------------------------


_SAFE_INTEGER: Final = 2**53
"""Integers below this are exact as doubles (RFC 8785 §3.2.2.3, I-JSON)."""


def _copy(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists, scalars), several times faster than deepcopy."""
    kind = type(value)
    if kind is dict:
        return {key: _copy(item) for key, item in value.items()}
    if kind is list:
        return [_copy(item) for item in value]
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    return copy.deepcopy(value)


def build_label_credential(
    request: Mapping[str, Any],
    *,
    issuer: IssuerProfile,
    credential_id: str,
    label_number: str,
    digital_link: str,
    status_entries: Sequence[Mapping[str, Any]],
    valid_from: datetime,
    registry: str = REGISTRY_BASE_URL,
    validated: bool = False,
) -> dict[str, Any]:
    """The unsigned ``CarbonLabelCredential`` for a LabelRequest.

    ``request`` is a LabelRequest (``schemas/json/LabelRequest.schema.json``); it is
    validated here. ``digital_link`` is the product's GS1 Digital Link URI (it must
    carry the GTIN after ``/01/``), ``status_entries`` the
    ``BitstringStatusListEntry`` objects to put in ``credentialStatus`` (omitted
    when empty), ``valid_from`` a timezone-aware instant. ``validUntil`` is the
    request's, else ``valid_from`` + :data:`DEFAULT_LABEL_VALIDITY`. ``registry``
    is the base URL of label pages, certificates and evidence.

    Raises SchemaValidationError (the request, or the credential built from it)
    and ValueError (a naive ``valid_from``). ``validated=True`` says the caller has
    validated the request, and skips both schema checks (the issuer's hot path;
    the tests check the output of every example row against both schemas).
    """
    if not validated:
        validate(KIND_LABEL_REQUEST, request)
    product: Mapping[str, Any] = request["product"]
    footprint: Mapping[str, Any] = request["footprint"]
    certification: Mapping[str, Any] = request["certification"]
    documents: Mapping[str, Any] = request["documents"]
    manufacturer: Mapping[str, Any] = request["manufacturer"]
    gtin = check_gtin(product["gtin"])
    subject_id = f"{registry}/labels/{label_number}"

    labelled: dict[str, Any] = {
        "granularity": product["granularity"],
        "gtin": gtin,
        "digitalLink": digital_link,
        "name": product["name"],
        "model": product["model"],
        "productCategory": product["productCategory"],
    }
    verified_product: dict[str, Any] = {
        "id": digital_link,
        "name": product["name"],
        "registeredId": gtin,
        "idScheme": dict(_GTIN_SCHEME),
    }
    if "batchNumber" in product:
        labelled["batchNumber"] = product["batchNumber"]
        verified_product["batchNumber"] = product["batchNumber"]
    if "serialRange" in product:
        labelled["serialRange"] = dict(product["serialRange"])

    assessment: dict[str, Any] = {
        "type": ["ConformityAssessment", "Declaration"],
        "id": f"{subject_id}#pcf",
        "name": (
            f"Product carbon footprint ({footprint['boundary']}) per {_declared_unit(footprint)}"
        ),
        "assessmentDate": certification["assessmentDate"],
        "conformityTopic": "environment.emissions",
        "conformance": True,
        "referenceStandard": _copy(dict(_reference_standard(footprint["crossSectoralStandards"]))),
        "declaredValue": [
            {
                "type": ["Metric"],
                "metricName": (
                    f"Product carbon footprint, kgCO2e per {_declared_unit(footprint)} "
                    f"({_PCF_METRIC})"
                ),
                "metricValue": {
                    "type": ["Measure"],
                    "value": _json_number(Decimal(footprint[_PCF_METRIC])),
                    "unit": "KGM",
                },
            }
        ],
        "assessedProduct": [
            {"type": ["ProductVerification"], "product": verified_product, "IDverifiedByCAB": True}
        ],
    }
    verifier: Mapping[str, Any] = certification["verifier"]
    if "uscc" in verifier:
        # UNTP: the auditor is named when it is not the issuer of the attestation.
        assessment["auditor"] = {
            "id": party_id(verifier["uscc"]),
            "name": verifier["name"],
            "registeredId": verifier["uscc"],
        }

    accreditation: Mapping[str, Any] = certification["accreditation"]
    subject: dict[str, Any] = {
        "type": list(LABEL_SUBJECT_TYPES),
        "id": subject_id,
        "name": f"广东碳标签 {label_number} — {product['name']} {product['model']}",
        "description": (
            f"Product carbon footprint evaluation and label per {_standard_title(footprint)} "
            f"for the product category {product['productCategory']}."
        ),
        "assessorLevel": "3rdParty",
        "assessmentLevel": "Accredited",
        "attestationType": "certification",
        "issuedToParty": {
            "id": party_id(manufacturer["uscc"]),
            "name": manufacturer["name"],
            "registeredId": manufacturer["uscc"],
            "idScheme": dict(_USCC_SCHEME),
        },
        "authorisation": [
            {
                "type": ["Endorsement"],
                "id": accreditation["id"],
                "name": accreditation["name"],
                "issuingAuthority": dict(accreditation["issuingAuthority"]),
            }
        ],
        "conformityCertificate": {
            "linkURL": f"{registry}/certificates/{label_number}.pdf",
            "linkName": "广东碳标签证书 PDF",
            "hashDigest": documents["certificateSha256"],
            "hashMethod": "SHA-256",
        },
        "auditableEvidence": {
            "linkURL": f"{registry}/evidence/{label_number}.enc",
            "linkName": "PCF study report (encrypted, regulator access)",
            "hashDigest": documents["studyReportSha256"],
            "hashMethod": "SHA-256",
        },
        "scope": _scheme(registry),
        "assessment": [assessment],
        "labelNumber": label_number,
        "labelledProduct": labelled,
        "carbonFootprint": _copy(dict(footprint)),
        "authorisedDistributors": [
            {"id": party_id(d["uscc"]), "name": d["name"], "registeredId": d["uscc"]}
            for d in request["authorisedDistributors"]
        ],
        "marketRegions": list(request["marketRegions"]),
    }

    valid_until = (
        format_datetime(_instant(request["validUntil"]))
        if "validUntil" in request
        else format_datetime(valid_from + DEFAULT_LABEL_VALIDITY)
    )
    credential: dict[str, Any] = {
        "@context": list(DCC_CONTEXTS),
        "type": [VERIFIABLE_CREDENTIAL, DIGITAL_CONFORMITY_CREDENTIAL, LABEL_CREDENTIAL_TYPE],
        "id": credential_id,
        "issuer": _issuer(issuer),
        "validFrom": format_datetime(valid_from),
        "validUntil": valid_until,
    }
    if status_entries:
        credential["credentialStatus"] = [dict(entry) for entry in status_entries]
    credential["credentialSubject"] = subject
    if not validated:
        validate(KIND_LABEL_CREDENTIAL, credential)
    return credential


# --- the grade credential --------------------------------------------------------


def build_grade_credential(
    label: Mapping[str, Any],
    *,
    label_digest: str,
    rule: Mapping[str, Any],
    outcome: GradeOutcome,
    issuer: IssuerProfile,
    credential_id: str,
    status_entries: Sequence[Mapping[str, Any]],
    valid_from: datetime,
    registry: str = REGISTRY_BASE_URL,
) -> dict[str, Any]:
    """The unsigned ``GradeResultCredential`` for a (signed) label graded under ``rule``.

    ``label_digest`` is the digest of the signed label (``sha256:<hex>`` as from
    :func:`schemas.logentry.credential_digest`, or bare hex); ``outcome`` is what
    :func:`schemas.grading.grade` returned for this label's footprint under this
    rule. ``validUntil`` is the earlier of the label's and the rule's.

    Raises ValueError if the outcome is not for this rule or this label's footprint,
    or the digest is malformed, and SchemaValidationError if the result does not
    conform.
    """
    digest = label_digest.removeprefix("sha256:")
    if _HEX64.fullmatch(digest) is None:
        raise ValueError("label_digest must be a SHA-256 digest (64 lowercase hex digits)")
    if outcome.rule_id != rule.get("id") or outcome.rule_version != rule.get("version"):
        raise ValueError(
            f"the outcome is for rule {outcome.rule_id} {outcome.rule_version}, "
            f"not {rule.get('id')} {rule.get('version')}"
        )
    summary = label_summary(label)
    subject = label["credentialSubject"]
    claimed = subject["carbonFootprint"].get(outcome.footprint_metric)
    if not isinstance(claimed, str) or Decimal(claimed) != outcome.footprint_value:
        raise ValueError(
            f"the outcome graded {outcome.footprint_metric} = {outcome.footprint_value}, "
            f"the label declares {claimed!r}"
        )
    benchmark: Mapping[str, Any] = rule["benchmark"]
    class_boundary: dict[str, Any] = {"grade": outcome.class_boundary.grade}
    if outcome.class_boundary.max_ratio is not None:
        class_boundary["maxRatio"] = _decimal_text(outcome.class_boundary.max_ratio)
    party = subject["issuedToParty"]

    until = [_instant(summary["valid_until"])]
    if isinstance(rule.get("validUntil"), str):
        until.append(_instant(rule["validUntil"]))
    credential: dict[str, Any] = {
        "@context": list(DCC_CONTEXTS),
        "type": [VERIFIABLE_CREDENTIAL, DIGITAL_CONFORMITY_CREDENTIAL, GRADE_CREDENTIAL_TYPE],
        "id": credential_id,
        "issuer": _issuer(issuer),
        "validFrom": format_datetime(valid_from),
        "validUntil": format_datetime(min(until)),
    }
    if status_entries:
        credential["credentialStatus"] = [dict(entry) for entry in status_entries]
    credential["credentialSubject"] = {
        "type": list(GRADE_SUBJECT_TYPES),
        "id": f"{registry}/grades/{summary['label_number']}",
        "name": (
            f"碳足迹分级结果 — {summary['product_name']} {summary['model']}: grade {outcome.grade}"
        ),
        "assessorLevel": "3rdParty",
        "assessmentLevel": "GovtApproval",
        "attestationType": "validation",
        "issuedToParty": {
            "id": party["id"],
            "name": party["name"],
            "registeredId": party["registeredId"],
        },
        "labelNumber": summary["label_number"],
        "productCategory": summary["product_category"],
        "grade": outcome.grade,
        "ratio": _decimal_text(outcome.ratio),
        "footprintUsed": {
            "metric": outcome.footprint_metric,
            "value": _decimal_text(outcome.footprint_value),
        },
        "gradingRule": {
            "id": outcome.rule_id,
            "version": outcome.rule_version,
            "digest": rule_digest(rule),
        },
        "benchmark": {
            "value": benchmark["value"],
            "declaredUnitOfMeasurement": rule["declaredUnitOfMeasurement"],
            "declaredUnitAmount": rule["declaredUnitAmount"],
            "boundary": rule["boundary"],
            "method": benchmark["method"],
        },
        "classBoundary": class_boundary,
        "gradedCredential": {"id": label["id"], "digest": digest},
    }
    validate(KIND_GRADE_CREDENTIAL, credential)
    return credential


# --- reading a label back ----------------------------------------------------------


def label_summary(label: Mapping[str, Any]) -> LabelSummary:
    """The fields a label shows, read from a ``CarbonLabelCredential`` (signed or not).

    Raises ValueError naming the first missing or malformed field (as a JSON
    pointer). It does not verify anything: verify the credential first.
    """
    subject = _mapping(label, "credentialSubject", "/credentialSubject")
    product = _mapping(subject, "labelledProduct", "/credentialSubject/labelledProduct")
    footprint = _mapping(subject, "carbonFootprint", "/credentialSubject/carbonFootprint")
    party = _mapping(subject, "issuedToParty", "/credentialSubject/issuedToParty")
    issuer = _mapping(label, "issuer", "/issuer")
    fp = "/credentialSubject/carbonFootprint"
    stages: list[dict[str, str]] = []
    for index, entry in enumerate(_list(footprint, "lifeCycleStageEmissions", fp)):
        where = f"{fp}/lifeCycleStageEmissions/{index}"
        if not isinstance(entry, Mapping):
            raise ValueError(f"label credential: {where} must be an object")
        stages.append(
            {"stage": _text(entry, "stage", where), "emissions": _text(entry, "emissions", where)}
        )
    distributors: list[str] = []
    for index, entry in enumerate(_list(subject, "authorisedDistributors", "/credentialSubject")):
        where = f"/credentialSubject/authorisedDistributors/{index}"
        if not isinstance(entry, Mapping):
            raise ValueError(f"label credential: {where} must be an object")
        distributors.append(_text(entry, "registeredId", where))
    regions = _list(subject, "marketRegions", "/credentialSubject")
    if not all(isinstance(r, str) for r in regions):
        raise ValueError("label credential: /credentialSubject/marketRegions must be strings")
    batch = product.get("batchNumber")
    issuer_name = _text(issuer, "name", "/issuer")
    return {
        "label_number": _text(subject, "labelNumber", "/credentialSubject"),
        "credential_id": _text(label, "id", ""),
        "product_name": _text(product, "name", "/credentialSubject/labelledProduct"),
        "model": _text(product, "model", "/credentialSubject/labelledProduct"),
        "gtin": _text(product, "gtin", "/credentialSubject/labelledProduct"),
        "product_category": _text(product, "productCategory", "/credentialSubject/labelledProduct"),
        "granularity": _text(product, "granularity", "/credentialSubject/labelledProduct"),
        "batch_number": batch if isinstance(batch, str) else None,
        "footprint_value": _text(footprint, _PCF_METRIC, fp),
        "footprint_metric": _PCF_METRIC,
        "declared_unit_amount": _text(footprint, "declaredUnitAmount", fp),
        "declared_unit": _text(footprint, "declaredUnitOfMeasurement", fp),
        "boundary": _text(footprint, "boundary", fp),
        "stages": stages,
        "valid_from": _text(label, "validFrom", ""),
        "valid_until": _text(label, "validUntil", ""),
        "issuer_id": _text(issuer, "id", "/issuer"),
        "issuer_name": issuer_name,
        "certification_body_name": _certification_body(subject) or issuer_name,
        "manufacturer_name": _text(party, "name", "/credentialSubject/issuedToParty"),
        "manufacturer_uscc": _text(party, "registeredId", "/credentialSubject/issuedToParty"),
        "market_regions": [str(r) for r in regions],
        "distributor_usccs": distributors,
    }


# --- helpers -------------------------------------------------------------------------


def _issuer(issuer: IssuerProfile) -> dict[str, Any]:
    return {
        "type": ["CredentialIssuer"],
        "id": issuer.did,
        "name": issuer.name,
        "issuerAlsoKnownAs": [
            {"id": party_id(issuer.uscc), "name": issuer.name, "registeredId": issuer.uscc}
        ],
    }


def _scheme(registry: str) -> dict[str, Any]:
    return {
        "type": ["ConformityScheme"],
        "id": f"{registry}/schemes/gdcl",
        "name": "广东碳标签 Guangdong Carbon Label",
        "description": "Guangdong product carbon footprint evaluation and labelling scheme",
        "version": "2.0.0",
        "validFrom": "2025-08-27",
        "owner": dict(_SCHEME_OWNER),
    }


def _reference_standard(standards: Sequence[str]) -> Mapping[str, Any]:
    """GB/T 24067-2024 when the study claims it, else ISO 14067 (the schema needs one)."""
    for name in _REFERENCE_STANDARDS:
        if name in standards:
            return _REFERENCE_STANDARDS[name]
    raise ValueError("the footprint names neither GB/T24067-2024 nor ISO14067")


def _standard_title(footprint: Mapping[str, Any]) -> str:
    standards = footprint["crossSectoralStandards"]
    return next(_STANDARD_TITLES[name] for name in _REFERENCE_STANDARDS if name in standards)


def _json_number(value: Decimal) -> int | float:
    """``value`` as a JSON number: an ``int`` when it is whole, else the nearest ``float``.

    The same JSON number either way (``3833`` and ``3833.0``; JSON-LD reads both as
    xsd:integer, RFC 8785 writes both as ``3833``), but an ``int`` is written so by
    every serializer, and canonicalizing it takes no second pass.
    """
    if value == value.to_integral_value() and abs(value) < _SAFE_INTEGER:
        return int(value)
    return float(value)


def _declared_unit(footprint: Mapping[str, Any]) -> str:
    amount = footprint["declaredUnitAmount"]
    unit = footprint["declaredUnitOfMeasurement"]
    return str(unit) if Decimal(amount) == 1 else f"{amount} {unit}"


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return parsed


def _decimal_text(value: Decimal) -> str:
    """A Decimal as a plain decimal string (never exponent notation)."""
    return format(value, "f")


def _certification_body(subject: Mapping[str, Any]) -> str | None:
    assessments = subject.get("assessment")
    if not isinstance(assessments, list):
        return None
    for assessment in assessments:
        auditor = assessment.get("auditor") if isinstance(assessment, Mapping) else None
        name = auditor.get("name") if isinstance(auditor, Mapping) else None
        if isinstance(name, str) and name:
            return name
    return None


def _mapping(node: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = node.get(key) if isinstance(node, Mapping) else None
    if not isinstance(value, Mapping):
        raise ValueError(f"label credential: {where} must be an object")
    return value


def _list(node: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = node.get(key)
    if not isinstance(value, list):
        raise ValueError(f"label credential: {where}/{key} must be a list")
    return value


def _text(node: Mapping[str, Any], key: str, where: str) -> str:
    value = node.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"label credential: {where}/{key} is missing or not a string")
    return value
