"""The verifier service: verify credentials, resolve scans, check badges, record misuse.

It composes the pure pieces: the check pipeline (:mod:`verifier.pipeline`), the
copy-detection rules (:mod:`verifier.misuse`) and the scan store. What it
needs from the rest of the deployment — finding labels, building a
verification context — comes in as plain callables (``verifier`` does not
import ``issuer``; ``app`` wires the two).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Engine, insert, select

from schemas.logentry import credential_digest
from verifier.binding import BadgeClaims
from verifier.misuse import Finding, LabelFacts, MisuseRules, Scan, evaluate
from verifier.pipeline import VerificationContext, verify_credential
from verifier.result import Verdict, Verification
from verifier.store.tables import alerts, scans


@dataclass(frozen=True)
class LabelRecord:
    """A label as the resolver knows it: its bundle, its grades and its serials."""

    label_number: str
    bundle: Mapping[str, Any]
    grades: tuple[Mapping[str, Any], ...] = ()
    issued_serials: frozenset[str] | None = None
    serial_range: tuple[str, str] | None = None
    recognitions: tuple[Mapping[str, str], ...] = ()

    @property
    def credential(self) -> dict[str, Any]:
        credential: dict[str, Any] = dict(self.bundle["verifiableCredential"])
        return credential


class LabelDirectory(Protocol):
    """Where the verifier finds labels (the issuer's store in a full deployment)."""

    def by_number(self, label_number: str) -> LabelRecord | None: ...

    def by_link(self, gtin: str, batch: str | None, serial: str | None) -> LabelRecord | None: ...

    def by_credential(self, credential_id: str) -> LabelRecord | None: ...


@dataclass(frozen=True)
class ScanOutcome:
    """One scan: the label, its verification, its grade's, and what the rules found."""

    record: LabelRecord
    verification: Verification
    grade: Verification | None
    grade_credential: Mapping[str, Any] | None
    findings: tuple[Finding, ...] = field(default=())

    @property
    def verdict(self) -> Verdict:
        """The one-glance verdict: a genuine label with findings shows as a warning."""
        if self.verification.verdict is Verdict.GENUINE and self.findings:
            return Verdict.WARNING
        return self.verification.verdict


class VerifierService:
    """Verification, scans, badges and alerts over a :class:`LabelDirectory`."""

    def __init__(
        self,
        *,
        engine: Engine,
        labels: LabelDirectory,
        context: Callable[[], VerificationContext],
        rules: MisuseRules,
        salt: bytes,
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.labels = labels
        self.context = context
        self.rules = rules
        self.salt = salt
        self.clock = clock

    def verify(
        self,
        credential: dict[str, Any],
        bundle: Mapping[str, Any] | None = None,
        claims: BadgeClaims | None = None,
    ) -> Verification:
        """Run the pipeline; without a bundle, a credential issued here is checked
        against its own log entry (found by id and digest)."""
        if bundle is None and isinstance(credential.get("id"), str):
            record = self.labels.by_credential(credential["id"])
            stored = None if record is None else _bundle_for(record, credential["id"])
            if stored is not None and credential_digest(
                stored["verifiableCredential"]
            ) == credential_digest(credential):
                bundle = stored
        return verify_credential(
            credential,
            bundle=None if bundle is None else dict(bundle),
            ctx=self.context(),
            claims=claims,
        )

    def scan(
        self,
        record: LabelRecord,
        *,
        serial: str | None,
        gtin: str | None,
        region: str | None,
        client: str,
    ) -> ScanOutcome:
        """Verify a scanned label, apply the copy rules, record the scan and any alerts."""
        verification = self.verify(record.credential, record.bundle)
        grade_verification = grade_credential = None
        if record.grades:
            latest = record.grades[-1]
            grade_credential = latest["verifiableCredential"]
            grade_verification = self.verify(dict(grade_credential), latest)
        now = self.clock()
        scan = Scan(record.label_number, serial, gtin, region, now)
        findings = evaluate(
            scan, self._earlier(record.label_number, serial), _facts(record), self.rules
        )
        outcome = ScanOutcome(
            record, verification, grade_verification, grade_credential, tuple(findings)
        )
        self._record(scan, client, outcome)
        return outcome

    def _earlier(self, label_number: str, serial: str | None) -> list[Scan]:
        if serial is None:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(scans)
                .where(scans.c.label_number == label_number, scans.c.serial == serial)
                .order_by(scans.c.at.desc(), scans.c.id.desc())
                .limit(max(self.rules.max_scans_per_serial, 1) + 1)
            ).all()
        return [Scan(r.label_number, r.serial, r.gtin, r.region, r.at) for r in reversed(rows)]

    def client_hash(self, client: str) -> str:
        """A salted hash of the client: stable per deployment, never the raw address."""
        return hashlib.sha256(self.salt + client.encode()).hexdigest()

    def _record(self, scan: Scan, client: str, outcome: ScanOutcome) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(scans).values(
                    label_number=scan.label_number,
                    serial=scan.serial,
                    gtin=scan.gtin,
                    region=scan.region,
                    client_hash=self.client_hash(client),
                    verdict=outcome.verdict.value,
                    at=scan.at,
                )
            )
            for finding in outcome.findings:
                conn.execute(
                    insert(alerts).values(
                        code=finding.code,
                        label_number=scan.label_number,
                        serial=scan.serial,
                        region=scan.region,
                        detail=finding.detail,
                        at=scan.at,
                    )
                )

    def record_unknown(self, gtin: str, serial: str | None, region: str | None) -> None:
        """A scan of a Digital Link that no label answers: possibly a fake."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(alerts).values(
                    code="not-issued",
                    label_number="-",
                    serial=serial,
                    region=region,
                    detail=f"GTIN {gtin} was scanned but no label was issued for it",
                    at=self.clock(),
                )
            )

    def alerts(self, limit: int = 100, code: str | None = None) -> list[dict[str, Any]]:
        """Newest alerts first (for the authority)."""
        query = select(alerts).order_by(alerts.c.id.desc()).limit(limit)
        if code is not None:
            query = query.where(alerts.c.code == code)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            {
                "code": r.code,
                "label": r.label_number,
                "serial": r.serial,
                "region": r.region,
                "detail": r.detail,
                "at": r.at.isoformat(),
            }
            for r in rows
        ]

    def badge(self, record: LabelRecord, claims: BadgeClaims) -> list[Verification]:
        """Verify a label against what a listing claims (the ``binding`` check).

        The label itself is checked (status, validity, log…); the claims are
        bound to its newest grade credential when it has one (which names the
        label, so GTIN, seller, value and grade are all compared), else to the
        label alone — a grade claimed without a grade credential is inflated.
        """
        if not record.grades:
            return [self.verify(record.credential, record.bundle, claims)]
        latest = record.grades[-1]
        return [
            self.verify(record.credential, record.bundle),
            self.verify(dict(latest["verifiableCredential"]), latest, claims),
        ]


def _bundle_for(record: LabelRecord, credential_id: str) -> Mapping[str, Any] | None:
    if record.credential.get("id") == credential_id:
        return record.bundle
    for grade in record.grades:
        if grade["verifiableCredential"].get("id") == credential_id:
            return grade
    return None


def _facts(record: LabelRecord) -> LabelFacts:
    subject = record.credential.get("credentialSubject") or {}
    product = subject.get("labelledProduct") or {}
    gtin = product.get("gtin")
    regions: Sequence[str] = subject.get("marketRegions") or ()
    return LabelFacts(
        label_number=record.label_number,
        granularity=str(product.get("granularity", "model")),
        gtins=frozenset({gtin} if isinstance(gtin, str) else set()),
        market_regions=frozenset(r for r in regions if isinstance(r, str)),
        issued_serials=record.issued_serials,
        serial_range=record.serial_range,
    )


def with_verdict(verification: Verification, verdict: Verdict) -> Verification:
    return replace(verification, verdict=verdict)
