"""The verifier service: verify credentials, resolve scans, check badges, record misuse.

It composes the pure pieces: the check pipeline (:mod:`verifier.pipeline`), the
copy-detection rules (:mod:`verifier.misuse`) and the scan store. What it
needs from the rest of the deployment — finding labels, building a
verification context — comes in as plain callables (``verifier`` does not
import ``issuer``; ``app`` wires the two).

Two things keep a scan cheap without changing any answer:

- :class:`VerificationMemo`: the pipeline's answer is a function of its inputs
  (the exact credential bytes, proof included; the bundle's entry and receipt;
  the badge claims; the trust list in force; the status-list documents the
  resolver returns *now*; the keys the verification methods resolve to *now*)
  and of where ``now`` lies relative to the time stamps in those documents
  (``validFrom``, ``validUntil``, proof ``created``/``expires``). The memo keys
  on all of them, so a changed byte, a new status-list version, a rotated key,
  a new trust list or a crossed validity boundary is a miss and the pipeline
  runs again. Answers that depend on something else (a retrieval failure, a
  warning, a proof without ``created``) are never memoized.
- :class:`ScanRecorder`: scans and alerts are queued and written by one
  background thread, one transaction per flush (every ``interval`` seconds or
  ``batch`` rows); copy detection sees the scans still in the queue.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final, Protocol

from sqlalchemy import Engine, Select, insert, select

from credentials.errors import CredentialError
from credentials.vc import parse_datetime
from schemas.digitallink import DigitalLinkId
from verifier.binding import BadgeClaims
from verifier.misuse import Finding, LabelFacts, MisuseRules, Scan, evaluate
from verifier.pipeline import VerificationContext, verify_credential
from verifier.result import Outcome, Verdict, Verification
from verifier.store.tables import alerts, scans
from verifier.trustlist import TrustList

logger = logging.getLogger(__name__)


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

    def for_link(self, gtin: str, batch: str | None, serial: str | None) -> tuple[str, ...]:
        """The label numbers a Digital Link without ``?label=`` may mean, newest first."""
        ...

    def by_credential(self, credential_id: str) -> LabelRecord | None: ...


COPY_FINDINGS: Final = frozenset({"ghost-serial", "too-many-scans", "impossible-travel"})
"""Findings that say the scanned label is a counterfeit or a copy (see verifier.misuse)."""


@dataclass(frozen=True)
class LinkAnswer:
    """What a scanned Digital Link answers (:meth:`VerifierService.resolve_link`).

    ``records``: the one label the link names (``?label=``), or the labels it may
    mean, newest first; empty when none was issued, and then ``detail`` says why.
    ``named``: the link named its label (a printed label QR code).
    """

    records: tuple[LabelRecord, ...]
    detail: str | None = None
    named: bool = False

    @property
    def single(self) -> LabelRecord | None:
        """The label to show directly: the named one, or the only candidate."""
        return self.records[0] if len(self.records) == 1 else None


LINK_STATUSES: Final = {
    Verdict.GENUINE: "valid",
    Verdict.WARNING: "valid",
    Verdict.REVOKED: "revoked",
    Verdict.SUSPENDED: "suspended",
    Verdict.EXPIRED: "expired",
}
"""The status a label has in a GTIN's list of labels, by its verdict (else ``invalid``)."""


def _answers(record: LabelRecord, link: DigitalLinkId) -> bool:
    """Whether ``record`` is a label of the product ``link`` names (GTIN, batch, serial)."""
    entry = record.bundle.get("logEntry")
    products = entry.get("products") if isinstance(entry, Mapping) else None
    if not isinstance(products, Mapping) or products.get("gtin") != link.gtin14:
        return False
    for key in ("batch", "serial"):
        value = products.get(key)
        if value is not None and value != getattr(link, key):
            return False
    return True


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
        """The one-glance verdict.

        A ghost or copied serial (:data:`COPY_FINDINGS`) reads "do not trust this
        label" (``SUSPECT``, red) unless the label itself is already invalid or
        revoked; any other finding turns a genuine label into a warning (amber).
        """
        verdict = self.verification.verdict
        copied = any(f.code in COPY_FINDINGS for f in self.findings)
        if copied and verdict not in (Verdict.INVALID, Verdict.REVOKED):
            return Verdict.SUSPECT
        if verdict is Verdict.GENUINE and self.findings:
            return Verdict.WARNING
        return verdict


# -- memoized verification -------------------------------------------------------------

_TRANSIENT_REASONS: Final = frozenset(
    {
        "STATUS_RETRIEVAL_ERROR",
        "RULE_NOT_FOUND",
        "LABEL_NOT_FOUND",
        "VERIFICATION_METHOD_ERROR",
        "NO_TRUST_LIST",
    }
)
"""Failures that say more about the resolvers at that moment than about the credential."""


class _Same:
    """Hashes and compares by identity, and keeps ``value`` alive while a key holds it
    (so its ``id`` cannot be reused by another object)."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.value is self.value


def fingerprint(document: Any) -> bytes:
    """SHA-256 of one deterministic JSON text of ``document`` (keys sorted, no NaN).

    Distinct JSON values give distinct texts, so equal fingerprints mean equal
    documents, proof included (a tuple is written as a list: documents are JSON
    values). Raises TypeError/ValueError for values JSON cannot hold.
    """
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


@functools.lru_cache(maxsize=4096)
def _instant(value: str) -> datetime:
    return parse_datetime(value, "time")


class _NotMemoizable(Exception):
    """An input the memo cannot key on; the pipeline runs without the memo."""


def _proofs(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    proof = document.get("proof")
    proofs = proof if isinstance(proof, list) else [proof]
    found = [p for p in proofs if isinstance(p, Mapping) and "created" in p]
    if not found or len(found) != len(proofs):
        raise _NotMemoizable("a proof without created makes the issuer check depend on now")
    return found


def _signs(
    document: Mapping[str, Any], proofs: list[Mapping[str, Any]], now: datetime
) -> tuple[int | None, ...]:
    """Where ``now`` lies relative to every time stamp the checks compare it with."""
    stamps = [document.get("validFrom"), document.get("validUntil")]
    for proof in proofs:
        stamps += [proof.get("created"), proof.get("expires")]
    signs: list[int | None] = []
    for stamp in stamps:
        if stamp is None:
            signs.append(None)
            continue
        if not isinstance(stamp, str):
            raise _NotMemoizable("a time stamp that is not a string")
        try:
            instant = _instant(stamp)
        except CredentialError as exc:
            raise _NotMemoizable(str(exc)) from exc
        signs.append((now > instant) - (now < instant))
    return tuple(signs)


def _methods(proofs: list[Mapping[str, Any]], ctx: VerificationContext) -> tuple[Hashable, ...]:
    """The keys and relationships the proofs' verification methods resolve to now."""
    resolved: list[Hashable] = []
    for proof in proofs:
        method_id = proof.get("verificationMethod")
        if not isinstance(method_id, str):
            raise _NotMemoizable("a proof without a verification method")
        try:
            method = ctx.resolve_method(method_id)
        except Exception as exc:  # the resolver's failure: the pipeline reports it
            raise _NotMemoizable(str(exc)) from exc
        resolved.append(
            (
                method.id,
                method.controller,
                method.relationships,
                method.public_key.public_bytes_raw(),
            )
        )
    return tuple(resolved)


_trust_keys: OrderedDict[_Same, Hashable] = OrderedDict()
_trust_keys_lock = threading.Lock()


def _trust_key(trust_list: TrustList | None) -> Hashable:
    """What the checks read from a trust list, by value: a re-signed list with the same
    issuers, logs and witnesses keeps the memo's answers (its own validity is checked
    when it is loaded)."""
    if trust_list is None:
        return None
    same = _Same(trust_list)
    with _trust_keys_lock:
        found = _trust_keys.get(same)
        if found is None:
            found = (
                trust_list.id,
                trust_list.issuers,
                trust_list.logs,
                trust_list.witnesses,
                trust_list.witness_quorum,
            )
            _trust_keys[same] = found
            while len(_trust_keys) > 8:
                _trust_keys.popitem(last=False)
        return found


def verification_key(
    credential: Mapping[str, Any],
    bundle: Mapping[str, Any] | None,
    claims: BadgeClaims | None,
    ctx: VerificationContext,
) -> Hashable:
    """Everything :func:`verify_credential` depends on, for ``credential`` at ``ctx.now``.

    Raises _NotMemoizable when an input cannot be keyed (then nothing is cached).
    """
    try:
        proofs = _proofs(credential)
        parts: list[Hashable] = [
            fingerprint(credential),
            None
            if bundle is None
            else fingerprint([bundle.get("logEntry"), bundle.get("receipt")]),
            None if claims is None else repr(claims),  # Decimal("1.0") == Decimal("1.00")
            _trust_key(ctx.trust_list),
            ctx.require_log,
            _signs(credential, proofs, ctx.now),
            _methods(proofs, ctx),
        ]
    except (TypeError, ValueError) as exc:
        raise _NotMemoizable(str(exc)) from exc
    raw = credential.get("credentialStatus")
    entries = raw if isinstance(raw, list) else [] if raw is None else [raw]
    seen: set[str] = set()
    for entry in entries:
        url = entry.get("statusListCredential") if isinstance(entry, Mapping) else None
        if not isinstance(url, str) or url in seen:
            continue
        seen.add(url)
        try:
            document = ctx.status_list(url)
        except Exception as exc:  # a retrieval failure: the pipeline reports it
            raise _NotMemoizable(str(exc)) from exc
        if not isinstance(document, Mapping):
            raise _NotMemoizable("a status list that is not an object")
        list_proofs = _proofs(document)
        parts.append(
            (
                url,
                _Same(document),
                _signs(document, list_proofs, ctx.now),
                _methods(list_proofs, ctx),
            )
        )
    key = tuple(parts)
    try:
        hash(key)
    except TypeError as exc:
        raise _NotMemoizable(str(exc)) from exc
    return key


def memoizable(verification: Verification) -> bool:
    """False for answers that a retry might change (retrieval failures, warnings)."""
    if verification.warnings:
        return False
    return not any(
        c.outcome is Outcome.FAILED and c.reason in _TRANSIENT_REASONS for c in verification.checks
    )


class VerificationMemo:
    """A bounded LRU of pipeline answers by :func:`verification_key` (thread-safe)."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, Verification] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Verification | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: Hashable, verification: Verification) -> None:
        with self._lock:
            self._entries[key] = verification
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


# -- batched scan recording -------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    """A queued scan (with its client hash and verdict) or alert."""

    table: str
    values: Mapping[str, Any]


class ScanRecorder:
    """Writes scans and alerts in batches from one background thread.

    ``record`` queues; the thread writes everything queued in one transaction
    every ``interval`` seconds, or sooner once ``batch`` rows wait. A row stays
    visible through :meth:`pending` until its transaction has committed, so
    copy detection never misses a scan. A failed write is retried on the next
    flush; nothing is dropped. :meth:`close` flushes and stops the thread.
    """

    def __init__(self, engine: Engine, *, interval: float = 0.1, batch: int = 500) -> None:
        self.engine = engine
        self.interval = interval
        self.batch = batch
        self._queue: list[_Row] = []
        self._lock = threading.Lock()
        self._commit = threading.Lock()
        """Held while a batch commits and leaves the queue (see :meth:`earlier`)."""
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    def record(self, rows: Sequence[_Row]) -> None:
        with self._lock:
            self._queue.extend(rows)
            waiting = len(self._queue)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="scan-recorder", daemon=True)
                self._thread.start()
            closed = self._closed
        if closed:
            self.flush()
        elif waiting >= self.batch:
            self._wake.set()

    def earlier(self, read: Callable[[], list[Scan]], label_number: str, serial: str) -> list[Scan]:
        """``read()`` (the stored scans of a serial) plus the queued ones, oldest first.

        Holding the commit lock, a batch is either committed and gone from the
        queue or not yet committed and still queued: never both, never neither.
        """
        with self._commit:
            stored = read()
            with self._lock:
                queued = [
                    Scan(
                        r.values["label_number"],
                        r.values["serial"],
                        r.values["gtin"],
                        r.values["region"],
                        r.values["at"],
                    )
                    for r in self._queue
                    if r.table == "scans"
                    and r.values["label_number"] == label_number
                    and r.values["serial"] == serial
                ]
        return sorted([*stored, *queued], key=lambda s: s.at)

    def flush(self) -> int:
        """Write everything queued now, in one transaction; returns the rows written."""
        with self._commit:
            with self._lock:
                taken = list(self._queue)
            if not taken:
                return 0
            scan_rows = [dict(r.values) for r in taken if r.table == "scans"]
            alert_rows = [dict(r.values) for r in taken if r.table == "alerts"]
            with self.engine.begin() as conn:
                if scan_rows:
                    conn.execute(insert(scans), scan_rows)
                if alert_rows:
                    conn.execute(insert(alerts), alert_rows)
            with self._lock:
                del self._queue[: len(taken)]
        return len(taken)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the database failed: keep the rows, retry next time
                logger.exception("recording %d scans/alerts failed; retrying", len(self._queue))
            with self._lock:
                if self._closed:
                    self._thread = None
                    return

    def close(self) -> None:
        """Flush, then stop the thread; later records are written synchronously."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=10)
        self.flush()


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
        memo: VerificationMemo | None = None,
        recorder: ScanRecorder | None = None,
    ) -> None:
        self.engine = engine
        self.labels = labels
        self.context = context
        self.rules = rules
        self.salt = salt
        self.clock = clock
        self.memo = memo if memo is not None else VerificationMemo()
        self.recorder = recorder if recorder is not None else ScanRecorder(engine)

    def verify(
        self,
        credential: dict[str, Any],
        bundle: Mapping[str, Any] | None = None,
        claims: BadgeClaims | None = None,
    ) -> Verification:
        """Run the pipeline (through the memo) on ``credential``, the document given.

        Without a bundle, a credential whose id was issued here is checked against
        the log entry and receipt stored for that id: the digest of *this* document
        must be the logged one (``DIGEST_MISMATCH`` otherwise), so an altered copy
        of a genuine credential fails the log check by name. The stored document is
        never verified in its place.
        """
        if bundle is None and isinstance(credential.get("id"), str):
            record = self.labels.by_credential(credential["id"])
            stored = None if record is None else _bundle_for(record, credential["id"])
            if stored is not None:
                bundle = {
                    "verifiableCredential": credential,
                    "logEntry": stored.get("logEntry"),
                    "receipt": stored.get("receipt"),
                }
        ctx = self.context()
        try:
            key = verification_key(credential, bundle, claims, ctx)
        except _NotMemoizable:
            key = None
        if key is not None:
            found = self.memo.get(key)
            if found is not None:
                return found
        verification = verify_credential(
            credential,
            bundle=None if bundle is None else dict(bundle),
            ctx=ctx,
            claims=claims,
        )
        if key is not None and memoizable(verification):
            self.memo.put(key, verification)
        return verification

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
        """The latest scans of a serial, stored or still queued, oldest first."""
        if serial is None:
            return []
        limit = max(self.rules.max_scans_per_serial, 1) + 1

        def stored() -> list[Scan]:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(scans)
                    .where(scans.c.label_number == label_number, scans.c.serial == serial)
                    .order_by(scans.c.at.desc(), scans.c.id.desc())
                    .limit(limit)
                ).all()
            return [Scan(r.label_number, r.serial, r.gtin, r.region, r.at) for r in reversed(rows)]

        return self.recorder.earlier(stored, label_number, serial)[-limit:]

    def client_hash(self, client: str) -> str:
        """A salted hash of the client: stable per deployment, never the raw address."""
        return hashlib.sha256(self.salt + client.encode()).hexdigest()

    def _record(self, scan: Scan, client: str, outcome: ScanOutcome) -> None:
        rows = [
            _Row(
                "scans",
                {
                    "label_number": scan.label_number,
                    "serial": scan.serial,
                    "gtin": scan.gtin,
                    "region": scan.region,
                    "client_hash": self.client_hash(client),
                    "verdict": outcome.verdict.value,
                    "at": scan.at,
                },
            )
        ]
        rows += [
            _Row(
                "alerts",
                {
                    "code": finding.code,
                    "label_number": scan.label_number,
                    "serial": scan.serial,
                    "region": scan.region,
                    "detail": finding.detail,
                    "at": scan.at,
                },
            )
            for finding in outcome.findings
        ]
        self.recorder.record(rows)

    def resolve_link(self, link: DigitalLinkId) -> LinkAnswer:
        """The label(s) a scanned GS1 Digital Link answers.

        With ``?label=`` (the URI printed on a label): that label, whatever its
        status, if it was issued for the link's GTIN (and batch and serial, when it
        has them); else nothing. Without it (a retail barcode, a bare GTIN): every
        candidate :meth:`LabelDirectory.for_link` finds, so the caller shows one only
        when it is the only one and lists them otherwise, never another label's
        verdict in place of the one printed.
        """
        if link.label is not None:
            record = self.labels.by_number(link.label)
            if record is None:
                return LinkAnswer((), f"label {link.label} was never issued", named=True)
            if not _answers(record, link):
                return LinkAnswer(
                    (),
                    f"label {link.label} was not issued for GTIN {link.gtin14}"
                    + (f" batch {link.batch}" if link.batch is not None else "")
                    + (f" serial {link.serial}" if link.serial is not None else ""),
                    named=True,
                )
            return LinkAnswer((record,), named=True)
        numbers = self.labels.for_link(link.gtin14, link.batch, link.serial)
        records = tuple(r for r in map(self.labels.by_number, numbers) if r is not None)
        if not records:
            return LinkAnswer((), f"no label was issued for GTIN {link.gtin14}")
        return LinkAnswer(records)

    def link_status(self, record: LabelRecord) -> str:
        """A label's status for a GTIN's list of labels (:data:`LINK_STATUSES`), from the
        same verification its scan page shows."""
        verdict = self.verify(record.credential, record.bundle).verdict
        return LINK_STATUSES.get(verdict, "invalid")

    def record_unknown(self, gtin: str, serial: str | None, region: str | None) -> None:
        """A scan of a Digital Link that no label answers: possibly a fake."""
        self.recorder.record(
            [
                _Row(
                    "alerts",
                    {
                        "code": "not-issued",
                        "label_number": "-",
                        "serial": serial,
                        "region": region,
                        "detail": f"GTIN {gtin} was scanned but no label was issued for it",
                        "at": self.clock(),
                    },
                )
            ]
        )

    def flush(self) -> int:
        """Write the queued scans and alerts now (see :class:`ScanRecorder`)."""
        return self.recorder.flush()

    def close(self) -> None:
        """Flush and stop the recorder (the app's shutdown)."""
        self.recorder.close()

    def alerts(
        self,
        limit: int = 100,
        code: str | None = None,
        label_numbers: Select[Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Newest alerts first, including those still queued.

        ``label_numbers`` (a SELECT of one column in this database) keeps only the
        alerts about those labels: an issuer organisation's own. None: every alert,
        including scans of GTINs no label answers (for the label authority).
        """
        self.flush()
        query = select(alerts).order_by(alerts.c.id.desc()).limit(limit)
        if code is not None:
            query = query.where(alerts.c.code == code)
        if label_numbers is not None:
            query = query.where(alerts.c.label_number.in_(label_numbers.scalar_subquery()))
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

    def badge_document(
        self, credential: dict[str, Any], record: LabelRecord | None, claims: BadgeClaims
    ) -> list[Verification]:
        """Verify the credential a listing submitted against what it claims.

        ``credential`` itself is verified — its proof, its digest against the log
        entry stored for its id (:meth:`verify`), status, trust and the claims —
        never the stored credential of the same id. ``record`` is the label that id
        belongs to (None: not issued here, then the log check fails). A submitted
        label with grades is checked as a label, and the claims are bound to its
        newest grade as in :meth:`badge`; a submitted grade is checked with the
        claims after its label (whose status and validity it depends on).
        """
        if record is None:
            return [self.verify(credential, None, claims)]
        if credential.get("id") == record.credential.get("id"):
            if not record.grades:
                return [self.verify(credential, None, claims)]
            latest = record.grades[-1]
            return [
                self.verify(credential),
                self.verify(dict(latest["verifiableCredential"]), latest, claims),
            ]
        return [
            self.verify(record.credential, record.bundle),
            self.verify(credential, None, claims),
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
