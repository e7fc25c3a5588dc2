"""The issuance pipeline: validate, number, sign, log, store, prove.

Every issuance and every status change is one log entry. The row that stores
a credential (or a status change, or a rule) is written by an entry hook inside
the log's integrating transaction, so the credential store and the log are
consistent after a crash at any point: a credential is stored if and only if
its entry is committed. A credential is returned only with its receipt, after
that commit.

A batch (:meth:`IssuerService.issue_labels`) keeps this per label: each request
is validated, numbered and signed on its own, every entry is handed to the
sequencer at once (so one commit takes many), and each label comes back with its
receipt only if its own entry committed. The batch's label numbers and status
positions are reserved in one transaction each, and
:meth:`IssuerService.issue_label_batches` signs the next batch while the sequencer
commits the one before.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Select, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from credentials.canonical import canonicalize_jcs
from credentials.dataintegrity import EDDSA_RDFC_2022, sign, sign_serialized
from credentials.errors import CredentialError
from credentials.keystore import Keystore, KeyVersion
from credentials.multikey import Ed25519KeyPair
from credentials.statuslist import status_list_entry
from credentials.vc import check_structure, credential_types, issuer_id
from issuer import build
from issuer.allocate import PURPOSES, Allocator, StatusPosition
from issuer.directory import Directory, Org, Principal
from issuer.errors import (
    Conflict,
    FieldProblem,
    Forbidden,
    GtinTaken,
    InvalidRequest,
    IssuanceFailed,
    IssuerError,
    NotFound,
    NotGradableError,
)
from issuer.gtins import GtinRegistry, refused
from issuer.status import StatusLists
from issuer.store.tables import (
    grading_rules,
    idempotency_keys,
    issued_credentials,
    status_events,
)
from ledger.errors import LedgerError
from ledger.sequencer import Sequenced, Sequencer
from ledger.store.engine import WriteTransaction
from ledger.store.log import EntryHook, LogStore, RowHook
from schemas import logentry
from schemas.digitallink import DigitalLinkError, digital_link, label_link, new_serial
from schemas.errors import InvalidGTIN, InvalidUSCC, NotGradable, SchemaValidationError
from schemas.grading import grade, rule_digest
from schemas.issuable import check_text, check_times
from schemas.logentry import entry_bytes
from schemas.validate import check_gtin, check_uscc, validate
from schemas.vocabulary import KINDS

LABEL_TYPE = "CarbonLabelCredential"
GRADE_TYPE = "GradeResultCredential"
LOG_TIMEOUT_S = 60.0
"""How long an issuance waits for the log to commit its entry (one label or a batch)."""
MAX_BATCH = 1000
"""At most this many labels in one :meth:`IssuerService.issue_labels` call."""
MAX_REASON = 1000
"""At most this many characters in the reason of a GTIN reassignment."""
_INSERT_CREDENTIAL = insert(issued_credentials)


@dataclass(frozen=True)
class Issued:
    """A credential that is in the log: with its entry and receipt (the label bundle)."""

    credential: dict[str, Any]
    entry: dict[str, Any]
    receipt: dict[str, Any]
    log_index: int
    label_number: str | None = None
    digital_link: str | None = None
    """For a label: the URI printed on it (its QR code), which resolves to this label:
    the product's Digital Link and ``?label=<number>`` (:func:`schemas.digitallink.label_link`)."""

    def bundle(self) -> dict[str, Any]:
        """The label bundle a QR code resolves to (see verifier/result.py)."""
        return {
            "verifiableCredential": self.credential,
            "logEntry": self.entry,
            "receipt": self.receipt,
        }


def printed_link(link: str | None, label_number: str | None) -> str | None:
    """The URI printed on a label: its product's Digital Link naming the label, or
    ``link`` itself when there is no label number (or it cannot be named)."""
    if link is None or label_number is None:
        return link
    try:
        return label_link(link, label_number)
    except DigitalLinkError:
        return link


def _problems(exc: SchemaValidationError, prefix: str = "") -> list[FieldProblem]:
    return [FieldProblem(prefix + e.pointer, e.reason) for e in exc.errors]


def _plain_text(document: Any, what: str, prefix: str = "") -> None:
    """Raise InvalidRequest naming every NUL or lone surrogate in ``document``."""
    try:
        check_text(document)
    except SchemaValidationError as exc:
        raise InvalidRequest(
            f"the {what} holds text that cannot be signed", _problems(exc, prefix)
        ) from exc


_DUPLICATE = "a credential with this id or label number already exists; nothing was logged"


def request_hash(body: Any) -> str:
    """SHA-256 of the RFC 8785 (JCS) form of a request body (for idempotency keys).

    Raises InvalidRequest if the body has no JCS form (e.g. an integer beyond 2**53).
    """
    try:
        return hashlib.sha256(canonicalize_jcs(body)).hexdigest()
    except CredentialError as exc:
        raise InvalidRequest(f"the request has no canonical JSON form: {exc}") from exc


def credential_digest(document: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the RFC 8785 form of a signed document.

    :func:`schemas.logentry.credential_digest` with
    :func:`credentials.canonical.canonicalize_jcs` (orjson where that is
    byte-identical). Raises InvalidRequest if the document has no JCS form.
    """
    try:
        return logentry.credential_digest(document, canonicalize_jcs)
    except CredentialError as exc:
        raise InvalidRequest(f"the credential has no canonical JSON form: {exc}") from exc


_CREDENTIAL_GTIN = "/credential/credentialSubject/labelledProduct/gtin"


def _label_owner(request: Mapping[str, Any]) -> tuple[str, str]:
    """The GTIN-14 and manufacturer USCC of a checked LabelRequest."""
    return check_gtin(request["product"]["gtin"]), str(request["manufacturer"]["uscc"])


def _category_code(request: Mapping[str, Any]) -> str:
    """The label-number code of a checked LabelRequest's product category."""
    return build.CATEGORY_CODES.get(request["product"]["productCategory"], "XX")


@dataclass(frozen=True)
class _Pending:
    """A signed credential, its log entry and its credential-store row, not yet logged.

    :attr:`store` is the entry hook: it writes the row inside the transaction that
    commits the entry, so the row exists exactly when the entry does (the rows of
    one commit as one executemany).
    """

    credential: dict[str, Any]
    entry: dict[str, Any]
    data: bytes
    row: dict[str, Any]
    label_number: str | None
    link: str | None
    before: EntryHook | None = None
    """The check-and-bind hook of a label's GTIN (issuer/gtins.py), run before the row."""

    @property
    def store(self) -> RowHook:
        # Parameters, not .values(): the statement is compiled once, not per row.
        return RowHook(_INSERT_CREDENTIAL, self.row, before=self.before)

    @property
    def gtin(self) -> str | None:
        gtin = self.row.get("gtin")
        return gtin if isinstance(gtin, str) else None

    def issued(self, receipt: dict[str, Any], index: int) -> Issued:
        return Issued(self.credential, self.entry, receipt, index, self.label_number, self.link)


class _Submitted:
    """A batch of labels handed to the sequencer; :meth:`results` waits for its commits."""

    def __init__(
        self,
        service: IssuerService,
        refused: dict[int, Issued | IssuerError],
        positions: list[int],
        pending: list[_Pending],
        keys: set[str],
        size: int,
    ) -> None:
        self.keys = keys
        """The batch's idempotency keys."""
        self._service = service
        self._results = refused
        self._positions = positions
        self._pending = pending
        self._size = size
        self._gtins = [p.gtin for p in pending if p.gtin is not None]
        service.gtins.add_in_flight(self._gtins)
        try:
            self._futures = service._submit_many(pending)
        except BaseException:
            service.gtins.remove_in_flight(self._gtins)
            raise

    def results(self) -> list[Issued | IssuerError]:
        """One result per request, in order (see :meth:`IssuerService.issue_labels`)."""
        futures = self._futures
        try:
            if isinstance(futures, IssuerError):
                logged: list[Issued | IssuerError] = [futures] * len(self._pending)
            else:
                logged = self._service._collect_many(self._pending, futures)
        finally:
            self._service.gtins.remove_in_flight(self._gtins)
            self._gtins = []
        self._results.update(zip(self._positions, logged, strict=True))
        return [self._results[position] for position in range(self._size)]


@dataclass(frozen=True)
class StatusChange:
    """The logged status change in force: revoked or suspended, when, and why."""

    purpose: str
    """``revocation`` or ``suspension``."""
    at: datetime
    """When the change was logged (aware, UTC)."""
    reason: str | None
    log_index: int

    def to_json(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "at": self.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "reason": self.reason,
            "logIndex": self.log_index,
        }


@dataclass(frozen=True)
class _SigningKey:
    version: KeyVersion
    pair: Ed25519KeyPair
    successor: str
    """The file a rotation would write next: ``<keys dir>/<name>.<version + 1>.json``."""


class IssuerService:
    """Issues labels and grades, changes status, publishes rules and status lists."""

    def __init__(
        self,
        *,
        engine: Engine,
        store: LogStore,
        sequencer: Sequencer,
        directory: Directory,
        keystore: Keystore,
        public_url: str,
        clock: Callable[[], datetime],
        cryptosuite: str = EDDSA_RDFC_2022,
    ) -> None:
        self.engine = engine
        self.store = store
        self.sequencer = sequencer
        self.directory = directory
        self.keystore = keystore
        self.public_url = public_url.rstrip("/")
        self.clock = clock
        self.cryptosuite = cryptosuite
        self._keys: dict[str, _SigningKey] = {}
        self._keys_lock = threading.Lock()
        self.allocator = Allocator(engine, clock=clock)
        self.status_lists = StatusLists(
            engine,
            list_url=self.status_list_url,
            issuer_did=lambda org_id: self.directory.org_by_id(org_id).did,
            sign=self._sign_status_list,
        )
        self.gtins = GtinRegistry(engine)

    # -- keys ---------------------------------------------------------------------

    def signing_key(self, org: Org) -> tuple[Ed25519KeyPair, str]:
        """The issuer's current key pair and its verification method id.

        The current version is kept per key name and read again from the keystore
        (which authenticates every version file) only once a rotation, by this
        process or another, has written the next version's file
        ``<name>.<version + 1>.json`` (credentials/keystore.py: the new version's
        file appears before the old one is retired). Raises KeystoreError.
        """
        name = org.key_name
        with self._keys_lock:
            known = self._keys.get(name)
            if known is None or os.path.exists(known.successor):
                version = self.keystore.current(name)
                pair = Ed25519KeyPair(
                    public_key=version.public_key(),
                    private_key=self.keystore.private_key(name, version.version),
                )
                successor = self.keystore.directory / f"{name}.{version.version + 1}.json"
                known = self._keys[name] = _SigningKey(version, pair, str(successor))
        return known.pair, known.version.verification_method_id(org.did)

    def _sign(
        self, org: Org, document: dict[str, Any], now: datetime
    ) -> tuple[dict[str, Any], bytes]:
        """The signed document and its RFC 8785 bytes (what its digest hashes)."""
        pair, method = self.signing_key(org)
        try:
            return sign_serialized(
                document,
                pair,
                verification_method=method,
                cryptosuite=self.cryptosuite,
                created=now,
            )
        except CredentialError as exc:
            raise InvalidRequest(f"the credential cannot be signed: {exc}") from exc

    # -- status lists ---------------------------------------------------------------

    def _sign_status_list(
        self, org_id: int, unsigned: dict[str, Any], now: datetime
    ) -> dict[str, Any]:
        return self._sign(self.directory.org_by_id(org_id), unsigned, now)[0]

    def status_list_url(self, list_id: str) -> str:
        return f"{self.public_url}/status/{list_id}"

    def _status_entries(self, position: StatusPosition) -> list[dict[str, Any]]:
        return [
            status_list_entry(self.status_list_url(position.list_for(p)), position.index, p)
            for p in PURPOSES
        ]

    def _allocate(self, org: Org, now: datetime) -> StatusPosition:
        position, opened = self.allocator.status(org.id, org.slug)
        if opened:
            self.status_lists.publish_all(map(position.list_for, PURPOSES), now)
        return position

    def publish_status_list(self, list_id: str, now: datetime) -> dict[str, Any]:
        """Make the newest signed version of a list hold every logged change (issuer/status.py)."""
        return self.status_lists.publish(list_id, now)

    def status_list(self, list_id: str) -> dict[str, Any]:
        """The newest signed status-list credential (every logged change). Raises NotFound."""
        return self.status_lists.newest(list_id, self.clock())

    # -- issuance -------------------------------------------------------------------

    def _idempotent(self, org: Org, key: str | None, body: Any, now: datetime) -> Issued | None:
        """The earlier result for a retried request, or None to go ahead.

        Raises InvalidRequest (a bad key) and Conflict (the key was used with another
        request); ``body`` is hashed (:func:`request_hash`) only when there is a key.
        """
        if key is None:
            return None
        if not 1 <= len(key) <= 255:
            raise InvalidRequest("Idempotency-Key must be 1 to 255 characters")
        body_hash = request_hash(body)
        with WriteTransaction(self.engine) as conn:
            row = conn.execute(
                select(idempotency_keys.c.request_hash).where(
                    idempotency_keys.c.org_id == org.id, idempotency_keys.c.key == key
                )
            ).first()
            if row is None:
                conn.execute(
                    insert(idempotency_keys).values(
                        org_id=org.id, key=key, request_hash=body_hash, created_at=now
                    )
                )
                return None
        if row.request_hash != body_hash:
            raise Conflict("this Idempotency-Key was used with a different request")
        with self.engine.connect() as conn:
            credential_id = conn.execute(
                select(issued_credentials.c.credential_id).where(
                    issued_credentials.c.org_id == org.id,
                    issued_credentials.c.idempotency_key == key,
                )
            ).scalar_one_or_none()
        return None if credential_id is None else self.issued(credential_id)

    def _idempotent_many(
        self, org: Org, keyed: Sequence[tuple[str, Any, datetime]]
    ) -> dict[str, Issued | IssuerError]:
        """:meth:`_idempotent` for the ``(key, body, now)`` of a batch, in one transaction.

        Returns, by key, what stands in for the request instead of issuing it: the
        earlier Issued, or the IssuerError of that key (InvalidRequest, Conflict).
        A key not returned is new (now recorded), or recorded with the same request
        but never logged (a run that stopped first): go ahead.
        """
        outcomes: dict[str, Issued | IssuerError] = {}
        hashes: dict[str, tuple[str, datetime]] = {}
        for key, body, now in keyed:
            try:
                if not 1 <= len(key) <= 255:
                    raise InvalidRequest("Idempotency-Key must be 1 to 255 characters")
                hashes[key] = (request_hash(body), now)
            except InvalidRequest as exc:
                outcomes[key] = exc
        if not hashes:
            return outcomes
        where = (idempotency_keys.c.org_id == org.id, idempotency_keys.c.key.in_(list(hashes)))
        with WriteTransaction(self.engine) as conn:
            known = dict(
                conn.execute(
                    select(idempotency_keys.c.key, idempotency_keys.c.request_hash).where(*where)
                ).all()
            )
            new = [
                {"org_id": org.id, "key": key, "request_hash": digest, "created_at": now}
                for key, (digest, now) in hashes.items()
                if key not in known
            ]
            if new:  # a key a concurrent request just recorded is left to it (no 500)
                dialect = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
                conn.execute(dialect(idempotency_keys).on_conflict_do_nothing(), new)
        for key, digest in known.items():
            if digest != hashes[key][0]:
                outcomes[key] = Conflict("this Idempotency-Key was used with a different request")
        retried = [key for key in known if key not in outcomes]
        if retried:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(issued_credentials).where(
                        issued_credentials.c.org_id == org.id,
                        issued_credentials.c.idempotency_key.in_(retried),
                    )
                ).all()
            for row in rows:
                outcomes[row.idempotency_key] = self._issued(row)
        return outcomes

    def issue_label(
        self,
        principal: Principal,
        request: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> Issued:
        """POST /labels: build, sign, log and store a CarbonLabelCredential.

        Raises Forbidden, InvalidRequest (all errors, with pointers), Conflict,
        IssuanceFailed.
        """
        principal.require("issue")
        org = principal.org
        now = self.clock()
        self._check_label_request(org, request, now)
        earlier = self._idempotent(org, idempotency_key, request, now)
        if earlier is not None:
            return earlier
        gtin, manufacturer = _label_owner(request)
        self.gtins.check(gtin, manufacturer, "/product/gtin")
        return self._log(self._prepare_label(org, request, now, idempotency_key))

    def issue_labels(
        self,
        principal: Principal,
        requests: Sequence[Mapping[str, Any]],
        *,
        idempotency_keys: Sequence[str | None] | None = None,
    ) -> list[Issued | IssuerError]:
        """POST /labels/batch: issue many labels, their log entries committed together.

        Returns one result per request, in order: the :class:`Issued` label (with
        its receipt), or the IssuerError that kept that request from being issued:
        InvalidRequest (pointers into that request), Forbidden (a category outside
        the issuer's scope), Conflict (an idempotency key reused with another
        request, or twice in the batch), IssuanceFailed (its entry did not commit,
        or it committed and its receipt could not be read; then
        :meth:`issued` returns it later). A label is returned, and stored, only
        with its committed entry; nothing of a request that failed is stored.

        Raises Forbidden (no ``issue`` scope) and InvalidRequest (more than
        :data:`MAX_BATCH` requests, or keys not one per request) for the whole
        batch, and whatever a single issuance raises for other reasons
        (KeystoreError) before any entry reaches the log.
        """
        return self._submit_labels(principal, requests, idempotency_keys).results()

    def issue_label_batches(
        self,
        principal: Principal,
        batches: Iterable[tuple[Sequence[Mapping[str, Any]], Sequence[str | None] | None]],
    ) -> Iterator[list[Issued | IssuerError]]:
        """:meth:`issue_labels` for each ``(requests, idempotency_keys)``, pipelined.

        Yields each batch's results in order. The next batch is validated, numbered
        and signed while the sequencer commits the one before (``carbonlabel issue
        batch``), so its commit does not leave the issuing thread idle. A batch
        that reuses an idempotency key still in flight waits for that commit first.
        Raises as :meth:`issue_labels`, after yielding the results of the batch in flight.
        """
        in_flight: _Submitted | None = None
        for requests, keys in batches:
            if in_flight is not None and in_flight.keys.intersection(keys or ()):
                yield in_flight.results()
                in_flight = None
            try:
                submitted = self._submit_labels(principal, requests, keys)
            except BaseException:
                if in_flight is not None:  # committed or failing on its own: report it first
                    yield in_flight.results()
                raise
            if in_flight is not None:
                yield in_flight.results()
            in_flight = submitted
        if in_flight is not None:
            yield in_flight.results()

    def _submit_labels(
        self,
        principal: Principal,
        requests: Sequence[Mapping[str, Any]],
        idempotency_keys: Sequence[str | None] | None,
    ) -> _Submitted:
        """Check, number, sign and queue a batch of labels; its results come from the handle."""
        principal.require("issue")
        if len(requests) > MAX_BATCH:
            raise InvalidRequest(f"a batch holds at most {MAX_BATCH} labels, not {len(requests)}")
        keys: Sequence[str | None] = idempotency_keys or [None] * len(requests)
        if len(keys) != len(requests):
            raise InvalidRequest(f"{len(keys)} idempotency keys for {len(requests)} requests")
        org = principal.org
        results: dict[int, Issued | IssuerError] = {}
        checked: list[tuple[int, Mapping[str, Any], str | None, datetime]] = []
        seen_keys: set[str] = set()
        for position, (request, key) in enumerate(zip(requests, keys, strict=True)):
            try:
                if key is not None and key in seen_keys:
                    raise Conflict(f"Idempotency-Key {key!r} is used twice in this batch")
                now = self.clock()
                self._check_label_request(org, request, now)
                if key is not None:
                    seen_keys.add(key)
                checked.append((position, request, key, now))
            except (InvalidRequest, Forbidden, Conflict) as exc:
                results[position] = exc
        keyed = [(key, request, now) for _, request, key, now in checked if key is not None]
        earlier = self._idempotent_many(org, keyed)
        for position, _, key, _ in checked:
            if key in earlier:
                results[position] = earlier[key]
        checked = [item for item in checked if item[2] not in earlier]
        checked = self._check_owners(checked, results)
        if checked:
            codes = Counter(_category_code(request) for _, request, _, _ in checked)
            self.allocator.reserve(checked[0][3].year, codes, org.id, org.slug, len(checked))
        pending: list[tuple[int, _Pending]] = []
        for position, request, key, now in checked:
            try:
                pending.append((position, self._prepare_label(org, request, now, key)))
            except InvalidRequest as exc:
                results[position] = exc
        return _Submitted(
            self,
            results,
            [position for position, _ in pending],
            [item for _, item in pending],
            seen_keys,
            len(requests),
        )

    def _check_owners(
        self,
        checked: list[tuple[int, Mapping[str, Any], str | None, datetime]],
        results: dict[int, Issued | IssuerError],
    ) -> list[tuple[int, Mapping[str, Any], str | None, datetime]]:
        """The checked requests whose manufacturer owns their GTIN (or may bind it first);
        the others get a GtinTaken result. One query for the whole batch; within the
        batch, the first request for an unbound GTIN claims it."""
        owners: dict[str, str] = self.gtins.owners(_label_owner(r)[0] for _, r, _, _ in checked)
        kept = []
        for item in checked:
            gtin, manufacturer = _label_owner(item[1])
            owner = owners.setdefault(gtin, manufacturer)
            if owner != manufacturer:
                results[item[0]] = refused(gtin, owner, manufacturer, "/product/gtin")
            else:
                kept.append(item)
        return kept

    def _check_label_request(self, org: Org, request: Mapping[str, Any], now: datetime) -> None:
        """Validate a LabelRequest to be issued at ``now`` and the issuer's scope for its
        category: text that can be signed (:func:`schemas.issuable.check_text`), the
        schema, and times that make sense at ``now`` (:func:`schemas.issuable.check_times`).

        Raises InvalidRequest (every error, with pointers) and Forbidden.
        """
        _plain_text(request, "label request")
        try:
            validate("LabelRequest", request)
        except SchemaValidationError as exc:
            raise InvalidRequest("the label request does not validate", _problems(exc)) from exc
        try:
            check_times("LabelRequest", request, now)
        except SchemaValidationError as exc:
            raise InvalidRequest("the label request cannot be issued now", _problems(exc)) from exc
        org.may_issue(LABEL_TYPE, request["product"].get("productCategory"))

    def _prepare_label(
        self,
        org: Org,
        request: Mapping[str, Any],
        now: datetime,
        idempotency_key: str | None,
    ) -> _Pending:
        """Number, link, place in a status list, build and sign a checked LabelRequest.

        Precondition: :meth:`_check_label_request` passed. Raises InvalidRequest
        (no Digital Link for the product, or the credential cannot be signed).
        Writes nothing but allocations (a number that is never logged is a gap).
        """
        product = request["product"]
        code = _category_code(request)
        number = build.label_number(
            now.year, code, self.allocator.label_sequence(now.year, code, org.id)
        )
        granularity = product.get("granularity", "model")
        serial = new_serial() if granularity == "item" else None
        try:
            link = digital_link(
                self.public_url, product["gtin"], batch=product.get("batchNumber"), serial=serial
            )
        except DigitalLinkError as exc:
            raise InvalidRequest(
                "the product cannot be given a GS1 Digital Link",
                [FieldProblem("/product", str(exc))],
            ) from exc
        position = self._allocate(org, now)
        unsigned = build.build_label_credential(
            request,
            issuer=build.IssuerProfile(did=org.did, name=org.name, uscc=org.uscc),
            credential_id=f"urn:uuid:{uuid.uuid4()}",
            label_number=number,
            digital_link=link,
            status_entries=self._status_entries(position),
            valid_from=now,
            validated=True,
        )
        return self._pending(
            org,
            *self._sign(org, unsigned, now),
            now,
            kind="label",
            position=position,
            label_number=number,
            link=link,
            gtin=link.split("/01/")[1][:14],
            batch=product.get("batchNumber"),
            serial=serial,
            product_category=product["productCategory"],
            idempotency_key=idempotency_key,
            manufacturer=request["manufacturer"]["uscc"],
            gtin_pointer="/product/gtin",
        )

    def issue_credential(
        self,
        principal: Principal,
        credential: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> Issued:
        """VC-API POST /credentials/issue: sign, log and store the given credential.

        The issuer is set to the organisation's DID when absent (a different one
        is refused). Label and grade credentials must validate against their
        schemas.

        The deployment owns status entries: every credential gets exactly the
        revocation and suspension entries this deployment allocates, so that a
        revocation through ``POST /credentials/status`` reaches what verifiers
        read. A credential that supplies its own ``credentialStatus`` (``[]``, or
        entries pointing elsewhere) is **refused, not replaced, because a silent
        replacement changes what the caller asked to sign**: InvalidRequest (422)
        naming ``/credential/credentialStatus``. This holds for every type, not
        only ``CarbonLabelCredential`` and ``GradeResultCredential``: a credential
        of any type logged here with status entries the deployment does not
        control would answer ``revocation: true`` and still verify.

        Also refused before anything is logged: text with NUL or lone surrogates, a
        validity window already over or inverted, an assessment or reference period in
        the future (InvalidRequest, 422, pointers under ``/credential``), an ``id`` or
        label number that exists (Conflict, 409).

        Raises Forbidden, InvalidRequest (with pointers), Conflict, IssuanceFailed;
        nothing is allocated or logged for a refused request.
        """
        principal.require("issue")
        org = principal.org
        _plain_text(credential, "credential", "/credential")
        document = dict(credential)
        if "proof" in document:
            raise InvalidRequest(
                "the credential already has a proof",
                [FieldProblem("/credential/proof", "remove it")],
            )
        if "credentialStatus" in document:
            raise InvalidRequest(
                "the deployment allocates the status entries of every credential it issues",
                [
                    FieldProblem(
                        "/credential/credentialStatus",
                        "must be absent: this deployment adds its own revocation and suspension "
                        "entries (supplied entries are refused, not replaced)",
                    )
                ],
            )
        if "issuer" not in document:
            document["issuer"] = org.did
        elif isinstance(document["issuer"], dict) and "id" not in document["issuer"]:
            document["issuer"] = {"id": org.did, **document["issuer"]}
        try:
            check_structure(document)
            named_issuer = issuer_id(document)
        except CredentialError as exc:
            raise InvalidRequest(
                "the credential is not a VC 2.0 credential", [FieldProblem("/credential", str(exc))]
            ) from exc
        if named_issuer != org.did:
            raise Forbidden(f"issuer {named_issuer} is not this organisation ({org.did})")
        types = credential_types(document)
        kind = next((k for k in KINDS if k in types), None)
        subject = document.get("credentialSubject")
        category = None
        if isinstance(subject, dict):
            product = (subject.get("labelledProduct") or {}) if kind == LABEL_TYPE else {}
            category = product.get("productCategory") if isinstance(product, dict) else None
        scoped_type = kind or types[-1]
        org.may_issue(scoped_type, category)
        now = self.clock()
        try:
            check_times(kind or scoped_type, document, now)
        except SchemaValidationError as exc:
            raise InvalidRequest(
                "the credential cannot be issued now", _problems(exc, "/credential")
            ) from exc
        earlier = self._idempotent(org, idempotency_key, dict(credential), now)
        if earlier is not None:
            return earlier
        self._refuse_existing(document)
        document.setdefault("id", f"urn:uuid:{uuid.uuid4()}")
        position = self._allocate(org, now)
        document["credentialStatus"] = self._status_entries(position)
        if kind is not None:
            try:
                validate(kind, document)
            except SchemaValidationError as exc:
                raise InvalidRequest(
                    f"the credential does not validate as {kind}", _problems(exc, "/credential")
                ) from exc
        product_info: dict[str, Any] = {}
        manufacturer = None
        if kind == LABEL_TYPE:
            product_info = dict(document["credentialSubject"].get("labelledProduct") or {})
            product_info["labelNumber"] = document["credentialSubject"].get("labelNumber")
            party = document["credentialSubject"].get("issuedToParty") or {}
            named = party.get("registeredId") if isinstance(party, dict) else None
            if isinstance(named, str) and isinstance(product_info.get("gtin"), str):
                manufacturer = named
                self.gtins.check(product_info["gtin"], manufacturer, _CREDENTIAL_GTIN)
        pending = self._pending(
            org,
            *self._sign(org, document, now),
            now,
            kind="label" if kind == LABEL_TYPE else "other",
            position=position,
            label_number=product_info.get("labelNumber"),
            link=product_info.get("digitalLink"),
            gtin=product_info.get("gtin"),
            batch=product_info.get("batchNumber"),
            serial=None,
            product_category=product_info.get("productCategory"),
            idempotency_key=idempotency_key,
            manufacturer=manufacturer,
            gtin_pointer=_CREDENTIAL_GTIN,
        )
        return self._log(pending)

    def _refuse_existing(self, document: Mapping[str, Any]) -> None:
        """Raise Conflict (409) if the credential's ``id`` or label number is already stored.

        Checked before a status position is taken and anything is logged; a request
        racing another with the same id still fails cleanly in :meth:`_log`.
        """
        subject = document.get("credentialSubject")
        number = subject.get("labelNumber") if isinstance(subject, Mapping) else None
        credential_id = document.get("id")
        conditions = []
        if isinstance(credential_id, str):
            conditions.append(issued_credentials.c.credential_id == credential_id)
        if isinstance(number, str):
            conditions.append(issued_credentials.c.label_number == number)
        if not conditions:
            return
        with self.engine.connect() as conn:
            found = conn.execute(
                select(issued_credentials.c.credential_id, issued_credentials.c.label_number).where(
                    or_(*conditions)
                )
            ).first()
        if found is None:
            return
        if found.credential_id == credential_id:
            raise Conflict(
                f"credential {credential_id} already exists; nothing was logged",
            )
        raise Conflict(f"label number {number} is already taken; nothing was logged")

    def _pending(
        self,
        org: Org,
        signed: dict[str, Any],
        canonical: bytes,
        now: datetime,
        *,
        kind: str,
        position: StatusPosition,
        label_number: str | None,
        link: str | None,
        gtin: str | None,
        batch: str | None,
        serial: str | None,
        product_category: str | None,
        idempotency_key: str | None,
        graded_credential_id: str | None = None,
        manufacturer: str | None = None,
        gtin_pointer: str = "/product/gtin",
    ) -> _Pending:
        """The log entry (schemas/logentry.py, kind ``issue``) and store row of ``signed``.

        ``canonical`` is the RFC 8785 form of ``signed``, which its digest hashes
        (:func:`credential_digest`). A label names its ``manufacturer`` (USCC) in the
        entry's ``products``; its row's hook then checks, inside the log's
        transaction, that the manufacturer owns the GTIN or binds the unbound GTIN to
        it (issuer/gtins.py; a refusal answers 409 at ``gtin_pointer``).
        """
        digest = "sha256:" + hashlib.sha256(canonical).hexdigest()
        entry: dict[str, Any] = {
            "kind": "issue",
            "credential": signed["id"],
            "digest": digest,
            "issuer": org.did,
            "types": credential_types(signed),
            "statusIndex": position.index,
            "statusList": self.status_list_url(position.revocation_list),
            "at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        named = {"gtin": gtin, "batch": batch, "serial": serial, "manufacturer": manufacturer}
        products = {k: v for k, v in named.items() if v}
        if products:
            entry["products"] = products
        if label_number is not None:
            entry["labelNumber"] = label_number
        for field in ("validFrom", "validUntil"):
            if field in signed:
                entry[field] = signed[field]
        row = {
            "credential_id": signed["id"],
            "kind": kind,
            "org_id": org.id,
            "label_number": label_number,
            "document": orjson.dumps(signed).decode("utf-8"),
            "digest": digest,
            "entry": orjson.dumps(entry).decode("utf-8"),
            "gtin": gtin,
            "batch": batch,
            "serial": serial,
            "digital_link": link,
            "product_category": product_category,
            "graded_credential_id": graded_credential_id,
            "status_list_index": position.index,
            "revocation_list": position.revocation_list,
            "suspension_list": position.suspension_list,
            "idempotency_key": idempotency_key,
            "created_at": now,
        }
        before = None
        if kind == "label" and gtin is not None and manufacturer is not None:
            before = self.gtins.binding(
                gtin, manufacturer, org.did, signed["id"], now, gtin_pointer
            )
        return _Pending(
            signed,
            entry,
            entry_bytes(entry, canonicalize_jcs),
            row,
            label_number,
            printed_link(link, label_number),
            before,
        )

    def _log(self, pending: _Pending) -> Issued:
        """Append one entry, wait for its commit, prove it.

        Raises IssuanceFailed; GtinTaken when the entry's hook refused it (the
        GTIN was bound to another manufacturer meanwhile; nothing was logged); and
        Conflict when the credential's row clashes with a stored one (same id or label
        number, stored since :meth:`_refuse_existing` looked): the row is written inside
        the entry's commit, so the entry is rolled back with it and nothing is logged.
        """
        gtins = [] if pending.gtin is None else [pending.gtin]
        self.gtins.add_in_flight(gtins)
        try:
            sequenced = self.sequencer.append(pending.data, pending.store, LOG_TIMEOUT_S)
            receipt = self.store.receipt(sequenced.index, sequenced.tree_size).to_json()
        except IntegrityError as exc:
            raise self._refused_row(pending, exc) from exc
        except (LedgerError, TimeoutError) as exc:
            raise IssuanceFailed(f"the log did not commit the credential: {exc}") from exc
        finally:
            self.gtins.remove_in_flight(gtins)
        return pending.issued(receipt, sequenced.index)

    def _refused_row(self, pending: _Pending, exc: IntegrityError) -> IssuerError:
        """Why the database refused a credential's row (and so its entry, rolled back):
        Conflict if a stored credential now has its id or label number, else
        IssuanceFailed (another constraint or trigger)."""
        try:
            self._refuse_existing(pending.credential)
        except Conflict:
            return Conflict(_DUPLICATE)
        return IssuanceFailed(f"the log did not commit the credential: {exc}")

    def _submit_many(self, pending: Sequence[_Pending]) -> list[Future[Sequenced]] | IssuerError:
        """Hand every entry to the sequencer at once: their futures, or why none was taken."""
        if not pending:
            return []
        try:
            return self.sequencer.submit_many([(p.data, p.store) for p in pending])
        except LedgerError as exc:
            return IssuanceFailed(f"the log did not take the credentials: {exc}")

    def _collect_many(
        self, pending: Sequence[_Pending], futures: Sequence[Future[Sequenced]]
    ) -> list[Issued | IssuerError]:
        """Wait for the commits of submitted entries and prove them commit by commit.

        One result per entry: the Issued credential, or IssuanceFailed when its
        entry did not commit (the sequencer commits or fails each entry on its
        own) or its receipt could not be read.
        """
        deadline = time.monotonic() + LOG_TIMEOUT_S
        committed: dict[int, list[tuple[int, Sequenced]]] = {}
        results: dict[int, Issued | IssuerError] = {}
        for position, future in enumerate(futures):
            try:
                sequenced = future.result(max(0.0, deadline - time.monotonic()))
            except GtinTaken as exc:  # its hook refused it: the entry is not in the log
                results[position] = exc
            except IntegrityError as exc:  # rolled back with its entry: see _log
                results[position] = self._refused_row(pending[position], exc)
            except TimeoutError:
                results[position] = IssuanceFailed(
                    f"the log did not commit the credential within {LOG_TIMEOUT_S:g} s "
                    "(it may still: retry with the same Idempotency-Key)"
                )
            except Exception as exc:  # the commit's own error: the entry is not in the log
                results[position] = IssuanceFailed(f"the log did not commit the credential: {exc}")
            else:
                committed.setdefault(sequenced.tree_size, []).append((position, sequenced))
        for tree_size, members in committed.items():
            try:
                receipts = self.store.receipts([s.index for _, s in members], tree_size)
            except LedgerError as exc:
                for position, sequenced in members:
                    results[position] = IssuanceFailed(
                        f"the credential is logged at index {sequenced.index}, "
                        f"but its receipt could not be read: {exc}"
                    )
                continue
            for (position, sequenced), receipt in zip(members, receipts, strict=True):
                results[position] = pending[position].issued(receipt.to_json(), sequenced.index)
        return [results[position] for position in range(len(pending))]

    # -- reading ---------------------------------------------------------------------

    def _row(self, **where: str) -> Any:
        column, value = next(iter(where.items()))
        with self.engine.connect() as conn:
            row = conn.execute(
                select(issued_credentials).where(issued_credentials.c[column] == value)
            ).first()
        if row is None:
            raise NotFound(f"no credential with {column.replace('_', ' ')} {value!r}")
        return row

    def _issued(self, row: Any) -> Issued:
        receipt = self.store.receipt(row.log_index).to_json()
        return Issued(
            json.loads(row.document),
            json.loads(row.entry),
            receipt,
            row.log_index,
            row.label_number,
            printed_link(row.digital_link, row.label_number),
        )

    def issued(self, credential_id: str) -> Issued:
        """A stored credential with a fresh receipt against the newest checkpoint."""
        return self._issued(self._row(credential_id=credential_id))

    def label(self, label_number: str) -> Issued:
        return self._issued(self._row(label_number=label_number))

    def grades_of(self, credential_id: str) -> list[Issued]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(issued_credentials)
                .where(issued_credentials.c.graded_credential_id == credential_id)
                .order_by(issued_credentials.c.log_index)
            ).all()
        return [self._issued(row) for row in rows]

    def status_of(self, credential_id: str) -> dict[str, bool]:
        """Current status bits of a credential, folded from its logged status events:
        {"revocation": bool, "suspension": bool}. Raises NotFound."""
        row = self._row(credential_id=credential_id)
        state = {purpose: False for purpose in PURPOSES}
        for event in self.status_lists.events(credential_id):
            purpose = "revocation" if event.list_id == row.revocation_list else "suspension"
            state[purpose] = event.value
        return state

    def status_change(self, credential_id: str) -> StatusChange | None:
        """The logged event behind a credential's current status, or None when it is
        neither revoked nor suspended.

        Revocation wins over suspension (as in the verifier's verdict): the newest
        event that set the revocation bit, else the newest that set the suspension
        bit while it is still set. Read from ``status_events``, the rows the log's
        status entries wrote. Raises NotFound for an unknown credential.
        """
        row = self._row(credential_id=credential_id)
        latest: dict[str, StatusChange | None] = {purpose: None for purpose in PURPOSES}
        for event in self.status_lists.events(credential_id):
            purpose = "revocation" if event.list_id == row.revocation_list else "suspension"
            latest[purpose] = (
                StatusChange(purpose, event.at, event.reason, event.log_index)
                if event.value
                else None
            )
        return latest["revocation"] or latest["suspension"]

    # -- grading rules and grades ----------------------------------------------------------

    def publish_rule(self, principal: Principal, rule: Mapping[str, Any]) -> dict[str, Any]:
        """POST /grading-rules: validate, log and store a grading rule.

        Only the label authority publishes rules (they apply to every issuer): raises
        Forbidden without the ``authority`` scope, InvalidRequest, Conflict, IssuanceFailed.
        """
        principal.require("authority")
        _plain_text(rule, "grading rule")
        try:
            validate("GradingRule", rule)
        except SchemaValidationError as exc:
            raise InvalidRequest("the grading rule does not validate", _problems(exc)) from exc
        rule_id, version = str(rule["id"]), str(rule["version"])
        with self.engine.connect() as conn:
            exists = conn.execute(
                select(grading_rules.c.digest).where(
                    grading_rules.c.rule_id == rule_id, grading_rules.c.version == version
                )
            ).first()
        digest = rule_digest(rule)
        if exists is not None:
            if exists.digest == digest:
                return self.rule(rule_id, version)
            raise Conflict(f"rule {rule_id} version {version} is already published differently")
        now = self.clock()
        entry = {
            "kind": "grading-rule",
            "rule": rule_id,
            "version": version,
            "digest": "sha256:" + digest,
            "issuer": principal.org.did,
            "at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

        def store_rule(conn: Connection, index: int) -> None:
            conn.execute(
                insert(grading_rules).values(
                    rule_id=rule_id,
                    version=version,
                    document=json.dumps(rule, ensure_ascii=False),
                    digest=digest,
                    log_index=index,
                    created_at=now,
                )
            )

        try:
            self.sequencer.append(entry_bytes(entry, canonicalize_jcs), store_rule)
        except (LedgerError, TimeoutError) as exc:
            raise IssuanceFailed(f"the log did not commit the rule: {exc}") from exc
        return self.rule(rule_id, version)

    def rule(self, rule_id: str, version: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(grading_rules.c.document).where(
                    grading_rules.c.rule_id == rule_id, grading_rules.c.version == version
                )
            ).first()
        if row is None:
            raise NotFound(f"no grading rule {rule_id} version {version}")
        result: dict[str, Any] = json.loads(row.document)
        return result

    def grade_label(
        self,
        principal: Principal,
        *,
        label: str,
        rule_id: str,
        rule_version: str,
        idempotency_key: str | None = None,
    ) -> Issued:
        """POST /grades: grade a stored label (by number or credential id) under a rule.

        Raises NotGradableError (422, with the reason) when it cannot be graded.
        """
        principal.require("issue")
        org = principal.org
        row = (
            self._row(label_number=label)
            if label.startswith("GDCL-")
            else self._row(credential_id=label)
        )
        if row.kind != "label":
            raise InvalidRequest(f"{label} is not a label credential")
        if row.org_id != org.id:
            raise Forbidden(f"label {label} was issued by another organisation")
        org.may_issue(GRADE_TYPE, row.product_category)
        if self.status_of(row.credential_id)["revocation"]:
            raise Conflict(f"label {label} is revoked and cannot be graded")
        rule = self.rule(rule_id, rule_version)
        label_credential: dict[str, Any] = json.loads(row.document)
        now = self.clock()
        footprint = label_credential["credentialSubject"]["carbonFootprint"]
        try:
            outcome = grade(footprint, rule, at=now, product_category=row.product_category)
        except NotGradable as exc:
            raise NotGradableError(exc.reason, exc.detail) from exc
        try:  # the grade's validity ends with the label's: an expired label cannot be graded
            check_times(GRADE_TYPE, {"validUntil": label_credential.get("validUntil")}, now)
        except SchemaValidationError as exc:
            raise InvalidRequest(
                f"label {label} has expired and cannot be graded",
                [
                    FieldProblem(
                        "/label", f"the label expired at {label_credential.get('validUntil')}"
                    )
                ],
            ) from exc
        earlier = self._idempotent(org, idempotency_key, [label, rule_id, rule_version], now)
        if earlier is not None:
            return earlier
        position = self._allocate(org, now)
        unsigned = build.build_grade_credential(
            label_credential,
            label_digest=row.digest,
            rule=rule,
            outcome=outcome,
            issuer=build.IssuerProfile(did=org.did, name=org.name, uscc=org.uscc),
            credential_id=f"urn:uuid:{uuid.uuid4()}",
            status_entries=self._status_entries(position),
            valid_from=now,
        )
        pending = self._pending(
            org,
            *self._sign(org, unsigned, now),
            now,
            kind="grade",
            position=position,
            label_number=None,
            link=row.digital_link,
            gtin=row.gtin,
            batch=row.batch,
            serial=None,
            product_category=row.product_category,
            idempotency_key=idempotency_key,
            graded_credential_id=row.credential_id,
        )
        return self._log(pending)

    # -- GTIN owners -------------------------------------------------------------------------

    def reassign_gtin(
        self, principal: Principal, gtin: str, manufacturer: str, reason: str
    ) -> dict[str, Any]:
        """POST /gtins/{gtin}/assignment: the label authority (scope ``authority``) gives a
        GTIN to another manufacturer; see :meth:`assign_gtin`. Raises Forbidden too."""
        principal.require("authority")
        return self.assign_gtin(principal.org.did, gtin, manufacturer, reason)

    def assign_gtin(self, issuer: str, gtin: str, manufacturer: str, reason: str) -> dict[str, Any]:
        """Log a ``gtin-assignment`` entry binding ``gtin`` to ``manufacturer`` (a USCC).

        ``issuer`` is the DID of whoever decides: the authority organisation's, or
        the deployment's authority key (``carbonlabel gtin reassign``). Returns the
        GTIN's owner and history (:meth:`gtin_owner`) with the new entry, its index
        and receipt. Raises InvalidRequest (a bad GTIN, USCC or reason, with
        pointers ``/gtin``, ``/manufacturer``, ``/reason``), Conflict (the GTIN
        already belongs to ``manufacturer``), GtinTaken (another change committed
        first) and IssuanceFailed.
        """
        problems = []
        try:
            gtin = check_gtin(gtin)
        except InvalidGTIN as exc:
            problems.append(FieldProblem("/gtin", exc.reason))
        try:
            check_uscc(manufacturer)
        except InvalidUSCC as exc:
            problems.append(FieldProblem("/manufacturer", exc.reason))
        if not isinstance(reason, str) or not reason.strip():
            problems.append(FieldProblem("/reason", "give the reason for the reassignment"))
        elif len(reason) > MAX_REASON:
            problems.append(FieldProblem("/reason", f"at most {MAX_REASON} characters"))
        if problems:
            raise InvalidRequest("the GTIN assignment does not validate", problems)
        previous = self.gtins.owner(gtin)
        if previous == manufacturer:
            raise Conflict(f"GTIN {gtin} already belongs to manufacturer {manufacturer}")
        now = self.clock()
        entry = {
            "kind": "gtin-assignment",
            "gtin": gtin,
            "manufacturer": manufacturer,
            "previous": previous,
            "issuer": issuer,
            "at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "reason": reason,
        }
        hook = self.gtins.assignment(gtin, manufacturer, previous, issuer, reason, now)
        try:
            sequenced = self.sequencer.append(entry_bytes(entry, canonicalize_jcs), hook)
            receipt = self.store.receipt(sequenced.index, sequenced.tree_size).to_json()
        except (LedgerError, TimeoutError) as exc:
            raise IssuanceFailed(f"the log did not commit the assignment: {exc}") from exc
        self.gtins.assigned(gtin, manufacturer)
        body = self.gtin_owner(gtin)
        body.update(logIndex=sequenced.index, logEntry=entry, receipt=receipt)
        return body

    def gtin_owner(self, gtin: str) -> dict[str, Any]:
        """GET /gtins/{gtin}: the manufacturer that owns a GTIN now and every binding
        (first label, reassignments), oldest first. Raises InvalidRequest (not a
        GTIN) and NotFound (never labelled nor assigned)."""
        try:
            gtin = check_gtin(gtin)
        except InvalidGTIN as exc:
            raise InvalidRequest("not a GTIN", [FieldProblem("/gtin", exc.reason)]) from exc
        history = self.gtins.history(gtin)
        if not history:
            raise NotFound(f"GTIN {gtin} was never labelled nor assigned")
        return {
            "gtin": gtin,
            "manufacturer": history[-1].manufacturer,
            "history": [binding.to_json() for binding in history],
        }

    # -- status ------------------------------------------------------------------------------

    def set_status(
        self,
        principal: Principal,
        credential_id: str,
        purpose: str,
        value: bool,
        *,
        reason: str | None = None,
    ) -> dict[str, bool]:
        """VC-API POST /credentials/status: revoke, suspend or reinstate (suspension only).

        Each change is a log entry; the status list is re-signed. Revoking a
        label also revokes the grades issued on it (with the same ``reason``).
        ``reason`` (optional here; the CLI requires it for a revocation) is logged
        in the status entry and stored with the event, so the scan page can say
        why: see :func:`schemas.logentry.check_reason` for what it may hold.
        Returns the new status. Raises InvalidRequest (a bad purpose or reason,
        before anything is logged), NotFound, Forbidden, Conflict, IssuanceFailed.
        """
        principal.require("status")
        if purpose not in PURPOSES:
            raise InvalidRequest(
                "statusPurpose must be revocation or suspension",
                [FieldProblem("/credentialStatus/statusPurpose", f"got {purpose!r}")],
            )
        if reason is not None:
            try:
                logentry.check_reason(reason)
            except logentry.LogEntryError as exc:
                raise InvalidRequest(
                    "the reason cannot be logged", [FieldProblem("/reason", str(exc))]
                ) from exc
        row = self._row(credential_id=credential_id)
        if row.org_id != principal.org.id:
            raise Forbidden("this credential was issued by another organisation")
        current = self.status_of(credential_id)
        if purpose == "revocation" and current["revocation"] and not value:
            raise Conflict("revocation is permanent: a revoked credential cannot be reinstated")
        if purpose == "suspension" and current["revocation"]:
            raise Conflict("the credential is revoked; suspension no longer applies")
        now = self.clock()
        touched = [row.revocation_list if purpose == "revocation" else row.suspension_list]
        if current[purpose] != value:
            self._log_status(principal.org, row, purpose, value, now, reason=reason)
        if purpose == "revocation" and value:
            for graded in self.grades_of(credential_id):
                graded_row = self._row(credential_id=graded.credential["id"])
                touched.append(graded_row.revocation_list)
                if not self.status_of(graded.credential["id"])["revocation"]:
                    self._log_status(
                        principal.org, graded_row, "revocation", True, now, reason=reason
                    )
        # Also when nothing new was logged: a retry re-publishes a list that lacks the change.
        self.status_lists.publish_all(touched, now)
        return self.status_of(credential_id)

    def _log_status(
        self,
        org: Org,
        row: Any,
        purpose: str,
        value: bool,
        now: datetime,
        *,
        reason: str | None = None,
    ) -> None:
        """Log one status change (with its ``reason`` when given); the caller publishes its list.

        The event row (``status_events``, ``reason`` included) is written by the
        entry's hook, in the transaction that commits the entry. Raises
        IssuanceFailed if the log does not commit it.
        """
        list_name = row.revocation_list if purpose == "revocation" else row.suspension_list
        entry = {
            "kind": "status",
            "credential": row.credential_id,
            "purpose": purpose,
            "value": value,
            "statusList": self.status_list_url(list_name),
            "statusIndex": row.status_list_index,
            "issuer": org.did,
            "at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if reason is not None:
            entry["reason"] = reason

        def store_event(conn: Connection, index: int) -> None:
            conn.execute(
                insert(status_events).values(
                    log_index=index,
                    list_id=list_name,
                    status_index=row.status_list_index,
                    value=value,
                    credential_id=row.credential_id,
                    reason=reason,
                    created_at=now,
                )
            )

        try:
            self.sequencer.append(entry_bytes(entry, canonicalize_jcs), store_event)
        except (LedgerError, TimeoutError) as exc:
            raise IssuanceFailed(f"the log did not commit the status change: {exc}") from exc


class Printing:
    """What the QR and printable-label routes need from a stored label."""

    def __init__(self, service: IssuerService) -> None:
        self.service = service

    def label_info(self, label_number: str) -> Any:
        """The printable label's contents (issuer.printable.LabelInfo).

        Its ``status`` (the REVOKED / SUSPENDED stamp) is read from the logged
        status events at every call (:meth:`IssuerService.status_of`), never cached.
        """
        from issuer.printable import LabelInfo

        issued = self.service.label(label_number)
        summary = build.label_summary(issued.credential)
        grade_text = rule_name = None
        for graded in self.service.grades_of(issued.credential["id"]):
            if self.service.status_of(graded.credential["id"])["revocation"]:
                continue
            subject = graded.credential["credentialSubject"]
            grade_text = str(subject.get("grade"))
            rule_name = str((subject.get("gradingRule") or {}).get("name") or "grading rule")
        status = self.service.status_of(issued.credential["id"])  # the logged events, now
        stamp = "revoked" if status["revocation"] else "suspended" if status["suspension"] else None
        change = self.service.status_change(issued.credential["id"]) if stamp else None
        return LabelInfo(
            status=stamp,
            status_since=None if change is None else change.at.date(),
            label_number=summary["label_number"],
            product_name=summary["product_name"],
            footprint_value=summary["footprint_value"],
            footprint_unit=f"kg CO2e / {summary['declared_unit_amount']} "
            f"{summary['declared_unit']}",
            boundary=summary["boundary"],
            issuer_name=summary["issuer_name"],
            valid_until=summary["valid_until"][:10],
            grade=grade_text,
            grade_rule=rule_name if grade_text else None,
        )

    def offline_credential(self, label_number: str) -> dict[str, Any]:
        """A compact credential for the offline QR, signed (eddsa-jcs-2022) by the label's issuer.

        It names the logged label by id and digest; ``created`` is the label's
        validFrom, so the same label always yields the same offline credential.
        """
        issued = self.service.label(label_number)
        summary = build.label_summary(issued.credential)
        row = self.service._row(label_number=label_number)
        org = self.service.directory.org_by_id(row.org_id)
        subject: dict[str, Any] = {
            "labelNumber": summary["label_number"],
            "gtin": summary["gtin"],
            "model": summary["model"],
            "pcf": summary["footprint_value"],
            "unit": f"kgCO2e/{summary['declared_unit_amount']} {summary['declared_unit']}",
            "boundary": summary["boundary"],
            "label": issued.credential["id"],
            "labelDigest": credential_digest(issued.credential),
        }
        document = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential", "OfflineCarbonLabel"],
            "issuer": org.did,
            "validFrom": issued.credential["validFrom"],
            "validUntil": issued.credential["validUntil"],
            "credentialSubject": subject,
        }
        pair, method = self.service.signing_key(org)
        created = datetime.fromisoformat(issued.credential["validFrom"].replace("Z", "+00:00"))
        return sign(
            document,
            pair,
            verification_method=method,
            cryptosuite="eddsa-jcs-2022",
            created=created,
        )


LINK_CANDIDATES = 50
"""At most this many labels (the newest) answer one Digital Link without ``?label=``."""


def find_label_numbers(
    engine: Engine,
    gtin: str,
    batch: str | None,
    serial: str | None,
    limit: int = LINK_CANDIDATES,
) -> list[str]:
    """The labels a Digital Link *without* ``?label=`` may mean, newest first (at most ``limit``).

    The first level that has any: the item label with that serial (serials are
    random and unique); the batch labels of that batch; the model labels of the
    GTIN (a serial on them is checked as a possible ghost by the verifier); for a
    bare GTIN (no batch, no serial), every label of the GTIN. Whatever their
    status: the resolver shows one directly only when it is the only candidate.
    """
    label = issued_credentials.c
    base = (
        select(label.label_number)
        .where(label.kind == "label", label.gtin == gtin, label.label_number.is_not(None))
        .order_by(label.log_index.desc())
        .limit(limit)
    )
    levels = []
    if serial is not None:
        levels.append(base.where(label.serial == serial))
    if batch is not None:
        levels.append(base.where(label.batch == batch, label.serial.is_(None)))
    levels.append(base.where(label.serial.is_(None), label.batch.is_(None)))
    if batch is None and serial is None:
        levels.append(base)
    with engine.connect() as conn:
        for query in levels:
            found = [str(n) for n in conn.execute(query).scalars()]
            if found:
                return found
    return []


def label_numbers_of(org_id: int) -> Select[tuple[str | None]]:
    """The label numbers of one organisation's labels, as a query (for a subquery)."""
    return select(issued_credentials.c.label_number).where(
        issued_credentials.c.org_id == org_id, issued_credentials.c.label_number.is_not(None)
    )


def label_of(engine: Engine, credential_id: str) -> str | None:
    """The label number of a label credential, or of the label a grade grades."""
    with engine.connect() as conn:
        row = conn.execute(
            select(
                issued_credentials.c.label_number, issued_credentials.c.graded_credential_id
            ).where(issued_credentials.c.credential_id == credential_id)
        ).first()
        if row is None:
            return None
        if row.label_number is not None:
            return str(row.label_number)
        if row.graded_credential_id is None:
            return None
        number = conn.execute(
            select(issued_credentials.c.label_number).where(
                issued_credentials.c.credential_id == row.graded_credential_id
            )
        ).scalar()
    return None if number is None else str(number)
