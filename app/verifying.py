"""Wiring the verifier to this deployment: labels, trust list, resolvers, checkpoints.

Nothing is fetched from a URL found in input: did:web documents and status
lists resolve only when they live on this deployment's public URL (served from
the local store); anything else is refused with a clear error. A trust list
comes from ``CARBONLABEL_TRUST_LIST`` (a file) when set, else the deployment
builds its own from the issuer directory and the log key, signed by its
authority key.

What is cached, and for how long (every scan still checks status bits, validity
at ``now`` and the copy rules; see :mod:`verifier.service` for the memo):

- label records (bundle, grades, serials) and which label a Digital Link
  answers: re-read at most every ``RECORD_TTL`` (5 s), so a new grade or a new
  label for a GTIN shows within 5 s; an unchanged record keeps its receipts
  (still valid inclusion proofs) for up to a minute, so the memo stays warm
  while the log grows;
- status-list credentials: per URL for the list's ``ttl`` (Bitstring Status
  List §2.1, at most ``STATUS_LIST_MAX_TTL``), but never past a newer
  publication: this process's own drop its list at once, and any process's
  (a second worker, the CLI, another server on the same PostgreSQL) is noticed
  within ``STATUS_POLL_INTERVAL`` (0.25 s) by a one-row-per-list generation read
  (:meth:`Verifying._observe_status_changes`); so a status change shows on every
  worker's scan page, VC-API verify and badge well within a second;
- documents addressed by id and digest (grading rules, label credentials,
  which label a credential belongs to): for the life of the process;
- verification methods: 60 s, like the did:web documents they come from;
  trust list: 60 s.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Select

from app.runtime import AUTHORITY_KEY, Runtime, utcnow
from credentials.dataintegrity import ResolvedVerificationMethod
from credentials.didkey import did_key_from_public_key, did_key_verification_method_id
from credentials.didweb import DidResolver, DidWebResolver
from credentials.errors import CredentialError, DIDResolutionError, StatusListError
from credentials.multikey import Ed25519KeyPair
from issuer import build
from issuer.errors import NotFound
from issuer.service import find_label_numbers, label_numbers_of, label_of
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
STATUS_LIST_MAX_TTL = 300.0
"""Seconds; also the default when a status list states no ``ttl`` (the spec's 300000 ms)."""
METHOD_TTL = 60.0
RECORD_TTL = 5.0
"""Seconds a label record (and which label a Digital Link answers) is reused unread."""
STATUS_POLL_INTERVAL = 0.25
"""Seconds between two reads of the status-list generation (Verifying._observe_status_changes)."""
RECEIPT_REFRESH = 60.0
"""Seconds an unchanged label record keeps the receipts it was read with."""

V = TypeVar("V")


class Expiring(Generic[V]):
    """A bounded LRU whose entries also expire (``ttl`` seconds, None: never); thread-safe.

    ``get(key, load)`` returns the cached value or calls ``load()`` and keeps its
    result (None is not kept). Two threads missing together may both load. A
    value loaded while :meth:`drop` ran is returned but not kept: it may predate
    the change that caused the drop.
    """

    def __init__(
        self, size: int, ttl: float | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.size = size
        self.ttl = ttl
        self.clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0

    def get(
        self,
        key: Hashable,
        load: Callable[[], V | None],
        ttl_of: Callable[[V], float] | None = None,
    ) -> V | None:
        now = self.clock()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] > now:
                self._entries.move_to_end(key)
                return found[1]
            generation = self._generation
        value = load()
        if value is None:
            return None
        ttl = ttl_of(value) if ttl_of is not None else self.ttl
        expires = float("inf") if ttl is None else now + ttl
        with self._lock:
            if generation != self._generation:
                return value
            self._entries[key] = (expires, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def peek(self, key: Hashable) -> V | None:
        """The cached value of ``key`` if it has not expired, else None."""
        return self.get(key, lambda: None)

    def put(self, key: Hashable, value: V) -> None:
        self.drop(key)
        self.get(key, lambda: value)

    def drop(self, key: Hashable | None = None) -> None:
        """Forget ``key`` (None: everything)."""
        with self._lock:
            self._generation += 1
            if key is None:
                self._entries.clear()
            else:
                self._entries.pop(key, None)


class IssuedLabels:
    """The verifier's view of labels issued by this deployment.

    A label record is re-read at most every ``RECORD_TTL`` seconds. When the
    re-read finds the same label (same credential, entry and grade credentials)
    the record already held is kept, receipts included, for up to
    ``RECEIPT_REFRESH`` seconds: its receipts still prove inclusion, and the
    verification memo keeps answering for it while the log grows.
    """

    def __init__(self, runtime: Runtime, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.runtime = runtime
        self.monotonic = monotonic
        self._records: Expiring[tuple[float, float, LabelRecord]] = Expiring(4096, None)
        self._links: Expiring[tuple[str, ...]] = Expiring(4096, RECORD_TTL, monotonic)
        self._numbers: Expiring[str] = Expiring(65536, None)

    def by_number(self, label_number: str) -> LabelRecord | None:
        now = self.monotonic()
        held = self._records.peek(label_number)
        if held is not None and now - held[0] < RECORD_TTL:
            return held[2]
        record = self._load(label_number)
        if record is None:
            self._records.drop(label_number)
            return None
        born = now
        if held is not None and now - held[1] < RECEIPT_REFRESH and _same_label(held[2], record):
            record, born = held[2], held[1]
        self._records.put(label_number, (now, born, record))
        return record

    def _load(self, label_number: str) -> LabelRecord | None:
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

    def for_link(self, gtin: str, batch: str | None, serial: str | None) -> tuple[str, ...]:
        """The labels a Digital Link without ``?label=`` may mean (find_label_numbers)."""
        found = self._links.get(
            (gtin, batch, serial),
            lambda: tuple(find_label_numbers(self.runtime.engine, gtin, batch, serial)) or None,
        )
        return found or ()

    def by_credential(self, credential_id: str) -> LabelRecord | None:
        number = self._numbers.get(
            credential_id, lambda: label_of(self.runtime.engine, credential_id)
        )
        return None if number is None else self.by_number(number)


class Verifying:
    """The deployment's verifier: its service, trust list and verification context."""

    def __init__(
        self, runtime: Runtime, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        """``monotonic`` is the clock of the caches' lifetimes (tests pass their own)."""
        self.runtime = runtime
        self.public_url = runtime.settings.public_url.rstrip("/")
        self._key_windows: dict[str, tuple[float, tuple[datetime, datetime | None] | None]] = {}
        self.checkpoints = CheckpointMemory(InMemoryCheckpointStore())
        self._trust: tuple[float, dict[str, Any], TrustList] | None = None
        self._configured: Expiring[TrustList] = Expiring(1, 60.0)
        self._lock = threading.Lock()
        self._status_lists: Expiring[dict[str, Any]] = Expiring(
            1024, STATUS_LIST_MAX_TTL, monotonic
        )
        self._methods: Expiring[ResolvedVerificationMethod] = Expiring(1024, METHOD_TTL, monotonic)
        self._rules: Expiring[dict[str, Any]] = Expiring(1024, None)
        self._label_credentials: Expiring[dict[str, Any]] = Expiring(4096, None)
        self._previous_lists: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._observing = False
        self._monotonic = monotonic
        self._status_poll = threading.Lock()
        self._status_checked = float("-inf")
        self._status_generation: int | None = None
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
            labels=IssuedLabels(runtime, monotonic),
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
        method = self._methods.get(
            method_id, lambda: self.did_resolver.resolve_verification_method(method_id)
        )
        assert method is not None
        return method

    def status_list(self, url: str) -> dict[str, Any]:
        """The status-list credential at ``url``, cached for its ``ttl``. Callers must not
        modify it (it is shared until it expires)."""
        prefix = f"{self.public_url}/status/"
        if not url.startswith(prefix):
            raise StatusListError(
                StatusListError.STATUS_RETRIEVAL_ERROR,
                f"status lists are retrieved only from {self.public_url}, not {url}",
            )

        self._observe_status_changes()

        def fetch() -> dict[str, Any]:
            try:
                document = self.runtime.issuer.status_list(url[len(prefix) :])
            except NotFound as exc:
                raise StatusListError(StatusListError.STATUS_RETRIEVAL_ERROR, str(exc)) from exc
            with self._lock:  # the same version again: keep the object the memo keys on
                previous = self._previous_lists.get(url)
                if previous is not None and previous == document:
                    return previous
                self._previous_lists[url] = document
                while len(self._previous_lists) > 1024:
                    self._previous_lists.popitem(last=False)
            return document

        document = self._status_lists.get(url, fetch, _status_list_ttl)
        assert document is not None
        return document

    def status_changed(self, url: str | None = None) -> None:
        """A status list was re-published (None: any): drop the cached copy now."""
        self._status_lists.drop(url)

    def _observe_status_changes(self) -> None:
        """Drop the cached status lists when any process has published a new version.

        This process's own publications drop their list at once (a listener on
        :class:`issuer.status.StatusLists`); those of other processes sharing the
        database (other workers, the CLI, other app servers) are noticed by reading
        :meth:`issuer.status.StatusLists.generation` at most every
        ``STATUS_POLL_INTERVAL`` seconds, one query on a handful of rows.
        """
        now = self._monotonic()
        if now < self._status_checked + STATUS_POLL_INTERVAL:
            return
        with self._status_poll:
            if now < self._status_checked + STATUS_POLL_INTERVAL:
                return
            status_lists = self.runtime.issuer.status_lists
            if not self._observing:
                status_lists.listeners.append(self.status_changed)
                self._observing = True
            generation = status_lists.generation()
            if generation != self._status_generation:
                if self._status_generation is not None:
                    self.status_changed()
                self._status_generation = generation
            self._status_checked = now

    def consistency(self, origin: str, old: int, new: int) -> list[bytes]:
        if origin != self.runtime.settings.log_origin:
            raise DIDResolutionError(f"no consistency source for log {origin}")
        return list(self.runtime.store.consistency_proof(old, new))

    def grading_rule(self, rule_id: str, version: str) -> dict[str, Any] | None:
        """A published rule (immutable: a version is never re-published differently)."""

        def load() -> dict[str, Any] | None:
            try:
                return self.runtime.issuer.rule(rule_id, version)
            except NotFound:
                return None

        return self._rules.get((rule_id, version), load)

    def label_credential(self, credential_id: str) -> dict[str, Any] | None:
        """A stored credential (immutable once logged; the grade check compares digests)."""

        def load() -> dict[str, Any] | None:
            try:
                return self.runtime.issuer.issued(credential_id).credential
            except NotFound:
                return None

        return self._label_credentials.get(credential_id, load)

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
            path = configured

            def load() -> TrustList:
                document = json.loads(path.read_text("utf-8"))
                authority = self.runtime.settings.trust_authority or self.authority_did
                return load_trust_list(document, authority=authority, now=now)

            trust = self._configured.peek(path)
            if trust is None or not trust.issued <= now <= trust.valid_until:
                self._configured.drop()
                trust = self._configured.get(path, load)
            assert trust is not None
            return trust
        self.signed_trust_list(now)
        assert self._trust is not None
        return self._trust[2]

    def key_window(self, method_id: str) -> tuple[datetime, datetime | None] | None:
        """When one of this deployment's issuer keys was in service (None: not ours).

        From the keystore: a version is in service from its creation until the
        rotation that retired it. Cached for a minute (rotation is rare).
        """
        cached = self._key_windows.get(method_id)
        if cached is not None and time.monotonic() - cached[0] < 60:
            return cached[1]
        did, _, fragment = method_id.partition("#")
        window: tuple[datetime, datetime | None] | None = None
        org = next((o for o in self.runtime.directory.orgs() if o.did == did), None)
        if org is not None and fragment.startswith("key-") and _ascii_digits(fragment[4:]):
            try:
                version = self.runtime.keystore.version(org.key_name, int(fragment[4:]))
            except CredentialError:
                version = None
            if version is not None:
                # proof times have whole seconds: a key is in service from its second
                window = (version.created.replace(microsecond=0), version.not_after)
        self._key_windows[method_id] = (time.monotonic(), window)
        return window

    def context(self) -> VerificationContext:
        now = utcnow()
        return VerificationContext(
            key_window=self.key_window,
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

    def alert_scope(self, authorization: str | None) -> Select[Any] | None:
        """Which misuse alerts the caller may read (see :func:`verifier.http.verifier_router`).

        The label authority (``authority`` scope) reads every issuer's alerts (None); an
        organisation's ``admin`` reads only those about its own labels. Raises
        Unauthorized (no or a bad token) and Forbidden (neither scope).
        """
        principal = self.runtime.directory.authenticate(authorization)
        if "authority" in principal.scopes:
            return None
        principal.require("admin")
        return label_numbers_of(principal.org.id)

    def log_origin(self) -> str:
        return self.runtime.settings.log_origin

    def status_change(self, credential_id: str) -> dict[str, Any] | None:
        """The logged change behind a revoked or suspended credential (date, reason),
        read from the store at each call; None when there is none or the id is unknown."""
        try:
            change = self.runtime.issuer.status_change(credential_id)
        except NotFound:
            return None
        return None if change is None else change.to_json()


def _ascii_digits(text: str) -> bool:
    """``text`` is a non-empty run of 0-9 (``str.isdigit`` also takes ``¹``, ``٣``)."""
    return text.isascii() and text.isdigit()


def _same_label(held: LabelRecord, fresh: LabelRecord) -> bool:
    """The same label, apart from the receipts (which prove into newer checkpoints)."""

    def documents(record: LabelRecord) -> list[Any]:
        bundles = [record.bundle, *record.grades]
        return [(b["verifiableCredential"], b["logEntry"]) for b in bundles]

    return (
        held.issued_serials == fresh.issued_serials
        and held.serial_range == fresh.serial_range
        and held.recognitions == fresh.recognitions
        and documents(held) == documents(fresh)
    )


def _status_list_ttl(document: Mapping[str, Any]) -> float:
    """Bitstring Status List §2.1 ``ttl`` (milliseconds) in seconds, capped."""
    subject = document.get("credentialSubject")
    ttl = subject.get("ttl") if isinstance(subject, Mapping) else None
    if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl >= 0:
        return min(ttl / 1000, STATUS_LIST_MAX_TTL)
    return STATUS_LIST_MAX_TTL


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
