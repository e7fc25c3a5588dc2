"""What a verification answers: named checks, each passed, failed or skipped, and a verdict.

The checks, in the order they run: ``structure`` (schema), ``proof`` (Data
Integrity), ``issuer`` (trust list), ``status`` (Bitstring Status List),
``validity`` (validFrom/validUntil), ``log`` (receipt against a trusted
checkpoint), ``grade`` (recomputed from the rule) and ``binding`` (what the
label is shown on).

A *label bundle* is what a QR code resolves to and what a verifier checks::

    {"verifiableCredential": {...signed VC...},
     "logEntry": {...the log entry object (schemas.logentry)...},
     "receipt": {...ledger.receipt.Receipt.to_json()...}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["CHECK_NAMES", "Check", "Outcome", "Verdict", "Verification"]

CHECK_NAMES = ("structure", "proof", "issuer", "status", "validity", "log", "grade", "binding")


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class Verdict(StrEnum):
    """The one-glance answer shown at the top of the scan page."""

    GENUINE = "genuine"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    NOT_FOUND = "not-found"
    WARNING = "warning"
    INVALID = "invalid"
    SUSPECT = "suspect"
    """The scan page's verdict for a ghost or copied serial ("do not trust this label");
    the pipeline never gives it (see ``verifier.service.ScanOutcome.verdict``)."""


@dataclass(frozen=True)
class Check:
    """One named check: ``reason`` is a machine-readable code, ``message`` a sentence."""

    name: str
    outcome: Outcome
    message: str
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.name, "outcome": self.outcome.value}
        if self.reason is not None:
            out["reason"] = self.reason
        out["message"] = self.message
        return out


@dataclass(frozen=True)
class Verification:
    """The result of running the pipeline on one credential."""

    checks: tuple[Check, ...]
    verdict: Verdict
    warnings: tuple[str, ...] = field(default=())

    @property
    def verified(self) -> bool:
        return all(c.outcome is not Outcome.FAILED for c in self.checks)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def to_vc_api(self) -> dict[str, Any]:
        """VC-API verify response: ``{verified, checks, warnings, errors}``."""
        body: dict[str, Any] = {
            "verified": self.verified,
            "verdict": self.verdict.value,
            "checks": [c.name for c in self.checks if c.outcome is Outcome.PASSED],
            "results": [c.to_json() for c in self.checks],
            "warnings": list(self.warnings),
        }
        if not self.verified:
            body["errors"] = [c.to_json() for c in self.checks if c.outcome is Outcome.FAILED]
        return body
