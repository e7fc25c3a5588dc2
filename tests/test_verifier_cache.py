"""The verifier's caches never change an answer, and batched scans are all recorded.

- status: a revocation made in this process is seen at once; one made by another
  process is seen once the status list's ``ttl`` has passed (Bitstring Status
  List semantics), never later;
- the memo: a credential changed in any byte (same id) is verified afresh, and
  ``now`` crossing ``validUntil`` changes the verdict;
- scans: every scan and alert is written after a flush (or at shutdown), and the
  copy rules count scans that are still queued.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.limits import json_depth
from app.main import create_app
from app.runtime import Runtime, utcnow
from app.settings import Settings
from app.verifying import RECEIPT_REFRESH, RECORD_TTL, STATUS_POLL_INTERVAL, Verifying
from verifier.misuse import MisuseRules
from verifier.result import Verdict
from verifier.service import ScanRecorder, VerificationMemo, VerifierService
from verifier.store.tables import alerts, scans

ROOT = Path(__file__).resolve().parent.parent
REQUEST = json.loads((ROOT / "examples/label.json").read_text())
RULE = json.loads((ROOT / "examples/grading-rule.json").read_text())


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def issued(deployment: Settings) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    runtime = Runtime(deployment)
    now = utcnow()
    runtime.directory.add_org(
        slug="gd-clc",
        name="广东省碳标签专业委员会",
        uscc="12440000MB2C401574",
        credential_types=["CarbonLabelCredential", "GradeResultCredential"],
        product_categories=["room-air-conditioner"],
        now=now,
        authority=True,  # the committee is also the label authority (rules, every alert)
    )
    token = runtime.directory.new_token(
        "gd-clc", ["issue", "status", "admin", "authority"], "t", now
    )
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(deployment, runtime)) as client:
        label = client.post("/labels", json=REQUEST, headers=headers).json()
        yield client, {"headers": headers, "label": label, "settings": deployment}


def _verifying(client: TestClient) -> Verifying:
    verifying: Verifying = client.app.state.verifying  # type: ignore[attr-defined]
    return verifying


def _verdict(client: TestClient, credential: dict[str, Any]) -> str:
    response = client.post("/credentials/verify", json={"verifiableCredential": credential})
    verdict: str = response.json()["verdict"]
    return verdict


def _revoke(client: TestClient, ctx: dict[str, Any]) -> None:
    response = client.post(
        "/credentials/status",
        json={
            "credentialId": ctx["label"]["verifiableCredential"]["id"],
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status": True,
        },
        headers=ctx["headers"],
    )
    assert response.status_code == 200, response.text


def test_a_revocation_in_this_process_is_seen_at_once(
    issued: tuple[TestClient, dict[str, Any]],
) -> None:
    client, ctx = issued
    credential = ctx["label"]["verifiableCredential"]
    memo = _verifying(client).service.memo
    assert _verdict(client, credential) == "genuine"
    hits = memo.hits
    assert _verdict(client, credential) == "genuine"
    assert memo.hits == hits + 1  # the second answer came from the memo
    _revoke(client, ctx)
    assert _verdict(client, credential) == "revoked"
    number = ctx["label"]["labelNumber"]
    assert "revoked" in client.get(f"/scan/{number}", params={"lang": "en"}).text.lower()


def test_a_revocation_by_another_process_is_seen_within_the_poll_interval(
    issued: tuple[TestClient, dict[str, Any]],
) -> None:
    client, ctx = issued
    clock = Clock()
    other = Verifying(Runtime(ctx["settings"]), monotonic=clock)  # a second worker process
    try:
        record = other.service.labels.by_number(ctx["label"]["labelNumber"])
        assert record is not None
        assert other.service.verify(record.credential, record.bundle).verdict is Verdict.GENUINE
        _revoke(client, ctx)  # through the first process
        record = other.service.labels.by_number(ctx["label"]["labelNumber"])
        assert record is not None
        # The generation was read at the first verify; until the next read is due the
        # cached list (well within its 300 s ttl) still answers.
        stale = other.service.verify(record.credential, record.bundle)
        assert stale.verdict is Verdict.GENUINE
        clock.now += STATUS_POLL_INTERVAL + 0.01
        fresh = other.service.verify(record.credential, record.bundle)
        assert fresh.verdict is Verdict.REVOKED
    finally:
        other.service.close()
        other.runtime.close()


def test_label_records_are_re_read_within_seconds_and_keep_their_receipts(
    issued: tuple[TestClient, dict[str, Any]],
) -> None:
    client, ctx = issued
    clock = Clock()
    other = Verifying(Runtime(ctx["settings"]), monotonic=clock)
    labels = other.service.labels
    number = ctx["label"]["labelNumber"]
    try:
        first = labels.by_number(number)
        assert first is not None and not first.grades
        client.post("/grading-rules", json=RULE, headers=ctx["headers"])
        graded = client.post(
            "/grades",
            json={"label": number, "rule": {"id": RULE["id"], "version": RULE["version"]}},
            headers=ctx["headers"],
        )
        assert graded.status_code == 201, graded.text
        assert labels.by_number(number) is first  # within RECORD_TTL: not re-read
        clock.now += RECORD_TTL
        second = labels.by_number(number)
        assert second is not None and len(second.grades) == 1  # the new grade shows
        client.post("/labels", json=REQUEST, headers=ctx["headers"])  # the log grows
        clock.now += RECORD_TTL
        assert labels.by_number(number) is second  # unchanged: same record, same receipts
        clock.now += RECEIPT_REFRESH
        third = labels.by_number(number)
        assert third is not None and third is not second
        assert third.bundle["receipt"] != second.bundle["receipt"]  # a newer checkpoint
    finally:
        other.service.close()
        other.runtime.close()


def test_a_tampered_credential_with_the_same_id_is_never_served_a_cached_pass(
    issued: tuple[TestClient, dict[str, Any]],
) -> None:
    client, ctx = issued
    label = ctx["label"]
    bundle = {k: label[k] for k in ("verifiableCredential", "logEntry", "receipt")}
    assert client.post("/credentials/verify", json=bundle).json()["verdict"] == "genuine"
    assert _verdict(client, label["verifiableCredential"]) == "genuine"

    inflated = copy.deepcopy(label["verifiableCredential"])
    inflated["credentialSubject"]["carbonFootprint"]["pcfExcludingBiogenicUptake"] = "1.0"
    forged_proof = copy.deepcopy(label["verifiableCredential"])
    value = forged_proof["proof"]["proofValue"]
    forged_proof["proof"]["proofValue"] = value[:-2] + ("22" if value[-2:] != "22" else "33")
    for forged in (inflated, forged_proof):
        assert forged["id"] == label["verifiableCredential"]["id"]
        for _ in range(2):  # the failure is not turned into a pass by a repeat either
            body = client.post(
                "/credentials/verify", json={**bundle, "verifiableCredential": forged}
            ).json()
            assert body["verified"] is False and body["verdict"] == "invalid"
            assert _verdict(client, forged) == "invalid"


def test_the_memo_re_evaluates_validity_at_now(
    issued: tuple[TestClient, dict[str, Any]],
) -> None:
    client, ctx = issued
    verifying = _verifying(client)
    at: list[datetime] = [utcnow()]
    service = VerifierService(
        engine=verifying.runtime.engine,
        labels=verifying.service.labels,
        context=lambda: replace(verifying.context(), now=at[0]),
        rules=MisuseRules(),
        salt=b"salt",
        clock=utcnow,
        memo=VerificationMemo(),
    )
    credential = ctx["label"]["verifiableCredential"]
    valid_until = datetime.fromisoformat(credential["validUntil"].replace("Z", "+00:00"))
    assert service.verify(credential).verdict is Verdict.GENUINE
    assert service.verify(credential).verdict is Verdict.GENUINE
    assert service.memo.hits == 1
    at[0] = valid_until + timedelta(seconds=1)
    assert service.verify(credential).verdict is Verdict.EXPIRED
    at[0] = valid_until - timedelta(seconds=1)
    assert service.verify(credential).verdict is Verdict.GENUINE
    service.close()


def _count(service: VerifierService, table: Any, code: str | None = None) -> int:
    query = select(func.count()).select_from(table)
    if code is not None:
        query = query.where(table.c.code == code)
    with service.engine.connect() as conn:
        count: int = conn.execute(query).scalar_one()
    return count


def test_every_scan_and_alert_is_recorded_after_a_flush(
    issued: tuple[TestClient, dict[str, Any]],
) -> None:
    client, ctx = issued
    service = _verifying(client).service
    service.recorder.close()  # the app's recorder; this test drives its own
    service.recorder = ScanRecorder(service.engine, interval=3600, batch=10_000)
    number = ctx["label"]["labelNumber"]
    record = service.labels.by_number(number)
    assert record is not None
    outcomes = [
        service.scan(record, serial=None, gtin=None, region="CN-GD", client="a") for _ in range(30)
    ]
    outcomes.append(service.scan(record, serial=None, gtin=None, region="DE", client="b"))
    # one serial: Guangzhou, then Urumqi a moment later, while both scans are still queued
    service.scan(record, serial="SN0001", gtin=None, region="CN-GD", client="c")
    travel = service.scan(record, serial="SN0001", gtin=None, region="CN-XJ", client="c")
    assert _count(service, scans) == 0  # nothing written yet
    assert {f.code for f in outcomes[-1].findings} == {"outside-market"}
    assert "impossible-travel" in {f.code for f in travel.findings}
    assert service.flush() > 0
    assert _count(service, scans) == 33
    assert _count(service, alerts, "outside-market") == 2  # DE and CN-XJ
    assert _count(service, alerts, "impossible-travel") == 1
    assert _count(service, alerts, "ghost-serial") == 2
    assert all(o.verdict is Verdict.GENUINE for o in outcomes[:30])


def test_queued_scans_are_written_when_the_app_shuts_down(deployment: Settings) -> None:
    issued_app = create_app(deployment)
    service = issued_app.state.verifying.service
    service.recorder = ScanRecorder(service.engine, interval=3600, batch=10_000)
    with TestClient(issued_app) as client:
        for _ in range(7):
            client.get("/01/06901234567915")  # never issued: a not-issued alert each
        assert _count(service, alerts, "not-issued") == 0
    assert _count(service, alerts, "not-issued") == 7


def _depth_by_scanning(body: bytes) -> int:
    """The byte-by-byte scan that ``json_depth`` replaced (the reference)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'{"a": [1, {"b": "]]]{{{"}]}',
        b'{"a": "\\"[[[", "b": [[[]]]}',
        b'["unterminated [[[[',
        b'"trailing backslash \\',
        b"]]][[",
        (ROOT / "schemas/examples/label-credential.room-ac.json").read_bytes(),
    ],
    ids=[
        "empty",
        "brackets-in-string",
        "escaped-quote",
        "unterminated",
        "backslash-end",
        "negative",
        "label-credential",
    ],
)
def test_json_depth_matches_a_byte_scan(body: bytes) -> None:
    assert json_depth(body) == _depth_by_scanning(body)


def test_json_depth_matches_a_byte_scan_on_random_texts() -> None:
    rnd = random.Random(20261124)
    for _ in range(20_000):
        body = bytes(rnd.choice(b'[]{}"\\a ') for _ in range(rnd.randint(0, 24)))
        assert json_depth(body) == _depth_by_scanning(body), body
