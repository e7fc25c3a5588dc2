"""The verification pipeline end to end, built in process: keys, a log, status lists, a trust list.

Nothing touches the network: did:key methods resolve by computation, status lists
and grading rules come from dicts, the log is a list of leaves in memory.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from credentials.dataintegrity import sign
from credentials.didkey import did_key_from_public_key, did_key_verification_method_id
from credentials.didweb import DidResolver
from credentials.multikey import Ed25519KeyPair
from credentials.statuslist import Bitstring, status_list_credential, status_list_entry
from credentials.vc import credential_types
from ledger.checkpoint import Checkpoint, CosignatureSigner, cosign, sign_checkpoint
from ledger.note import NoteSigner
from ledger.proof import NodeID, consistency_proof, inclusion_proof
from ledger.receipt import Receipt
from ledger.rfc9162 import Hash, hash_leaf, root_of
from schemas.grading import rule_digest
from schemas.logentry import credential_digest, entry_bytes
from verifier.binding import BadgeClaims
from verifier.checkpoints import (
    CheckpointMemory,
    InMemoryCheckpointStore,
    JsonFileCheckpointStore,
    Observation,
)
from verifier.errors import ForkError
from verifier.pipeline import VerificationContext, verify_credential
from verifier.result import CHECK_NAMES, Outcome, Verdict, Verification
from verifier.trustlist import (
    IssuerScopes,
    TrustedIssuer,
    TrustedLog,
    TrustList,
    build_trust_list,
    load_trust_list,
    sign_trust_list,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "schemas" / "examples"
NOW = datetime(2026, 1, 15, tzinfo=UTC)
SIGNED_AT = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
ORIGIN = "log.gd-carbon-label.example/v1"
STATUS_BASE = "https://registry.gd-carbon-label.example/status/2025/"
REVOCATION_URL = STATUS_BASE + "revocation"
SUSPENSION_URL = STATUS_BASE + "suspension"
REVOCATION_INDEX = 10452
SUSPENSION_INDEX = 77


def _example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    return loaded


@dataclass(frozen=True)
class Party:
    """A did:key signer."""

    key: Ed25519KeyPair
    did: str
    method: str

    @classmethod
    def new(cls) -> Party:
        key = Ed25519KeyPair.generate()
        did = did_key_from_public_key(key.public_key)
        return cls(key, did, did_key_verification_method_id(did))

    def sign(self, document: dict[str, Any], created: datetime = SIGNED_AT) -> dict[str, Any]:
        unsigned = {k: v for k, v in document.items() if k != "proof"}
        return sign(unsigned, self.key, verification_method=self.method, created=created)


class Log:
    """A tiny transparency log in memory: leaves, signed checkpoints, receipts, proofs."""

    def __init__(self, signer: NoteSigner) -> None:
        self.signer = signer
        self.entries: list[bytes] = [entry_bytes(_filler(i)) for i in range(3)]

    @property
    def leaves(self) -> list[Hash]:
        return [hash_leaf(e) for e in self.entries]

    def read(self, ids: Sequence[NodeID]) -> list[Hash]:
        leaves = self.leaves
        return [root_of(leaves[n.index << n.level : (n.index + 1) << n.level]) for n in ids]

    def checkpoint(self, size: int | None = None) -> Checkpoint:
        size = len(self.entries) if size is None else size
        return Checkpoint(self.signer.name, size, root_of(self.leaves[:size]))

    def append(self, entry: dict[str, Any]) -> int:
        data = entry_bytes(entry)
        if data not in self.entries:
            self.entries.append(data)
        return self.entries.index(data)

    def receipt(self, index: int, signer: NoteSigner | None = None) -> Receipt:
        note = sign_checkpoint(self.checkpoint(), signer or self.signer)
        proof = inclusion_proof(index, len(self.entries), self.read)
        return Receipt(index, tuple(proof), note)

    def consistency(self, origin: str, size1: int, size2: int) -> list[bytes]:
        assert origin == self.signer.name
        return list(consistency_proof(size1, size2, self.read))


def _filler(number: int) -> dict[str, Any]:
    return {
        "kind": "issue",
        "credential": f"https://registry.gd-carbon-label.example/credentials/label/filler-{number}",
        "digest": "sha256:" + f"{number:064x}",
        "issuer": "did:web:registry.gd-carbon-label.example:issuers:other",
        "types": ["VerifiableCredential"],
    }


def issue_entry(credential: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "issue",
        "credential": credential["id"],
        "digest": credential_digest(credential),
        "issuer": credential["issuer"]["id"],
        "types": credential_types(credential),
    }


@dataclass
class World:
    """Everything one test needs; built fresh for each test (no shared state)."""

    authority: Party = field(default_factory=Party.new)
    issuer: Party = field(default_factory=Party.new)
    log: Log = field(default_factory=lambda: Log(NoteSigner.generate(ORIGIN)))
    bits: dict[str, Bitstring] = field(
        default_factory=lambda: {REVOCATION_URL: Bitstring(), SUSPENSION_URL: Bitstring()}
    )
    list_signer: Party | None = None
    rule: dict[str, Any] = field(default_factory=lambda: _example("grading-rule.room-ac"))
    label: dict[str, Any] = field(default_factory=dict)
    grade: dict[str, Any] = field(default_factory=dict)
    store: InMemoryCheckpointStore = field(default_factory=InMemoryCheckpointStore)

    def __post_init__(self) -> None:
        self.label = self.issuer.sign(self.unsigned_label())
        self.grade = self.issuer.sign(self.unsigned_grade(), datetime(2025, 10, 2, tzinfo=UTC))

    def unsigned_label(self, issuer: Party | None = None) -> dict[str, Any]:
        label = _example("label-credential.room-ac")
        label["issuer"]["id"] = (issuer or self.issuer).did
        label["credentialStatus"] = [
            status_list_entry(REVOCATION_URL, REVOCATION_INDEX, "revocation"),
            status_list_entry(SUSPENSION_URL, SUSPENSION_INDEX, "suspension"),
        ]
        return label

    def unsigned_grade(self) -> dict[str, Any]:
        grade = _example("grade-credential.room-ac")
        grade["issuer"]["id"] = self.issuer.did
        grade["credentialStatus"] = [  # a grade carries its issuer's status entries too
            status_list_entry(REVOCATION_URL, REVOCATION_INDEX + 1, "revocation"),
            status_list_entry(SUSPENSION_URL, SUSPENSION_INDEX + 1, "suspension"),
        ]
        subject = grade["credentialSubject"]
        subject["gradingRule"]["digest"] = rule_digest(self.rule)
        subject["gradedCredential"]["digest"] = credential_digest(self.label).removeprefix(
            "sha256:"
        )
        return grade

    def status_list(self, url: str) -> dict[str, Any]:
        purpose = url.rsplit("/", 1)[1]
        signer = self.list_signer or self.issuer
        unsigned = status_list_credential(
            url, signer.did, purpose, self.bits[url], datetime(2025, 9, 1, tzinfo=UTC)
        )
        return signer.sign(unsigned)

    def trust_list(self, **issuer_changes: Any) -> TrustList:
        issuer = TrustedIssuer(
            did=self.issuer.did,
            name="广东省碳标签专业委员会",
            uscc="12440000MB2C401574",
            valid_from=datetime(2025, 1, 1, tzinfo=UTC),
            valid_until=None,
            scopes=IssuerScopes(
                frozenset({"CarbonLabelCredential", "GradeResultCredential"}),
                frozenset({"room-air-conditioner"}),
            ),
            jurisdiction="CN-GD",
        )
        issuer = replace(issuer, **issuer_changes)
        return self.trust_list_of([issuer])

    def trust_list_of(
        self,
        issuers: list[TrustedIssuer],
        witnesses: Sequence[CosignatureSigner] = (),
        quorum: int = 0,
    ) -> TrustList:
        document = build_trust_list(
            id="https://registry.gd-carbon-label.example/trust-list/1",
            version=1,
            issued=datetime(2025, 9, 1, tzinfo=UTC),
            valid_until=datetime(2027, 1, 1, tzinfo=UTC),
            issuers=issuers,
            logs=[TrustedLog(ORIGIN, self.log.signer.verifier())],
            witnesses=[w.verifier() for w in witnesses],
            witness_quorum=quorum,
        )
        signed = sign_trust_list(
            document, self.authority.key, self.authority.method, datetime(2025, 9, 1, tzinfo=UTC)
        )
        return load_trust_list(signed, authority=self.authority.did, now=NOW)

    def bundle(
        self, credential: dict[str, Any], signer: NoteSigner | None = None
    ) -> dict[str, Any]:
        index = self.log.append(issue_entry(credential))
        entry = json.loads(self.log.entries[index])
        return {
            "verifiableCredential": credential,
            "logEntry": entry,
            "receipt": self.log.receipt(index, signer).to_json(),
        }

    def labels(self, label_id: str) -> dict[str, Any] | None:
        return self.label if label_id == self.label["id"] else None

    def rules(self, rule_id: str, version: str) -> dict[str, Any] | None:
        if (rule_id, version) == (self.rule["id"], self.rule["version"]):
            return self.rule
        return None

    def context(self, **changes: Any) -> VerificationContext:
        if "trust_list" not in changes:
            changes["trust_list"] = self.trust_list()
        ctx = VerificationContext(
            now=NOW,
            trust_list=None,
            resolve_method=DidResolver().resolve_verification_method,
            status_list=self.status_list,
            checkpoints=CheckpointMemory(self.store),
            consistency=self.log.consistency,
            grading_rule=self.rules,
            label_credential=self.labels,
        )
        return replace(ctx, **changes)

    def verify(
        self,
        credential: dict[str, Any] | None = None,
        *,
        bundle: dict[str, Any] | str | None = "auto",
        claims: BadgeClaims | None = None,
        **changes: Any,
    ) -> Verification:
        credential = self.label if credential is None else credential
        if bundle == "auto":
            bundle = self.bundle(credential)
        assert not isinstance(bundle, str)
        return verify_credential(
            credential, bundle=bundle, ctx=self.context(**changes), claims=claims
        )


@pytest.fixture
def world() -> World:
    return World()


def _outcomes(result: Verification) -> dict[str, str]:
    return {c.name: c.outcome.value for c in result.checks}


# --- genuine ---------------------------------------------------------------------------


def test_genuine_label_passes_every_check(world: World) -> None:
    result = world.verify()
    assert [c.name for c in result.checks] == list(CHECK_NAMES)
    assert _outcomes(result) == {
        "structure": "passed",
        "proof": "passed",
        "issuer": "passed",
        "status": "passed",
        "validity": "passed",
        "log": "passed",
        "grade": "skipped",
        "binding": "skipped",
    }
    assert result.verdict is Verdict.GENUINE
    assert result.warnings == ()
    body = result.to_vc_api()
    assert body["verified"] is True and "errors" not in body


def test_genuine_grade_passes_every_check_including_the_recomputed_grade(world: World) -> None:
    result = world.verify(world.grade, claims=BadgeClaims(grade="3", seller="91440606MA4WK7R2X8"))
    outcomes = _outcomes(result)
    assert set(outcomes.values()) == {"passed"}, result.to_vc_api()
    assert result.verdict is Verdict.GENUINE


def test_genuine_label_with_backed_badge_claims(world: World) -> None:
    claims = BadgeClaims(
        gtin="06901234567892",
        seller="91440300MA5FL2N969",
        footprint_value=Decimal("5900.5"),
        footprint_unit="piece",
        boundary="cradle-to-grave",
    )
    result = world.verify(claims=claims)
    assert result.check("binding") is not None
    assert _outcomes(result)["binding"] == "passed"
    assert result.verdict is Verdict.GENUINE


def test_log_is_skipped_without_receipt_when_not_required(world: World) -> None:
    result = world.verify(bundle=None, require_log=False)
    assert _outcomes(result)["log"] == "skipped"
    assert result.verdict is Verdict.GENUINE


def test_issuer_is_skipped_without_a_trust_list(world: World) -> None:
    result = world.verify(bundle=None, trust_list=None, require_log=False)
    issuer = result.check("issuer")
    assert issuer is not None and issuer.outcome is Outcome.SKIPPED
    assert issuer.reason == "NO_TRUST_LIST"


# --- each failure: check name, reason code, verdict ------------------------------------


def _tampered_subject(w: World) -> Verification:
    label = copy.deepcopy(w.label)
    label["credentialSubject"]["carbonFootprint"]["pcfExcludingBiogenicUptake"] = "3900.5"
    return w.verify(label)


def _wrong_signer(w: World) -> Verification:
    return w.verify(Party.new().sign(w.unsigned_label()))


def _schema_invalid(w: World) -> Verification:
    label = w.unsigned_label()
    del label["credentialSubject"]["labelNumber"]
    return w.verify(w.issuer.sign(label))


def _issuer_not_in_trust_list(w: World) -> Verification:
    stranger = Party.new()
    return w.verify(stranger.sign(w.unsigned_label(stranger)))


def _out_of_category_scope(w: World) -> Verification:
    scopes = IssuerScopes(frozenset({"CarbonLabelCredential"}), frozenset({"lithium-battery"}))
    return w.verify(trust_list=w.trust_list(scopes=scopes))


def _out_of_type_scope(w: World) -> Verification:
    scopes = IssuerScopes(frozenset({"GradeResultCredential"}), frozenset({"room-air-conditioner"}))
    return w.verify(trust_list=w.trust_list(scopes=scopes))


def _not_yet_active(w: World) -> Verification:
    return w.verify(trust_list=w.trust_list(valid_from=datetime(2025, 11, 1, tzinfo=UTC)))


def _no_longer_active(w: World) -> Verification:
    return w.verify(trust_list=w.trust_list(valid_until=datetime(2025, 9, 30, tzinfo=UTC)))


def _revoked(w: World) -> Verification:
    w.bits[REVOCATION_URL].set(REVOCATION_INDEX)
    return w.verify()


def _suspended(w: World) -> Verification:
    w.bits[SUSPENSION_URL].set(SUSPENSION_INDEX)
    return w.verify()


def _revoked_and_suspended(w: World) -> Verification:
    w.bits[REVOCATION_URL].set(REVOCATION_INDEX)
    w.bits[SUSPENSION_URL].set(SUSPENSION_INDEX)
    return w.verify()


def _resigned_label(w: World, status: Any) -> dict[str, Any]:
    unsigned = w.unsigned_label()
    if status is None:
        del unsigned["credentialStatus"]
    else:
        unsigned["credentialStatus"] = status
    return w.issuer.sign(unsigned)


def _no_status_entries(w: World) -> Verification:
    return w.verify(_resigned_label(w, None))


def _empty_status_entries(w: World) -> Verification:
    return w.verify(_resigned_label(w, []))


def _revocation_entry_only(w: World) -> Verification:
    return w.verify(
        _resigned_label(w, [status_list_entry(REVOCATION_URL, REVOCATION_INDEX, "revocation")])
    )


def _two_revocation_entries(w: World) -> Verification:
    return w.verify(
        _resigned_label(
            w,
            [
                status_list_entry(REVOCATION_URL, REVOCATION_INDEX, "revocation"),
                status_list_entry(REVOCATION_URL, REVOCATION_INDEX + 1, "revocation"),
                status_list_entry(SUSPENSION_URL, SUSPENSION_INDEX, "suspension"),
            ],
        )
    )


def _grade_without_status_entries(w: World) -> Verification:
    unsigned = w.unsigned_grade()
    del unsigned["credentialStatus"]
    return w.verify(w.issuer.sign(unsigned, datetime(2025, 10, 2, tzinfo=UTC)))


def _revocation_entry_not_the_logged_one(w: World) -> Verification:
    bundle = w.bundle(w.label)
    entry = dict(bundle["logEntry"])
    entry["statusList"], entry["statusIndex"] = REVOCATION_URL, REVOCATION_INDEX + 7
    index = w.log.append(entry)
    bundle = {**bundle, "logEntry": entry, "receipt": w.log.receipt(index).to_json()}
    return w.verify(bundle=bundle)


def _status_list_unavailable(w: World) -> Verification:
    def unavailable(url: str) -> dict[str, Any]:
        raise OSError("resolver timed out")

    return w.verify(status_list=unavailable)


def _status_list_by_another_signer(w: World) -> Verification:
    w.list_signer = Party.new()
    return w.verify()


def _expired(w: World) -> Verification:
    return w.verify(now=datetime(2027, 10, 1, tzinfo=UTC))


def _no_receipt(w: World) -> Verification:
    return w.verify(bundle=None)


def _receipt_for_another_credential(w: World) -> Verification:
    return w.verify(bundle=w.bundle(w.grade))


def _receipt_for_an_earlier_version(w: World) -> Verification:
    bundle = w.bundle(w.label)  # the logged version
    relabelled = w.unsigned_label()
    relabelled["credentialSubject"]["carbonFootprint"]["pcfExcludingBiogenicUptake"] = "3900.5"
    return w.verify(w.issuer.sign(relabelled), bundle=bundle)


def _receipt_signed_by_untrusted_log_key(w: World) -> Verification:
    return w.verify(bundle=w.bundle(w.label, NoteSigner.generate(ORIGIN)))


def _receipt_from_an_unknown_log(w: World) -> Verification:
    trust_list = w.trust_list()
    w.log = Log(NoteSigner.generate("rogue.example/log"))
    return w.verify(trust_list=trust_list)


def _inclusion_proof_for_another_index(w: World) -> Verification:
    bundle = w.bundle(w.label)
    other = w.log.receipt(0)
    bundle["receipt"]["inclusionProof"] = other.to_json()["inclusionProof"]
    return w.verify(bundle=bundle)


def _witness_quorum_not_met(w: World) -> Verification:
    witness = CosignatureSigner.generate("witness.example/w1")
    trust_list = w.trust_list_of(list(w.trust_list().issuers), [witness], 1)
    return w.verify(trust_list=trust_list)


def _forked_same_size(w: World) -> Verification:
    bundle = w.bundle(w.label)
    size = w.log.checkpoint().size
    w.store.put(Checkpoint(ORIGIN, size, Hash(b"\x01" * 32)))
    return w.verify(bundle=bundle)


def _inconsistent_growth(w: World) -> Verification:
    other_history = [hash_leaf(b"rewritten %d" % i) for i in range(2)]
    w.store.put(Checkpoint(ORIGIN, 2, root_of(other_history)))
    return w.verify()


def _grade_recomputation_mismatch(w: World) -> Verification:
    grade = w.unsigned_grade()
    grade["credentialSubject"]["grade"] = "2"
    return w.verify(w.issuer.sign(grade))


def _ratio_mismatch(w: World) -> Verification:
    grade = w.unsigned_grade()
    grade["credentialSubject"]["ratio"] = "0.9000"
    return w.verify(w.issuer.sign(grade))


def _rule_digest_mismatch(w: World) -> Verification:
    grade = w.unsigned_grade()
    grade["credentialSubject"]["gradingRule"]["digest"] = "0" * 64
    return w.verify(w.issuer.sign(grade))


def _rule_changed_after_grading(w: World) -> Verification:
    grade = w.grade
    w.rule = {**w.rule, "benchmark": {**w.rule["benchmark"], "value": "9000.0"}}
    return w.verify(grade)


def _rule_unknown(w: World) -> Verification:
    return w.verify(w.grade, grading_rule=lambda rule_id, version: None)


def _graded_label_replaced(w: World) -> Verification:
    grade = w.grade
    w.label = w.issuer.sign(w.unsigned_label(), datetime(2025, 10, 1, 9, tzinfo=UTC))
    return w.verify(grade)


def _badge_for_another_gtin(w: World) -> Verification:
    return w.verify(claims=BadgeClaims(gtin="06901234567885"))


def _badge_grade_inflated(w: World) -> Verification:
    return w.verify(w.grade, claims=BadgeClaims(grade="1"))


def _badge_grade_without_grade_credential(w: World) -> Verification:
    return w.verify(claims=BadgeClaims(grade="3"))


FAILURES = [
    ("tampered-subject", _tampered_subject, "proof", "SIGNATURE_MISMATCH", Verdict.INVALID),
    ("wrong-signer", _wrong_signer, "proof", "SIGNER_NOT_ISSUER", Verdict.INVALID),
    ("schema-invalid", _schema_invalid, "structure", "SCHEMA_INVALID", Verdict.INVALID),
    (
        "issuer-untrusted",
        _issuer_not_in_trust_list,
        "issuer",
        "ISSUER_NOT_TRUSTED",
        Verdict.INVALID,
    ),
    ("issuer-category", _out_of_category_scope, "issuer", "ISSUER_OUT_OF_SCOPE", Verdict.INVALID),
    ("issuer-type", _out_of_type_scope, "issuer", "ISSUER_OUT_OF_SCOPE", Verdict.INVALID),
    ("issuer-not-yet-active", _not_yet_active, "issuer", "ISSUER_NOT_ACTIVE", Verdict.INVALID),
    ("issuer-retired", _no_longer_active, "issuer", "ISSUER_NOT_ACTIVE", Verdict.INVALID),
    ("revoked", _revoked, "status", "REVOKED", Verdict.REVOKED),
    ("suspended", _suspended, "status", "SUSPENDED", Verdict.SUSPENDED),
    ("revoked-and-suspended", _revoked_and_suspended, "status", "REVOKED", Verdict.REVOKED),
    ("no-status-entries", _no_status_entries, "status", "STATUS_ENTRIES_MISSING", Verdict.INVALID),
    ("empty-status", _empty_status_entries, "status", "STATUS_ENTRIES_MISSING", Verdict.INVALID),
    (
        "revocation-entry-only",
        _revocation_entry_only,
        "status",
        "STATUS_ENTRIES_MISSING",
        Verdict.INVALID,
    ),
    (
        "two-revocation-entries",
        _two_revocation_entries,
        "status",
        "STATUS_ENTRIES_MISSING",
        Verdict.INVALID,
    ),
    (
        "grade-without-status",
        _grade_without_status_entries,
        "status",
        "STATUS_ENTRIES_MISSING",
        Verdict.INVALID,
    ),
    (
        "revocation-entry-not-allocated",
        _revocation_entry_not_the_logged_one,
        "status",
        "STATUS_ENTRY_MISMATCH",
        Verdict.INVALID,
    ),
    (
        "status-unavailable",
        _status_list_unavailable,
        "status",
        "STATUS_RETRIEVAL_ERROR",
        Verdict.WARNING,
    ),
    (
        "status-list-other-signer",
        _status_list_by_another_signer,
        "status",
        "STATUS_VERIFICATION_ERROR",
        Verdict.WARNING,
    ),
    ("expired", _expired, "validity", "EXPIRED", Verdict.EXPIRED),
    ("no-receipt", _no_receipt, "log", "NO_RECEIPT", Verdict.INVALID),
    (
        "receipt-other-credential",
        _receipt_for_another_credential,
        "log",
        "ENTRY_MISMATCH",
        Verdict.INVALID,
    ),
    (
        "receipt-digest-mismatch",
        _receipt_for_an_earlier_version,
        "log",
        "DIGEST_MISMATCH",
        Verdict.INVALID,
    ),
    (
        "receipt-untrusted-log-key",
        _receipt_signed_by_untrusted_log_key,
        "log",
        "CHECKPOINT_SIGNATURE_INVALID",
        Verdict.INVALID,
    ),
    ("receipt-unknown-log", _receipt_from_an_unknown_log, "log", "UNTRUSTED_LOG", Verdict.INVALID),
    (
        "receipt-wrong-path",
        _inclusion_proof_for_another_index,
        "log",
        "NOT_INCLUDED",
        Verdict.INVALID,
    ),
    ("witness-quorum", _witness_quorum_not_met, "log", "WITNESS_QUORUM", Verdict.INVALID),
    ("fork-same-size", _forked_same_size, "log", "CHECKPOINT_FORK", Verdict.INVALID),
    (
        "fork-inconsistent-growth",
        _inconsistent_growth,
        "log",
        "INCONSISTENT_CHECKPOINT",
        Verdict.INVALID,
    ),
    ("grade-mismatch", _grade_recomputation_mismatch, "grade", "GRADE_MISMATCH", Verdict.WARNING),
    ("ratio-mismatch", _ratio_mismatch, "grade", "RATIO_MISMATCH", Verdict.WARNING),
    (
        "rule-digest-mismatch",
        _rule_digest_mismatch,
        "grade",
        "RULE_DIGEST_MISMATCH",
        Verdict.WARNING,
    ),
    ("rule-changed", _rule_changed_after_grading, "grade", "RULE_DIGEST_MISMATCH", Verdict.WARNING),
    ("rule-unknown", _rule_unknown, "grade", "RULE_NOT_FOUND", Verdict.WARNING),
    ("label-replaced", _graded_label_replaced, "grade", "LABEL_DIGEST_MISMATCH", Verdict.WARNING),
    ("badge-gtin", _badge_for_another_gtin, "binding", "GTIN_NOT_COVERED", Verdict.WARNING),
    ("badge-grade-inflated", _badge_grade_inflated, "binding", "GRADE_INFLATED", Verdict.WARNING),
    (
        "badge-grade-unbacked",
        _badge_grade_without_grade_credential,
        "binding",
        "GRADE_INFLATED",
        Verdict.WARNING,
    ),
]


@pytest.mark.parametrize(
    ("make", "check", "reason", "verdict"),
    [pytest.param(*case[1:], id=case[0]) for case in FAILURES],
)
def test_failure_is_named(
    world: World,
    make: Callable[[World], Verification],
    check: str,
    reason: str,
    verdict: Verdict,
) -> None:
    result = make(world)
    failed = result.check(check)
    assert failed is not None
    assert (failed.outcome, failed.reason) == (Outcome.FAILED, reason), result.to_vc_api()
    assert failed.message
    assert result.verdict is verdict
    assert result.verified is False
    assert result.to_vc_api()["errors"]


def test_witness_quorum_met_passes(world: World) -> None:
    witness = CosignatureSigner.generate("witness.example/w1")
    trust_list = world.trust_list_of(list(world.trust_list().issuers), [witness], 1)
    bundle = world.bundle(world.label)
    bundle["receipt"]["checkpoint"] = cosign(bundle["receipt"]["checkpoint"], witness, 1760000000)
    result = world.verify(bundle=bundle, trust_list=trust_list)
    assert result.verdict is Verdict.GENUINE, result.to_vc_api()


def test_not_a_json_object_is_invalid(world: World) -> None:
    result = verify_credential(
        ["not", "a", "credential"],  # type: ignore[arg-type]
        bundle=None,
        ctx=world.context(),
    )
    assert result.verdict is Verdict.INVALID
    assert result.checks[0].reason == "NOT_AN_OBJECT"


def test_garbage_bundle_is_a_failed_log_check(world: World) -> None:
    bundle = {"logEntry": {"kind": "nonsense"}, "receipt": {"format": "x"}}
    result = world.verify(bundle=bundle)
    log = result.check("log")
    assert log is not None and log.reason == "MALFORMED_ENTRY"
    bundle = {"logEntry": issue_entry(world.label), "receipt": {"format": "x"}}
    log = world.verify(bundle=bundle).check("log")
    assert log is not None and log.reason == "MALFORMED_RECEIPT"


# --- checkpoint memory ---------------------------------------------------------------


def test_consistent_growth_is_remembered(world: World) -> None:
    world.store.put(world.log.checkpoint(2))
    result = world.verify()
    assert result.verdict is Verdict.GENUINE
    assert world.store.get(ORIGIN) == world.log.checkpoint()


def test_growth_offline_is_a_warning_and_not_remembered(world: World) -> None:
    world.store.put(world.log.checkpoint(2))
    result = world.verify(consistency=None)
    assert result.verdict is Verdict.WARNING
    assert result.warnings and "could not be checked" in result.warnings[0]
    assert world.store.get(ORIGIN) == world.log.checkpoint(2)


def test_older_checkpoint_is_checked_against_the_remembered_one(world: World) -> None:
    bundle = world.bundle(world.label)
    world.log.append(_filler(99))
    newer = world.log.checkpoint()
    world.store.put(newer)
    assert world.verify(bundle=bundle).verdict is Verdict.GENUINE
    offline = world.verify(bundle=bundle, consistency=None)
    assert offline.verdict is Verdict.WARNING
    assert world.store.get(ORIGIN) == newer


def _cp(size: int, root: bytes) -> Checkpoint:
    return Checkpoint(ORIGIN, size, Hash(root))


@pytest.mark.parametrize(
    ("remembered", "observed", "outcome"),
    [
        pytest.param(None, 5, Observation.FIRST, id="first"),
        pytest.param(5, 5, Observation.SAME, id="same"),
        pytest.param(3, 5, Observation.NEWER, id="newer"),
        pytest.param(5, 3, Observation.OLDER, id="older"),
        pytest.param(0, 5, Observation.NEWER, id="from-empty-tree"),
        pytest.param(5, 0, Observation.OLDER, id="empty-tree-is-older"),
    ],
)
def test_observe(world: World, remembered: int | None, observed: int, outcome: Observation) -> None:
    log = world.log
    for i in range(3):
        log.append(_filler(10 + i))
    memory = CheckpointMemory()
    consistency = lambda a, b: log.consistency(ORIGIN, a, b)  # noqa: E731
    if remembered is not None:
        memory.observe(log.checkpoint(remembered))
    assert memory.observe(log.checkpoint(observed), consistency) is outcome
    assert memory.remembered(ORIGIN) == log.checkpoint(max(observed, remembered or 0))


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        pytest.param(_cp(4, b"\x01" * 32), _cp(4, b"\x02" * 32), "CHECKPOINT_FORK", id="same-size"),
        pytest.param(_cp(2, b"\x01" * 32), None, "INCONSISTENT_CHECKPOINT", id="grown-from-fork"),
        pytest.param(None, _cp(2, b"\x01" * 32), "INCONSISTENT_CHECKPOINT", id="older-fork"),
    ],
)
def test_fork_is_detected(
    world: World, first: Checkpoint | None, second: Checkpoint | None, reason: str
) -> None:
    log = world.log
    memory = CheckpointMemory()
    memory.observe(first or log.checkpoint())
    with pytest.raises(ForkError) as caught:
        memory.observe(second or log.checkpoint(), lambda a, b: log.consistency(ORIGIN, a, b))
    assert caught.value.reason == reason
    assert caught.value.check == "log"
    assert caught.value.remembered == (first or log.checkpoint())


def test_failing_proof_source_counts_as_offline(world: World) -> None:
    def broken(size1: int, size2: int) -> list[bytes]:
        raise ConnectionError("log unreachable")

    memory = CheckpointMemory()
    memory.observe(world.log.checkpoint(2))
    assert memory.observe(world.log.checkpoint(), broken) is Observation.NEWER_UNVERIFIED


def test_json_file_store_round_trip(world: World, tmp_path: Path) -> None:
    path = tmp_path / "cache" / "checkpoints.json"
    memory = CheckpointMemory(JsonFileCheckpointStore(path))
    memory.observe(world.log.checkpoint(2))
    again = CheckpointMemory(JsonFileCheckpointStore(path))
    assert again.remembered(ORIGIN) == world.log.checkpoint(2)
    with pytest.raises(ForkError):
        again.observe(Checkpoint(ORIGIN, 2, Hash(b"\x07" * 32)))


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        for key in path[:-1]:
            document = document[key]  # type: ignore[index]
        document[path[-1]] = value  # type: ignore[index]

    return change


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_set(("@context", 1), "relative"), id="relative-context-iri"),
        pytest.param(_set(("issuer",), 42), id="issuer-not-a-url"),
        pytest.param(_set(("credentialStatus",), "revoked"), id="status-not-an-object"),
        pytest.param(_set(("credentialSubject",), []), id="subject-empty-list"),
        pytest.param(_set(("credentialSubject", "carbonFootprint"), [1]), id="footprint-a-list"),
        pytest.param(_set(("validUntil",), "someday"), id="validUntil-not-a-date"),
        pytest.param(_set(("proof",), [1, 2]), id="proof-set-of-junk"),
    ],
)
def test_malformed_credential_never_raises(
    world: World, change: Callable[[dict[str, Any]], None]
) -> None:
    label = copy.deepcopy(world.label)
    bundle = world.bundle(label)
    change(label)
    result = verify_credential(label, bundle=bundle, ctx=world.context())
    assert result.verdict is Verdict.INVALID
    assert [c.name for c in result.checks] == list(CHECK_NAMES)


# --- key rotation -------------------------------------------------------------------------


def test_a_key_signing_outside_its_service_window_is_refused(world: World) -> None:
    signed_at = datetime.fromisoformat(world.label["proof"]["created"].replace("Z", "+00:00"))

    def retired_before(_: str) -> tuple[datetime, datetime | None]:
        return (signed_at - timedelta(days=400), signed_at - timedelta(days=1))

    def in_service(_: str) -> tuple[datetime, datetime | None]:
        return (signed_at - timedelta(days=400), signed_at + timedelta(days=1))

    refused = world.verify(key_window=retired_before)
    issuer = refused.check("issuer")
    assert issuer is not None and issuer.reason == "KEY_NOT_IN_SERVICE"
    assert refused.verdict.value == "invalid"
    assert world.verify(key_window=in_service).verified  # an old key verifies old labels
