"""Wiring the verifier to this deployment: labels, trust list, resolvers, checkpoints.

Nothing is fetched from a URL found in input: did:web documents and status
lists resolve only when they live on this deployment's public URL (served from
the local store); anything else is refused with a clear error. A trust list
comes from ``CARBONLABEL_TRUST_LIST`` (a file) when set, else the deployment
builds its own from the issuer directory and the log key, signed by its
authority key.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from app.runtime import AUTHORITY_KEY, Runtime, utcnow
from credentials.dataintegrity import ResolvedVerificationMethod
from credentials.didkey import did_key_from_public_key, did_key_verification_method_id
from credentials.didweb import DidResolver, DidWebResolver
from credentials.errors import DIDResolutionError, StatusListError
from credentials.multikey import Ed25519KeyPair
from issuer import build
from issuer.errors import NotFound
from issuer.service import find_label_number, label_of
from verifier.checkpoints import CheckpointMemory, InMemoryCheckpointStore
from verifier.misuse import MisuseRules
from verifier.pipeline import VerificationContext
from verifier.service import LabelRecord, VerifierService
from verifier.trustlist import (
    IssuerScopes,
    TrustedIssuer,
    TrustedLog,
    TrustList,
    build_trust_list,
    load_trust_list,
    sign_trust_list,
)

TRUST_LIST_TTL = timedelta(minutes=5)


class IssuedLabels:
    """The verifier's view of labels issued by this deployment."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def by_number(self, label_number: str) -> LabelRecord | None:
        issuer = self.runtime.issuer
        try:
            issued = issuer.label(label_number)
        except NotFound:
            return None
        product = issued.credential["credentialSubject"].get("labelledProduct") or {}
        serial_range = product.get("serialRange")
        serial = issued.entry.get("products", {}).get("serial")
        return LabelRecord(
            label_number=label_number,
            bundle=issued.bundle(),
            grades=tuple(g.bundle() for g in issuer.grades_of(issued.credential["id"])),
            issued_serials=frozenset({serial}) if serial else None,
            serial_range=(serial_range["firstSerial"], serial_range["lastSerial"])
            if isinstance(serial_range, dict)
            else None,
        )

    def by_link(self, gtin: str, batch: str | None, serial: str | None) -> LabelRecord | None:
        number = find_label_number(self.runtime.engine, gtin, batch, serial)
        return None if number is None else self.by_number(number)

    def by_credential(self, credential_id: str) -> LabelRecord | None:
        number = label_of(self.runtime.engine, credential_id)
        return None if number is None else self.by_number(number)


class Verifying:
    """The deployment's verifier: its service, trust list and verification context."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.public_url = runtime.settings.public_url.rstrip("/")
        self.checkpoints = CheckpointMemory(InMemoryCheckpointStore())
        self._trust: tuple[float, dict[str, Any], TrustList] | None = None
        self._lock = threading.Lock()
        self.did_resolver = DidResolver(
            DidWebResolver(
                self._local_document,
                ttl_seconds=60,
                clock=time.monotonic,
                allow_insecure_localhost=True,
            )
        )
        self.service = VerifierService(
            engine=runtime.engine,
            labels=IssuedLabels(runtime),
            context=self.context,
            rules=MisuseRules(),
            salt=runtime.scan_salt(),
            clock=utcnow,
        )

    # -- local resolution (no network) ------------------------------------------------

    def _local_document(self, url: str) -> bytes:
        """did:web documents of this deployment, served from the local store."""
        prefix = self.public_url + "/"
        if not url.startswith(prefix):
            raise DIDResolutionError(f"did:web documents are resolved only on {self.public_url}")
        path = url[len(prefix) :]
        try:
            if path == ".well-known/did.json":
                return json.dumps(self.runtime.did_document(None)).encode()
            parts = path.split("/")
            if len(parts) == 3 and parts[0] == "issuers" and parts[2] == "did.json":
                return json.dumps(self.runtime.did_document(parts[1])).encode()
        except NotFound as exc:
            raise DIDResolutionError(str(exc)) from exc
        raise DIDResolutionError(f"no DID document at {url}")

    def resolve_method(self, method_id: str) -> ResolvedVerificationMethod:
        return self.did_resolver.resolve_verification_method(method_id)

    def status_list(self, url: str) -> dict[str, Any]:
        prefix = f"{self.public_url}/status/"
        if not url.startswith(prefix):
            raise StatusListError(
                StatusListError.STATUS_RETRIEVAL_ERROR,
                f"status lists are retrieved only from {self.public_url}, not {url}",
            )
        try:
            return self.runtime.issuer.status_list(url[len(prefix) :])
        except NotFound as exc:
            raise StatusListError(StatusListError.STATUS_RETRIEVAL_ERROR, str(exc)) from exc

    def consistency(self, origin: str, old: int, new: int) -> list[bytes]:
        if origin != self.runtime.settings.log_origin:
            raise DIDResolutionError(f"no consistency source for log {origin}")
        return list(self.runtime.store.consistency_proof(old, new))

    def grading_rule(self, rule_id: str, version: str) -> dict[str, Any] | None:
        try:
            return self.runtime.issuer.rule(rule_id, version)
        except NotFound:
            return None

    def label_credential(self, credential_id: str) -> dict[str, Any] | None:
        try:
            return self.runtime.issuer.issued(credential_id).credential
        except NotFound:
            return None

    # -- trust list -----------------------------------------------------------------------

    @property
    def authority_did(self) -> str:
        return did_key_from_public_key(self.runtime.keystore.current(AUTHORITY_KEY).public_key())

    def signed_trust_list(self, now: datetime | None = None) -> dict[str, Any]:
        """This deployment's trust list: its issuers and log key, signed by its authority."""
        now = now or utcnow()
        with self._lock:
            if self._trust is not None and time.monotonic() - self._trust[0] < 60:
                return self._trust[1]
            runtime = self.runtime
            issuers = [
                TrustedIssuer(
                    did=org.did,
                    name=org.name,
                    uscc=org.uscc,
                    valid_from=datetime(2000, 1, 1, tzinfo=now.tzinfo),
                    valid_until=None,
                    scopes=IssuerScopes(
                        frozenset(org.credential_types), frozenset(org.product_categories)
                    ),
                    jurisdiction="CN-GD",
                )
                for org in runtime.directory.orgs()
            ]
            document = build_trust_list(
                id=f"{self.public_url}/trust-list.json",
                version=int(now.timestamp()),
                issued=now - timedelta(seconds=5),
                valid_until=now + TRUST_LIST_TTL,
                issuers=issuers,
                logs=[TrustedLog(runtime.settings.log_origin, runtime.log_verifier)],
            )
            authority = runtime.keystore.current(AUTHORITY_KEY)
            pair = Ed25519KeyPair(
                public_key=authority.public_key(),
                private_key=runtime.keystore.private_key(AUTHORITY_KEY),
            )
            did = did_key_from_public_key(authority.public_key())
            signed = sign_trust_list(document, pair, did_key_verification_method_id(did), now)
            parsed = load_trust_list(signed, authority=did, now=now)
            self._trust = (time.monotonic(), signed, parsed)
            return signed

    def trust_list(self, now: datetime) -> TrustList:
        configured = self.runtime.settings.trust_list
        if configured is not None:
            document = json.loads(configured.read_text("utf-8"))
            authority = self.runtime.settings.trust_authority or self.authority_did
            return load_trust_list(document, authority=authority, now=now)
        self.signed_trust_list(now)
        assert self._trust is not None
        return self._trust[2]

    def context(self) -> VerificationContext:
        now = utcnow()
        return VerificationContext(
            now=now,
            trust_list=self.trust_list(now),
            resolve_method=self.resolve_method,
            status_list=self.status_list,
            checkpoints=self.checkpoints,
            consistency=self.consistency,
            grading_rule=self.grading_rule,
            label_credential=self.label_credential,
        )

    # -- helpers for the routes ----------------------------------------------------------------

    def require_admin(self, authorization: str | None) -> None:
        self.runtime.directory.authenticate(authorization).require("admin")

    def log_origin(self) -> str:
        return self.runtime.settings.log_origin


def summarize(credential: Mapping[str, Any]) -> Mapping[str, Any]:
    return dict(build.label_summary(credential))


def grade_summary(credential: Mapping[str, Any]) -> Mapping[str, Any]:
    subject = credential.get("credentialSubject") or {}
    rule = subject.get("gradingRule") or {}
    benchmark = subject.get("benchmark") or {}
    return {
        "grade": subject.get("grade"),
        "rule_name": rule.get("name") or rule.get("id"),
        "ratio": subject.get("ratio"),
        "benchmark_value": benchmark.get("value") if isinstance(benchmark, dict) else None,
    }
