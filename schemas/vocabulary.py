"""Names of the carbon-label vocabulary: context URLs, credential and subject types.

The JSON-LD context at :data:`LABEL_CONTEXT_URL` (bundled as
``schemas/contexts/gdcl-v1.jsonld``) defines every term below with an absolute IRI
in :data:`VOCABULARY_NAMESPACE`. It is used after the W3C VC 2.0 context and the
UNTP Digital Conformity Credential context, in that order.
"""

import json
from importlib import resources
from typing import Any, Final

VC_CONTEXT_URL: Final = "https://www.w3.org/ns/credentials/v2"
UNTP_DCC_CONTEXT_URL: Final = "https://test.uncefact.org/vocabulary/untp/dcc/working/"
LABEL_CONTEXT_URL: Final = "https://registry.gd-carbon-label.example/contexts/gdcl/v1/"
VOCABULARY_NAMESPACE: Final = "https://registry.gd-carbon-label.example/vocabulary/gdcl/v1#"
SCHEMA_BASE_URL: Final = "https://registry.gd-carbon-label.example/schemas/v1/"

# `@context` of a label or grade credential (a UNTP DCC) and of a recognition credential.
DCC_CONTEXTS: Final = (VC_CONTEXT_URL, UNTP_DCC_CONTEXT_URL, LABEL_CONTEXT_URL)
RECOGNITION_CONTEXTS: Final = (VC_CONTEXT_URL, LABEL_CONTEXT_URL)

VERIFIABLE_CREDENTIAL: Final = "VerifiableCredential"
DIGITAL_CONFORMITY_CREDENTIAL: Final = "DigitalConformityCredential"
LABEL_CREDENTIAL_TYPE: Final = "CarbonLabelCredential"
GRADE_CREDENTIAL_TYPE: Final = "GradeResultCredential"
RECOGNITION_CREDENTIAL_TYPE: Final = "RecognitionCredential"

# credentialSubject types; the last of each tuple carries our type-scoped terms.
LABEL_SUBJECT_TYPES: Final = ("ConformityAttestation", "Attestation", "CarbonLabelAttestation")
GRADE_SUBJECT_TYPES: Final = ("ConformityAttestation", "Attestation", "GradeAttestation")
RECOGNITION_SUBJECT_TYPES: Final = ("RecognitionDecision",)

# Schema kinds accepted by `schemas.validate.validate`.
KIND_LABEL_CREDENTIAL: Final = "CarbonLabelCredential"
KIND_GRADE_CREDENTIAL: Final = "GradeResultCredential"
KIND_GRADING_RULE: Final = "GradingRule"
KIND_RECOGNITION_CREDENTIAL: Final = "RecognitionCredential"
KIND_LABEL_REQUEST: Final = "LabelRequest"
KINDS: Final = (
    KIND_LABEL_CREDENTIAL,
    KIND_GRADE_CREDENTIAL,
    KIND_GRADING_RULE,
    KIND_RECOGNITION_CREDENTIAL,
    KIND_LABEL_REQUEST,
)

BOUNDARIES: Final = ("cradle-to-gate", "cradle-to-grave")
LIFE_CYCLE_STAGES: Final = (
    "raw-material-acquisition",
    "manufacturing",
    "distribution-and-transport",
    "use",
    "end-of-life",
)
# Stages outside a cradle-to-gate boundary.
DOWNSTREAM_STAGES: Final = ("use", "end-of-life")
GRANULARITIES: Final = ("model", "batch", "item")
RECOGNITION_JURISDICTIONS: Final = ("HK", "MO")
REFERENCE_STANDARD_IDS: Final = ("urn:std:cn:GB/T24067-2024", "urn:iso:std:iso:14067:ed-1")


def context_documents() -> dict[str, dict[str, Any]]:
    """Our JSON-LD context documents by URL, parsed fresh on each call.

    For an offline document loader: ``{LABEL_CONTEXT_URL: {"@context": {...}}}``.
    """
    text = resources.files("schemas").joinpath("contexts", "gdcl-v1.jsonld").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return {LABEL_CONTEXT_URL: document}
