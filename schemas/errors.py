"""Exceptions of the ``schemas`` package.

::

    SchemaError
    ├── UnknownSchemaKind          validate() was asked for a kind it does not know
    ├── SchemaValidationError      a document broke its schema; .errors lists every FieldError
    ├── IdentifierError (ValueError)
    │   ├── InvalidUSCC            Unified Social Credit Code fails GB 32100-2015
    │   └── InvalidGTIN            GTIN fails its length or GS1 check digit
    └── NotGradable                a footprint cannot be graded under a rule; .reason is a code
"""

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem in a document: where (RFC 6901 JSON pointer) and what to do about it."""

    pointer: str
    reason: str


class SchemaError(Exception):
    """Root of the exceptions raised by ``schemas``."""


class UnknownSchemaKind(SchemaError, KeyError):
    """The schema kind named is not one of :data:`schemas.vocabulary.KINDS`."""


class SchemaValidationError(SchemaError):
    """A document does not conform; ``errors`` names every problem at once."""

    def __init__(self, kind: str, errors: list[FieldError]) -> None:
        self.kind = kind
        self.errors = errors
        shown = "; ".join(f"{e.pointer or '/'}: {e.reason}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"{kind}: {len(errors)} error(s): {shown}{more}")


class IdentifierError(SchemaError, ValueError):
    """An identifier is malformed; the message is the reason, fit for a FieldError."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class InvalidUSCC(IdentifierError):
    """A Unified Social Credit Code breaks GB 32100-2015."""


class InvalidGTIN(IdentifierError):
    """A GTIN has the wrong length, non-digits, or a wrong GS1 check digit."""


NOT_GRADABLE_REASONS: Final = (
    "invalid-footprint",
    "invalid-rule",
    "category-mismatch",
    "unit-mismatch",
    "boundary-mismatch",
    "data-quality-below-minimum",
    "rule-not-valid-at-time",
    "ratio-above-all-classes",
)


class NotGradable(SchemaError):
    """A footprint cannot be graded under a rule.

    ``reason`` is one of :data:`NOT_GRADABLE_REASONS` (machine-readable);
    ``detail`` is a sentence for a person.
    """

    def __init__(self, reason: str, detail: str) -> None:
        if reason not in NOT_GRADABLE_REASONS:
            raise ValueError(f"unknown NotGradable reason {reason!r}")
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")
