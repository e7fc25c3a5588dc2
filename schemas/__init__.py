"""The carbon-label vocabulary: JSON Schemas, the JSON-LD context, validation, grading."""

from schemas.errors import (
    NOT_GRADABLE_REASONS,
    FieldError,
    IdentifierError,
    InvalidGTIN,
    InvalidUSCC,
    NotGradable,
    SchemaError,
    SchemaValidationError,
    UnknownSchemaKind,
)
from schemas.grading import (
    RATIO_PLACES,
    ClassBoundary,
    Footprint,
    GradeOutcome,
    grade,
    rule_digest,
)
from schemas.issuable import FUTURE_TOLERANCE, check_text, check_times
from schemas.validate import (
    check_gtin,
    check_uscc,
    schema_document,
    untp_dcc_schema_document,
    validate,
    validate_untp_dcc,
)
from schemas.vocabulary import (
    DCC_CONTEXTS,
    KINDS,
    LABEL_CONTEXT_URL,
    RECOGNITION_CONTEXTS,
    context_documents,
)

__all__ = [
    "DCC_CONTEXTS",
    "FUTURE_TOLERANCE",
    "KINDS",
    "LABEL_CONTEXT_URL",
    "NOT_GRADABLE_REASONS",
    "RATIO_PLACES",
    "RECOGNITION_CONTEXTS",
    "ClassBoundary",
    "FieldError",
    "Footprint",
    "GradeOutcome",
    "IdentifierError",
    "InvalidGTIN",
    "InvalidUSCC",
    "NotGradable",
    "SchemaError",
    "SchemaValidationError",
    "UnknownSchemaKind",
    "check_gtin",
    "check_text",
    "check_times",
    "check_uscc",
    "context_documents",
    "grade",
    "rule_digest",
    "schema_document",
    "untp_dcc_schema_document",
    "validate",
    "validate_untp_dcc",
]
