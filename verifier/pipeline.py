"""The verification pipeline: every named check on one credential, and a verdict.

:func:`verify_credential` runs, in order (``verifier.result.CHECK_NAMES``):

``structure``  VC 2.0 rules (``credentials.vc.check_structure``) and the JSON Schema of
               the carbon-label kind the ``type`` names (``schemas.validate``).
``proof``      the Data Integrity proof (assertionMethod, at ``now``), made by a method
               controlled by the credential's issuer (else ``SIGNER_NOT_ISSUER``).
``issuer``     the issuer is on the trust list, was active when the proof was
               ``created``, and is in scope for the credential's types and product
               category (``labelledProduct.productCategory`` of a label,
               ``productCategory`` of a grade). Skipped without a trust list.
``status``     each ``credentialStatus`` entry: the status-list credential is fetched
               through the configured resolver, its proof, issuer (= the credential's)
               and validity are checked, then the bit is read (Bitstring Status List
               §3.2). ``REVOKED`` / ``SUSPENDED``; ``STATUS_RETRIEVAL_ERROR`` if the
               list cannot be had. A label or grade credential must carry exactly one
               ``BitstringStatusListEntry`` for ``revocation`` and one for
               ``suspension`` (else ``STATUS_ENTRIES_MISSING``: a label its issuer
               cannot revoke is not a label), and with a log entry that names the
               allocated position (``statusList``, ``statusIndex``) the revocation
               entry must be that one (else ``STATUS_ENTRY_MISMATCH``). Both make the
               verdict ``INVALID``.
``validity``   ``validFrom <= now <= validUntil`` (``EXPIRED``, ``NOT_YET_VALID``).
``log``        the label bundle's log entry is an ``issue`` entry for this credential
               id, issuer and digest; its canonical bytes (``schemas.logentry``) are
               the leaf the receipt proves into a checkpoint signed by the trust
               list's key for that origin (with its witness quorum); the checkpoint
               is consistent with what this verifier saw before (``CHECKPOINT_FORK``,
               ``INCONSISTENT_CHECKPOINT``). ``NO_RECEIPT`` without a bundle when
               the log is required, else skipped.
``grade``      for a GradeResultCredential: the rule and the graded label are fetched,
               their digests must match the ones the grade names, and
               ``schemas.grading.grade`` (at the grade's ``validFrom``) must give the
               same grade and ratio. Skipped for other credentials.
``binding``    only with ``claims``: :func:`verifier.binding.check_binding`.

Verdict: ``INVALID`` if structure, proof, issuer or log failed, or the status entries
of a label or grade are missing or not the allocated ones; else ``REVOKED``,
``SUSPENDED`` or ``EXPIRED`` from the status and validity checks; else ``WARNING``
if any other check failed (status retrieval, not yet valid, grade, binding) or a
warning was raised; else ``GENUINE``.

A bad credential never raises: each failure is a failed Check with a reason
code and a sentence. Exceptions raised by the injected resolvers
(``status_list``, ``grading_rule``, ``label_credential``) count as retrieval
failures; anything else that escapes is a bug.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, Final

from credentials.canonical import canonicalize_jcs
from credentials.dataintegrity import ResolvedVerificationMethod, VerifiedProof, verify
from credentials.errors import (
    CredentialError,
    ProofVerificationError,
    StatusListError,
    VerificationError,
)
from credentials.statuslist import read_status
from credentials.vc import (
    check_structure,
    check_validity,
    credential_types,
    issuer_id,
    parse_datetime,
)
from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.errors import LedgerError, NoteError
from ledger.note import parse_note
from ledger.receipt import Receipt, verify_receipt
from schemas.errors import NotGradable, SchemaValidationError
from schemas.grading import grade, rule_digest
from schemas.logentry import credential_digest, entry_bytes, parse_entry
from schemas.validate import validate
from schemas.vocabulary import GRADE_CREDENTIAL_TYPE, KINDS, LABEL_CREDENTIAL_TYPE
from verifier.binding import BadgeClaims, check_binding
from verifier.checkpoints import CheckpointMemory
from verifier.errors import CheckFailed
from verifier.result import Check, Outcome, Verdict, Verification
from verifier.trustlist import TrustList

__all__ = ["FATAL_CHECKS", "UNREVOCABLE_REASONS", "VerificationContext", "verify_credential"]

FATAL_CHECKS: Final = frozenset({"structure", "proof", "issuer", "log"})
UNREVOCABLE_REASONS: Final = frozenset({"STATUS_ENTRIES_MISSING", "STATUS_ENTRY_MISMATCH"})
"""Status failures that make the verdict INVALID: the issuer could not revoke the credential."""
_STATUS_OWNED_TYPES: Final = (LABEL_CREDENTIAL_TYPE, GRADE_CREDENTIAL_TYPE)
_STATUS_PURPOSES: Final = ("revocation", "suspension")
_GENERIC_TYPES: Final = frozenset({"VerifiableCredential", "DigitalConformityCredential"})


def jcs(value: Any) -> bytes:
    """RFC 8785 bytes (orjson where byte-identical, see credentials.canonical); ValueError
    for a value JCS cannot represent, as ``rfc8785`` raises."""
    try:
        return canonicalize_jcs(value)
    except CredentialError as exc:
        raise ValueError(str(exc)) from exc


def _nothing(*_: str) -> dict[str, Any] | None:
    return None


def _no_window(_: str) -> tuple[datetime, datetime | None] | None:
    return None


@dataclass(frozen=True)
class VerificationContext:
    """Everything a verification depends on besides the credential: time, trust, resolvers.

    ``resolve_method`` maps a verification method id to its key (e.g.
    ``DidResolver.resolve_verification_method``); ``status_list(url)`` returns the
    status-list credential at ``url`` through a configured resolver (never a raw
    fetch of input); ``consistency(origin, size1, size2)`` returns a consistency
    proof of that log (None: offline); ``grading_rule(id, version)`` and
    ``label_credential(id)`` return the document or None when unknown.
    ``key_window(method_id)`` returns when that key was in service — (from,
    until or None) — or None when unknown; a proof created outside it fails the
    issuer check (a rotated-out key signing after its retirement).
    """

    now: datetime
    trust_list: TrustList | None
    resolve_method: Callable[[str], ResolvedVerificationMethod]
    status_list: Callable[[str], dict[str, Any]]
    checkpoints: CheckpointMemory
    consistency: Callable[[str, int, int], list[bytes]] | None = None
    grading_rule: Callable[[str, str], dict[str, Any] | None] = _nothing
    label_credential: Callable[[str], dict[str, Any] | None] = _nothing
    key_window: Callable[[str], tuple[datetime, datetime | None] | None] = _no_window
    require_log: bool = True


class _Skipped(Exception):
    def __init__(self, message: str, reason: str | None = None) -> None:
        self.reason = reason
        super().__init__(message)


def _get(document: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(document, Mapping):
            return None
        document = document.get(name)
    return document


@dataclass
class _Run:
    """The state of one verification: inputs, what earlier checks established, results."""

    credential: Mapping[str, Any]
    bundle: Mapping[str, Any] | None
    ctx: VerificationContext
    claims: BadgeClaims | None
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    proof: VerifiedProof | None = None
    label: Mapping[str, Any] | None = None
    rule: Mapping[str, Any] | None = None

    @property
    def types(self) -> list[str]:
        return credential_types(self.credential)

    def run(self, name: str, check: Callable[[], str]) -> None:
        try:
            message = check()
        except _Skipped as skipped:
            self.checks.append(Check(name, Outcome.SKIPPED, str(skipped), skipped.reason))
        except VerificationError as exc:
            self.checks.append(Check(name, Outcome.FAILED, str(exc), exc.reason))
        else:
            self.checks.append(Check(name, Outcome.PASSED, message))

    # --- structure -------------------------------------------------------------------

    def structure(self) -> str:
        check_structure(self.credential)
        kinds = [t for t in self.types if t in KINDS]
        for kind in kinds:
            try:
                validate(kind, self.credential)
            except SchemaValidationError as exc:
                raise CheckFailed("structure", "SCHEMA_INVALID", str(exc)) from exc
        if not kinds:
            return "a well-formed VC 2.0 credential (no carbon-label schema for its type)"
        return f"a well-formed {', '.join(kinds)}"

    # --- proof -----------------------------------------------------------------------

    def proof_check(self) -> str:
        verified = _verify_proof(self.credential, self.ctx)
        issuer = issuer_id(self.credential)
        if verified.verification_method.controller != issuer:
            raise CheckFailed(
                "proof",
                "SIGNER_NOT_ISSUER",
                f"signed by {verified.verification_method.controller}, but the issuer is {issuer}",
            )
        self.proof = verified
        return f"signed by {verified.verification_method.id} ({verified.cryptosuite})"

    # --- issuer ----------------------------------------------------------------------

    def issuer_check(self) -> str:
        trust_list = self.ctx.trust_list
        if trust_list is None:
            raise _Skipped("no trust list is configured", "NO_TRUST_LIST")
        if self.proof is None:
            raise _Skipped("the proof did not verify, so the signer and signing time are unknown")
        did = issuer_id(self.credential)
        trusted = trust_list.issuer(did)
        if trusted is None:
            raise CheckFailed(
                "issuer", "ISSUER_NOT_TRUSTED", f"{did} is not on trust list {trust_list.id}"
            )
        when = self.proof.created
        if when is None:
            when = self.ctx.now
            self.warnings.append("the proof has no creation time; issuer standing checked at now")
        if not trusted.active_at(when):
            until = trusted.valid_until.isoformat() if trusted.valid_until else "open end"
            raise CheckFailed(
                "issuer",
                "ISSUER_NOT_ACTIVE",
                f"{trusted.name} ({did}) was not an accredited issuer when it signed, at "
                f"{when.isoformat()} (accredited {trusted.valid_from.isoformat()} to {until})",
            )
        window = self.ctx.key_window(self.proof.verification_method.id)
        if window is not None and (
            when < window[0] or (window[1] is not None and when >= window[1])
        ):
            retired = window[1].isoformat() if window[1] is not None else "open end"
            raise CheckFailed(
                "issuer",
                "KEY_NOT_IN_SERVICE",
                f"key {self.proof.verification_method.id} was in service from "
                f"{window[0].isoformat()} to {retired}, not at {when.isoformat()}",
            )
        specific = [t for t in self.types if t not in _GENERIC_TYPES]
        outside = [t for t in specific if t not in trusted.scopes.credential_types]
        if not specific or outside:
            raise CheckFailed(
                "issuer",
                "ISSUER_OUT_OF_SCOPE",
                f"{trusted.name} may not issue {', '.join(outside or self.types)}",
            )
        category = _product_category(self.credential)
        if category is not None and category not in trusted.scopes.product_categories:
            raise CheckFailed(
                "issuer",
                "ISSUER_OUT_OF_SCOPE",
                f"{trusted.name} is not accredited for product category {category}",
            )
        return f"{trusted.name} ({trusted.jurisdiction}) is accredited for this credential"

    # --- status ----------------------------------------------------------------------

    def status_check(self) -> str:
        raw = self.credential.get("credentialStatus")
        if any(t in self.types for t in _STATUS_OWNED_TYPES):
            self._owned_status_entries(raw)
        if raw is None:
            raise _Skipped("the credential has no credentialStatus")
        entries = raw if isinstance(raw, list) else [raw]
        set_purposes: list[str] = []
        fetched: dict[str, dict[str, Any]] = {}
        for entry in entries:
            url = _get(entry, "statusListCredential")
            if not isinstance(url, str) or not url:
                raise CheckFailed(
                    "status", "MALFORMED_VALUE_ERROR", "a credentialStatus entry names no list"
                )
            if url not in fetched:
                fetched[url] = self._status_list(url)
            try:
                if read_status(entry, fetched[url]):
                    set_purposes.append(str(entry["statusPurpose"]))
            except StatusListError as exc:
                raise CheckFailed("status", exc.code, str(exc)) from exc
        if "revocation" in set_purposes:
            raise CheckFailed("status", "REVOKED", "the issuer has revoked this credential")
        if "suspension" in set_purposes:
            raise CheckFailed("status", "SUSPENDED", "the issuer has suspended this credential")
        return f"not revoked or suspended ({len(entries)} status entries checked)"

    def _owned_status_entries(self, raw: Any) -> None:
        """A label or grade carries exactly its issuer's revocation and suspension entries.

        Raises CheckFailed ``STATUS_ENTRIES_MISSING`` (not exactly one
        ``BitstringStatusListEntry`` per purpose, or entries of other purposes) and
        ``STATUS_ENTRY_MISMATCH`` (the revocation entry is not the position the log
        entry records). That each list is published and signed by the issuer is
        checked when it is read (:meth:`_status_list`).
        """
        kind = next(t for t in _STATUS_OWNED_TYPES if t in self.types)
        entries = raw if isinstance(raw, list) else [] if raw is None else [raw]
        found: dict[str, Mapping[str, Any]] = {}
        for entry in entries:
            purpose = _get(entry, "statusPurpose")
            if (
                not isinstance(entry, Mapping)
                or entry.get("type") != "BitstringStatusListEntry"
                or purpose not in _STATUS_PURPOSES
                or purpose in found
            ):
                found = {}
                break
            found[str(purpose)] = entry
        missing = [p for p in _STATUS_PURPOSES if p not in found]
        if missing or len(entries) != len(_STATUS_PURPOSES):
            raise CheckFailed(
                "status",
                "STATUS_ENTRIES_MISSING",
                f"a {kind} must carry exactly one BitstringStatusListEntry for revocation and "
                f"one for suspension, allocated by its issuer; this one has {len(entries)} "
                f"status entries{' (missing ' + ', '.join(missing) + ')' if missing else ''}",
            )
        logged = _get(self.bundle, "logEntry")
        logged_list, logged_index = _get(logged, "statusList"), _get(logged, "statusIndex")
        if logged_list is None or logged_index is None:
            return
        revocation = found["revocation"]
        if revocation.get("statusListCredential") != logged_list or str(
            revocation.get("statusListIndex")
        ) != str(logged_index):
            raise CheckFailed(
                "status",
                "STATUS_ENTRY_MISMATCH",
                f"the revocation entry ({revocation.get('statusListCredential')} #"
                f"{revocation.get('statusListIndex')}) is not the position its log entry "
                f"allocated ({logged_list} #{logged_index})",
            )

    def _status_list(self, url: str) -> dict[str, Any]:
        try:
            document = self.ctx.status_list(url)
        except Exception as exc:  # the configured resolver's failure: retrieval error
            raise CheckFailed(
                "status",
                StatusListError.STATUS_RETRIEVAL_ERROR,
                f"the status list {url} could not be retrieved: {exc}",
            ) from exc
        failed = StatusListError.STATUS_VERIFICATION_ERROR
        try:
            verified = _verify_proof(document, self.ctx)
            list_issuer = issuer_id(document)
            check_validity(document, self.ctx.now)
        except VerificationError as exc:
            raise CheckFailed(
                "status", failed, f"the status list {url} does not verify: {exc}"
            ) from exc
        issuer = issuer_id(self.credential)
        if list_issuer != issuer or verified.verification_method.controller != issuer:
            raise CheckFailed(
                "status", failed, f"the status list {url} is not signed by the issuer {issuer}"
            )
        return document

    # --- validity --------------------------------------------------------------------

    def validity_check(self) -> str:
        check_validity(self.credential, self.ctx.now)
        return f"valid at {self.ctx.now.isoformat()}"

    # --- log -------------------------------------------------------------------------

    def log_check(self) -> str:
        if self.bundle is None:
            if self.ctx.require_log:
                raise CheckFailed("log", "NO_RECEIPT", "no log receipt came with the credential")
            raise _Skipped("no log receipt came with the credential", "NO_RECEIPT")
        trust_list = self.ctx.trust_list
        if trust_list is None:
            if self.ctx.require_log:
                raise CheckFailed("log", "NO_TRUST_LIST", "no trusted log keys are configured")
            raise _Skipped("no trust list is configured, so no log key is trusted")
        leaf = self._entry_leaf()
        try:
            receipt = Receipt.from_json(self.bundle.get("receipt"))
            origin = parse_note(receipt.checkpoint).text.split("\n", 1)[0]
        except LedgerError as exc:
            raise CheckFailed("log", "MALFORMED_RECEIPT", str(exc)) from exc
        log_key = trust_list.log_verifier(origin)
        if log_key is None:
            raise CheckFailed("log", "UNTRUSTED_LOG", f"log {origin!r} is not on the trust list")
        try:
            open_checkpoint(receipt.checkpoint, log_key)
        except NoteError as exc:
            raise CheckFailed(
                "log",
                "CHECKPOINT_SIGNATURE_INVALID",
                f"the checkpoint is not signed by the trusted key of {origin}: {exc}",
            ) from exc
        try:
            checkpoint = verify_receipt(
                receipt,
                leaf,
                log_key,
                witnesses=trust_list.witnesses,
                quorum=trust_list.witness_quorum,
            )
        except LedgerError as exc:
            reason = "WITNESS_QUORUM" if isinstance(exc.__cause__, NoteError) else "NOT_INCLUDED"
            raise CheckFailed("log", reason, str(exc)) from exc
        self._observe(checkpoint)
        return f"entry {receipt.index} of {origin} (tree size {checkpoint.size})"

    def _entry_leaf(self) -> bytes:
        assert self.bundle is not None
        entry = self.bundle.get("logEntry")
        if not isinstance(entry, Mapping):
            raise CheckFailed("log", "NO_RECEIPT", "the bundle carries no log entry")
        try:
            leaf = entry_bytes(entry, jcs)
            parsed = parse_entry(leaf, jcs)
        except ValueError as exc:
            raise CheckFailed("log", "MALFORMED_ENTRY", f"the log entry: {exc}") from exc
        if parsed.get("kind") != "issue":
            raise CheckFailed(
                "log", "ENTRY_MISMATCH", f"the log entry is a {parsed.get('kind')} entry"
            )
        if parsed.get("credential") != self.credential.get("id"):
            raise CheckFailed(
                "log", "ENTRY_MISMATCH", f"the log entry is for {parsed.get('credential')}"
            )
        try:
            digest = credential_digest(self.credential, jcs)
        except ValueError as exc:
            raise CheckFailed("log", "ENTRY_MISMATCH", f"no digest: {exc}") from exc
        if parsed.get("digest") != digest:
            raise CheckFailed(
                "log",
                "DIGEST_MISMATCH",
                "the logged digest is not the digest of this credential",
            )
        if parsed.get("issuer") != issuer_id(self.credential):
            raise CheckFailed("log", "ENTRY_MISMATCH", "the log entry names another issuer")
        return leaf

    def _observe(self, checkpoint: Checkpoint) -> None:
        consistency = self.ctx.consistency
        source = None if consistency is None else partial(consistency, checkpoint.origin)
        seen = self.ctx.checkpoints.observe(checkpoint, source)  # ForkError: a failed check
        if not seen.verified:
            self.warnings.append(
                f"consistency of the {checkpoint.origin} checkpoint (size {checkpoint.size}) "
                "with the one seen before could not be checked"
            )

    # --- grade -----------------------------------------------------------------------

    def grade_check(self) -> str:
        if GRADE_CREDENTIAL_TYPE not in self.types:
            raise _Skipped("not a grade credential")
        subject = self.credential.get("credentialSubject")
        rule_ref = _get(subject, "gradingRule")
        rule_id, version = _get(rule_ref, "id"), _get(rule_ref, "version")
        if not isinstance(rule_id, str) or not isinstance(version, str):
            raise CheckFailed("grade", "RULE_NOT_FOUND", "the grade names no grading rule")
        rule = _fetch(self.ctx.grading_rule, "RULE_NOT_FOUND", rule_id, version)
        if rule_digest(rule) != _get(rule_ref, "digest"):
            raise CheckFailed(
                "grade",
                "RULE_DIGEST_MISMATCH",
                f"grading rule {rule_id} {version} is not the one the grade was made under",
            )
        self.rule = rule
        label = self._graded_label()
        at = parse_datetime(self.credential.get("validFrom"), "validFrom", "grade")
        category = _product_category(label)
        try:
            footprint = _get(label, "credentialSubject", "carbonFootprint")
            outcome = grade(
                footprint if isinstance(footprint, Mapping) else {},
                rule,
                at=at,
                product_category=category,
            )
        except NotGradable as exc:
            raise CheckFailed(
                "grade", "NOT_GRADABLE", f"the label cannot be graded ({exc.reason}): {exc}"
            ) from exc
        claimed_grade, claimed_ratio = _get(subject, "grade"), _decimal(_get(subject, "ratio"))
        if outcome.grade != claimed_grade:
            raise CheckFailed(
                "grade",
                "GRADE_MISMATCH",
                f"the rule gives grade {outcome.grade}, the credential states {claimed_grade}",
            )
        if outcome.ratio != claimed_ratio:
            raise CheckFailed(
                "grade",
                "RATIO_MISMATCH",
                f"the rule gives ratio {outcome.ratio}, the credential states "
                f"{_get(subject, 'ratio')}",
            )
        return f"grade {outcome.grade} (ratio {outcome.ratio}) recomputed under {rule_id} {version}"

    def _graded_label(self) -> Mapping[str, Any]:
        if self.label is not None:
            return self.label
        ref = _get(self.credential, "credentialSubject", "gradedCredential")
        label_id = _get(ref, "id")
        if not isinstance(label_id, str):
            raise CheckFailed("grade", "LABEL_NOT_FOUND", "the grade names no graded credential")
        label = _fetch(self.ctx.label_credential, "LABEL_NOT_FOUND", label_id)
        try:
            digest = credential_digest(label, jcs).removeprefix("sha256:")
        except ValueError as exc:
            raise CheckFailed("grade", "LABEL_DIGEST_MISMATCH", str(exc)) from exc
        if _get(ref, "digest") not in (digest, "sha256:" + digest):
            raise CheckFailed(
                "grade",
                "LABEL_DIGEST_MISMATCH",
                f"label {label_id} is not the credential that was graded",
            )
        if _get(label, "credentialSubject", "labelNumber") != _get(
            self.credential, "credentialSubject", "labelNumber"
        ):
            raise CheckFailed("grade", "LABEL_MISMATCH", "the grade names another label number")
        self.label = label
        return label

    # --- binding ---------------------------------------------------------------------

    def binding_check(self) -> str:
        if self.claims is None:
            raise _Skipped("no badge claims to check")
        grade_credential: Mapping[str, Any] | None = None
        if LABEL_CREDENTIAL_TYPE in self.types:
            label: Mapping[str, Any] = self.credential
        elif GRADE_CREDENTIAL_TYPE in self.types:
            grade_credential = self.credential
            label = self._graded_label_for("binding")
        else:
            raise _Skipped("badge claims apply to label and grade credentials only")
        classes = _get(self.rule, "classBoundaries")
        order = [str(_get(c, "grade")) for c in classes] if isinstance(classes, list) else None
        reasons = check_binding(label, self.claims, grade_credential, grade_order=order)
        if reasons:
            raise CheckFailed(
                "binding", reasons[0].code, "; ".join(f"{r.code}: {r.message}" for r in reasons)
            )
        return "the label backs every claim of the badge"

    def _graded_label_for(self, check: str) -> Mapping[str, Any]:
        try:
            return self._graded_label()
        except CheckFailed as exc:
            raise CheckFailed(check, exc.reason, str(exc)) from exc

    # --- verdict ---------------------------------------------------------------------

    def verdict(self) -> Verdict:
        failed = {c.name: c for c in self.checks if c.outcome is Outcome.FAILED}
        if FATAL_CHECKS & failed.keys():
            return Verdict.INVALID
        status = failed.get("status")
        if status is not None and status.reason in UNREVOCABLE_REASONS:
            return Verdict.INVALID
        if status is not None and status.reason == "REVOKED":
            return Verdict.REVOKED
        if status is not None and status.reason == "SUSPENDED":
            return Verdict.SUSPENDED
        validity = failed.get("validity")
        if validity is not None and validity.reason == "EXPIRED":
            return Verdict.EXPIRED
        if failed or self.warnings:
            return Verdict.WARNING
        return Verdict.GENUINE


def _verify_proof(document: Mapping[str, Any], ctx: VerificationContext) -> VerifiedProof:
    """Data Integrity verify (assertionMethod, at ``ctx.now``); raises ProofVerificationError.

    pyld may raise a bare ValueError for a malformed ``@context`` (a relative IRI)
    that ``credentials.canonical`` does not wrap; it is a transformation error.
    """
    try:
        return verify(
            document,
            resolve_method=ctx.resolve_method,
            expected_purpose="assertionMethod",
            now=ctx.now,
        )
    except VerificationError:
        raise
    except ValueError as exc:
        raise ProofVerificationError(
            "PROOF_TRANSFORMATION_ERROR", f"the document cannot be canonicalized: {exc}"
        ) from exc


def _product_category(credential: Mapping[str, Any]) -> str | None:
    subject = credential.get("credentialSubject")
    for path in (("labelledProduct", "productCategory"), ("productCategory",)):
        value = _get(subject, *path)
        if isinstance(value, str):
            return value
    return None


def _decimal(value: Any) -> Decimal | None:
    if not isinstance(value, str):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def _fetch(source: Callable[..., dict[str, Any] | None], reason: str, *key: str) -> dict[str, Any]:
    try:
        document = source(*key)
    except Exception as exc:  # the configured resolver's failure
        raise CheckFailed(
            "grade", reason, f"{' '.join(key)} could not be retrieved: {exc}"
        ) from exc
    if not isinstance(document, dict):
        raise CheckFailed("grade", reason, f"{' '.join(key)} is not known")
    return document


def verify_credential(
    credential: dict[str, Any],
    *,
    bundle: dict[str, Any] | None,
    ctx: VerificationContext,
    claims: BadgeClaims | None = None,
) -> Verification:
    """Run every check on ``credential`` (with its label ``bundle``) and give a verdict.

    ``bundle`` is the label bundle (``verifier.result``) or None; its
    ``logEntry`` and ``receipt`` are used. Never raises for a bad credential,
    bundle or claim: failures are failed Checks (see the module docstring).
    Raises CheckpointStoreError if the verifier's own checkpoint store fails.
    """
    if not isinstance(credential, Mapping):
        checks = [
            Check(
                "structure", Outcome.FAILED, "a credential must be a JSON object", "NOT_AN_OBJECT"
            )
        ]
        return Verification(tuple(checks), Verdict.INVALID)
    run = _Run(credential, bundle if isinstance(bundle, Mapping) else None, ctx, claims)
    if bundle is not None and not isinstance(bundle, Mapping):
        run.warnings.append("the label bundle is not a JSON object and was ignored")
    run.run("structure", run.structure)
    run.run("proof", run.proof_check)
    run.run("issuer", run.issuer_check)
    run.run("status", run.status_check)
    run.run("validity", run.validity_check)
    run.run("log", run.log_check)
    run.run("grade", run.grade_check)
    run.run("binding", run.binding_check)
    return Verification(tuple(run.checks), run.verdict(), tuple(run.warnings))
