"""The store audit: the issuer's tables checked against the log, streaming.

The log audit (:mod:`ledger.audit`) proves the entries are the ones the signed
checkpoints commit to. This audit then walks those entries and the issuer's
append-only rows together in log-index order, a window at a time, so memory
stays flat whatever the size of the log:

- every ``issue`` entry has its ``issued_credentials`` row, and every such row
  its ``issue`` entry: same credential id and digest, its ``entry`` column is the
  logged entry, its document hashes (RFC 8785, SHA-256) to the logged digest and
  its lookup columns (label number, GTIN, batch, serial, status positions) say
  what the entry and the document say. Grade credentials are such rows too;
- every ``status`` entry has its ``status_events`` row (same list, index, value,
  credential) and every such row its entry;
- every ``grading-rule`` entry has its ``grading_rules`` row with the logged
  digest, and the rule document hashes to it;
- no row claims a log index the log does not have;
- every published status-list version holds the bits of the list after some
  prefix of its logged status events, later versions after longer prefixes,
  and the newest version holds every logged change: so no version claims a bit
  no logged event set, and no logged revocation is missing from the list.

Entries of other kinds, or not the issuer's JSON at all (``carbonlabel log
append`` takes any line), own no rows here. :func:`audit_store` raises
:class:`~issuer.errors.StoreAuditError` naming the first disagreement (table,
row, log index, what differs); garbage values (a BLOB where TEXT belongs,
invalid JSON, NULL) are disagreements too, never tracebacks. The check
functions take plain values; only :func:`audit_store` reads the database.

It may run while the deployment issues: rows commit with their entries, rows
beyond the audited tree are reported only if the log still lacks their entries,
and a status list that disagrees is read again before it is reported (a change
may be published while the audit reads the list).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import rfc8785
from sqlalchemy import Engine

from credentials.canonical import canonicalize_jcs
from credentials.errors import CredentialError
from credentials.statuslist import Bitstring
from issuer.errors import StoreAuditError
from issuer.store.scan import TABLE_COLUMNS, Row, StoreScan
from ledger.store.log import LogStore
from schemas.grading import rule_digest
from schemas.logentry import ENTRY_VERSION

__all__ = [
    "StoreAuditReport",
    "audit_store",
    "check_credential",
    "check_rule",
    "check_status_event",
    "check_status_list",
]

WINDOW = 1024
"""Log entries (and the rows that belong to them) read and checked at a time."""
_PAGE = 256
"""Status-list versions or events read per query."""
_STATUS_PATH = "/status/"
_LIVE_RETRIES = 3
_LIVE_PAUSE_S = 0.2
"""A status list that disagrees is read again (after 0.2 s, then 0.4 s) before it is
reported, so a change published while the audit reads it is not a disagreement."""


@dataclass
class StoreAuditReport:
    """What a clean store audit covered."""

    tree_size: int = 0
    credentials: int = 0
    status_events: int = 0
    grading_rules: int = 0
    status_lists: int = 0
    status_list_versions: int = 0
    other_entries: int = 0
    list_purposes: dict[str, str] = field(default_factory=dict, repr=False)


# -- naming values and rows -----------------------------------------------------------------


def _show(value: Any) -> str:
    """A stored value as a message shows it: short, and saying what a non-text value is."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"a BLOB of {len(bytes(value))} bytes"
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _kind(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"a BLOB of {len(bytes(value))} bytes"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an INTEGER"
    if isinstance(value, float):
        return "a REAL"
    return type(value).__name__


def _credential_row(row: Row) -> str:
    return (
        f"issued_credentials row credential_id={_show(row.get('credential_id'))} "
        f"(log index {_show(row.get('log_index'))})"
    )


def _event_row(row: Row) -> str:
    return f"status_events row log_index={_show(row.get('log_index'))}"


def _rule_row(row: Row) -> str:
    return (
        f"grading_rules row rule_id={_show(row.get('rule_id'))} "
        f"version={_show(row.get('version'))} (log index {_show(row.get('log_index'))})"
    )


_ROW_NAMES: dict[str, Callable[[Row], str]] = {
    "issued_credentials": _credential_row,
    "status_events": _event_row,
    "grading_rules": _rule_row,
}


def _text(row: Row, column: str, where: str) -> str:
    value = row.get(column)
    if not isinstance(value, str):
        raise StoreAuditError(f"{where}: column {column} holds {_kind(value)}, not text")
    return value


def _integer(row: Row, column: str, where: str) -> int:
    value = row.get(column)
    if isinstance(value, bool) or not isinstance(value, int):
        raise StoreAuditError(f"{where}: column {column} holds {_kind(value)}, not an integer")
    return value


def _boolean(row: Row, column: str, where: str) -> bool:
    value = row.get(column)
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise StoreAuditError(f"{where}: column {column} holds {_show(value)}, not a boolean")


def _json_object(text: str, what: str, where: str) -> dict[str, Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:  # also what orjson refuses (lone surrogates, huge ints)
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise StoreAuditError(f"{where}: column {what} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise StoreAuditError(f"{where}: column {what} is not a JSON object")
    return value


def _serializes_to(value: Any, canonical: bytes) -> bool:
    """Whether ``value`` is the JSON value whose RFC 8785 form is ``canonical``.

    Tried first with orjson's sorted-keys output, which is the RFC 8785 form for the
    documents this deployment writes: equal bytes prove equal JSON values (both
    serializations are faithful), so only a mismatch pays for the exact
    canonicalization. Raises CredentialError when ``value`` has no RFC 8785 form.
    """
    try:
        if orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == canonical:
            return True
    except orjson.JSONEncodeError:
        pass
    return canonicalize_jcs(value) == canonical


def _hashes_to(value: Any, digest: str) -> str | None:
    """None when the RFC 8785 form of ``value`` hashes (SHA-256) to ``digest``
    (``sha256:<hex>``), else the digest it does hash to; the same shortcut as
    :func:`_serializes_to`. Raises CredentialError when it has no RFC 8785 form."""
    try:
        fast = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        if "sha256:" + hashlib.sha256(fast).hexdigest() == digest:
            return None
    except orjson.JSONEncodeError:
        pass
    actual = "sha256:" + hashlib.sha256(canonicalize_jcs(value)).hexdigest()
    return None if actual == digest else actual


def _first_difference(stored: Mapping[str, Any], logged: Mapping[str, Any]) -> str:
    for key in sorted(set(stored) | set(logged)):
        if key not in stored:
            return f"{key} is missing"
        if key not in logged:
            return f"{key} is not in the logged entry"
        if type(stored[key]) is not type(logged[key]) or stored[key] != logged[key]:
            return f"{key} is {_show(stored[key])}, the log says {_show(logged[key])}"
    return "its canonical bytes differ"


def _list_id(url: Any) -> str | None:
    """The list id at the end of a status-list URL (``{public_url}/status/{list_id}``)."""
    if not isinstance(url, str) or _STATUS_PATH not in url:
        return None
    return url.rsplit(_STATUS_PATH, 1)[1]


# -- one row against its entry ------------------------------------------------------------


def check_credential(row: Row, index: int, data: bytes, entry: Mapping[str, Any]) -> None:
    """An ``issued_credentials`` row against its ``issue`` log entry (``data``, parsed).

    Raises StoreAuditError naming the row and the first column that disagrees.
    """
    where = _credential_row(row)
    credential_id = _text(row, "credential_id", where)
    if credential_id != entry.get("credential"):
        raise StoreAuditError(
            f"{where}: log entry {index} issued credential {_show(entry.get('credential'))}"
        )
    digest = _text(row, "digest", where)
    if digest != entry.get("digest"):
        raise StoreAuditError(
            f"{where}: digest is {_show(digest)}, log entry {index} says "
            f"{_show(entry.get('digest'))}"
        )
    stored_entry = _json_object(_text(row, "entry", where), "entry", where)
    try:
        same = _serializes_to({"v": ENTRY_VERSION, **stored_entry}, data)
    except CredentialError as exc:
        raise StoreAuditError(f"{where}: column entry has no RFC 8785 form: {exc}") from exc
    if not same:
        logged = dict(entry)
        difference = _first_difference({"v": ENTRY_VERSION, **stored_entry}, logged)
        raise StoreAuditError(f"{where}: column entry is not log entry {index} ({difference})")
    document = _json_object(_text(row, "document", where), "document", where)
    try:
        actual = _hashes_to(document, digest)
    except CredentialError as exc:
        raise StoreAuditError(f"{where}: document has no RFC 8785 form: {exc}") from exc
    if actual is not None:
        raise StoreAuditError(
            f"{where}: the stored document hashes to {actual}, but log entry {index} "
            f"says {digest}: the document was altered"
        )
    if document.get("id") != credential_id:
        raise StoreAuditError(f"{where}: the document's id is {_show(document.get('id'))}")
    _check_lookup_columns(row, where, index, entry)


def _check_lookup_columns(row: Row, where: str, index: int, entry: Mapping[str, Any]) -> None:
    """The columns credentials are found and their status read by must say what the
    logged entry says."""
    if row.get("label_number") != entry.get("labelNumber"):
        raise StoreAuditError(
            f"{where}: label_number is {_show(row.get('label_number'))}, log entry {index} "
            f"says {_show(entry.get('labelNumber'))}"
        )
    products = entry.get("products")
    products = products if isinstance(products, dict) else {}
    for column in ("gtin", "batch", "serial"):
        stored = row.get(column) or None
        if stored != products.get(column):
            raise StoreAuditError(
                f"{where}: {column} is {_show(row.get(column))}, log entry {index} says "
                f"{_show(products.get(column))}"
            )
    if "statusIndex" in entry and row.get("status_list_index") != entry["statusIndex"]:
        raise StoreAuditError(
            f"{where}: status_list_index is {_show(row.get('status_list_index'))}, log entry "
            f"{index} says {_show(entry['statusIndex'])}"
        )
    if "statusList" in entry and row.get("revocation_list") != _list_id(entry["statusList"]):
        raise StoreAuditError(
            f"{where}: revocation_list is {_show(row.get('revocation_list'))}, log entry "
            f"{index} names {_show(entry['statusList'])}"
        )


def check_status_event(row: Row, index: int, entry: Mapping[str, Any]) -> str:
    """A ``status_events`` row against its ``status`` log entry; returns the row's list id.

    Raises StoreAuditError naming the row and the first column that disagrees.
    """
    where = _event_row(row)
    list_id = _text(row, "list_id", where)
    if list_id != _list_id(entry.get("statusList")):
        raise StoreAuditError(
            f"{where}: list_id is {_show(list_id)}, log entry {index} names "
            f"{_show(entry.get('statusList'))}"
        )
    position = _integer(row, "status_index", where)
    if position != entry.get("statusIndex"):
        raise StoreAuditError(
            f"{where}: status_index is {position}, log entry {index} says "
            f"{_show(entry.get('statusIndex'))}"
        )
    value = _boolean(row, "value", where)
    if value is not entry.get("value"):
        raise StoreAuditError(
            f"{where}: value is {value}, log entry {index} says {_show(entry.get('value'))}"
        )
    credential_id = _text(row, "credential_id", where)
    if credential_id != entry.get("credential"):
        raise StoreAuditError(
            f"{where}: credential_id is {_show(credential_id)}, log entry {index} says "
            f"{_show(entry.get('credential'))}"
        )
    if "reason" in entry and row.get("reason") != entry["reason"]:
        raise StoreAuditError(
            f"{where}: reason is {_show(row.get('reason'))}, log entry {index} says "
            f"{_show(entry['reason'])}"
        )
    return list_id


def check_rule(row: Row, index: int, entry: Mapping[str, Any]) -> None:
    """A ``grading_rules`` row against its ``grading-rule`` log entry.

    Raises StoreAuditError naming the row and the first column that disagrees.
    """
    where = _rule_row(row)
    for column, key in (("rule_id", "rule"), ("version", "version")):
        if _text(row, column, where) != entry.get(key):
            raise StoreAuditError(
                f"{where}: {column} differs from log entry {index}'s {key} {_show(entry.get(key))}"
            )
    digest = _text(row, "digest", where)
    if "sha256:" + digest != entry.get("digest"):
        raise StoreAuditError(
            f"{where}: digest is {_show(digest)}, log entry {index} says "
            f"{_show(entry.get('digest'))}"
        )
    document = _json_object(_text(row, "document", where), "document", where)
    try:
        actual = rule_digest(document)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise StoreAuditError(f"{where}: document has no RFC 8785 form: {exc}") from exc
    if actual != digest:
        raise StoreAuditError(
            f"{where}: the stored rule hashes to sha256:{actual}, but log entry {index} says "
            f"sha256:{digest}: the rule was altered"
        )


# -- the status lists -------------------------------------------------------------------------


StatusEvent = tuple[int, int, bool]
"""(log index, status index, value) of one logged status change of a list."""


def _first_bit(bits: int, length: int) -> int | None:
    """The lowest status index set in ``bits`` (the list's ``length`` bytes as a big-endian
    integer: index 0 is the first byte's top bit)."""
    if bits == 0:
        return None
    return 8 * length - bits.bit_length()


def _bit(data: bytes | bytearray, position: int) -> bool:
    return bool(data[position >> 3] & (0x80 >> (position & 7)))


def check_status_list(
    list_id: str,
    versions: Iterator[tuple[int, Bitstring]],
    events: Iterator[StatusEvent],
) -> int:
    """Every version of one status list against the list's logged status events.

    ``versions`` are (version, bits) in increasing version, ``events`` the list's
    logged changes in log order. Version ``v`` must hold the bits the events up to
    some point leave, that point never moving back from one version to the next;
    the newest version must hold them all. Returns how many versions were checked;
    raises StoreAuditError naming the version, the bit and the log index.
    """
    where = f"status list {list_id!r}"
    state: bytearray | None = None
    ever_set: bytearray | None = None
    last_change: dict[int, int] = {}
    count = 0
    newest: tuple[int, bytes] | None = None
    pending = iter(events)
    remaining = iter(versions)
    for expected_version, (version, bits) in enumerate(remaining):
        target = bits.to_bytes()
        if version != expected_version:
            raise StoreAuditError(
                f"status_list_versions row list_id={list_id!r} version={version}: version "
                f"{expected_version} is missing"
            )
        if state is None or ever_set is None:
            state = bytearray(len(target))
            ever_set = bytearray(len(target))
        elif len(target) != len(state):
            raise StoreAuditError(
                f"status_list_versions row list_id={list_id!r} version={version}: "
                f"{8 * len(target)} entries, earlier versions have {8 * len(state)}"
            )
        differing = (int.from_bytes(state, "big") ^ int.from_bytes(target, "big")).bit_count()
        while differing:
            event = next(pending, None)
            if event is None:
                break
            differing += _apply(state, ever_set, last_change, target, event, where)
        if differing:
            newest_version = next(remaining, None) is None
            _explain(list_id, version, state, ever_set, last_change, target, newest=newest_version)
        newest = (version, target)
        count += 1
    if state is None or ever_set is None or newest is None:
        first = next(pending, None)
        if first is not None:
            raise StoreAuditError(
                f"{where}: the status change logged at log index {first[0]} was never "
                "published (the list has no version)"
            )
        return 0
    version, target = newest
    for event in pending:
        _apply(state, ever_set, last_change, target, event, where)
    if state != target:
        _explain(list_id, version, state, ever_set, last_change, target, newest=True)
    return count


def _apply(
    state: bytearray,
    ever_set: bytearray,
    last_change: dict[int, int],
    target: bytes,
    event: StatusEvent,
    where: str,
) -> int:
    """Apply one logged change to ``state``; returns the change in differing bits."""
    log_index, position, value = event
    if not 0 <= position < 8 * len(state):
        raise StoreAuditError(
            f"{where}: the status change logged at log index {log_index} sets index "
            f"{position}, outside the list's {8 * len(state)} entries"
        )
    last_change[position] = log_index
    byte, mask = position >> 3, 0x80 >> (position & 7)
    if value:
        ever_set[byte] |= mask
    if bool(state[byte] & mask) == value:
        return 0
    state[byte] ^= mask
    return -1 if bool(target[byte] & mask) == value else 1


def _explain(
    list_id: str,
    version: int,
    state: bytearray,
    ever_set: bytearray,
    last_change: dict[int, int],
    target: bytes,
    *,
    newest: bool,
) -> None:
    """Raise the StoreAuditError that says why ``target`` is not a logged state."""
    where = f"status_list_versions row list_id={list_id!r} version={version}"
    wanted = int.from_bytes(target, "big")
    claimed = _first_bit(wanted & ~int.from_bytes(ever_set, "big"), len(target))
    if claimed is not None:
        raise StoreAuditError(
            f"{where}: bit {claimed} is set, but no logged status event ever set it"
        )
    position = _first_bit(wanted ^ int.from_bytes(state, "big"), len(target))
    assert position is not None
    logged = _bit(state, position)
    at = last_change.get(position)
    if newest:
        raise StoreAuditError(
            f"{where} (the newest): bit {position} is {int(_bit(target, position))}, but the "
            f"status change logged at log index {at} made it {int(logged)}: the published "
            "list lacks a logged status change"
        )
    raise StoreAuditError(
        f"{where}: its bits are not the list's state at any point of its logged status events "
        f"after the previous version (first difference: bit {position}, last changed at log "
        f"index {at})"
    )


# -- the whole store ---------------------------------------------------------------------------


def _parse(data: bytes) -> dict[str, Any] | None:
    """The entry as the issuer logs it, or None for entries that are not the issuer's JSON."""
    try:
        entry = orjson.loads(data)
    except orjson.JSONDecodeError:
        try:
            entry = json.loads(data)
        except ValueError:
            return None
    return entry if isinstance(entry, dict) else None


_KIND_TABLE = {
    "issue": "issued_credentials",
    "status": "status_events",
    "grading-rule": "grading_rules",
}


def audit_store(
    engine: Engine,
    log: LogStore,
    tree_size: int,
    progress: Callable[[int], None] | None = None,
) -> StoreAuditReport:
    """Check the issuer's tables against entries ``0 .. tree_size - 1`` of ``log``.

    Precondition: the log audit has passed for ``tree_size``. ``progress`` is
    called with the number of entries checked so far. Raises StoreAuditError
    naming the first disagreement, or a table that cannot be read (and StoreError if
    entries are missing).
    """
    report = StoreAuditReport(tree_size=tree_size)
    try:
        with StoreScan.open(engine) as scan:
            for start in range(0, tree_size, WINDOW):
                stop = min(tree_size, start + WINDOW)
                _check_window(scan, log, start, stop, report)
                if progress is not None:
                    progress(stop)
            for table in TABLE_COLUMNS:
                _check_no_stray_rows(scan, log, table)
            _check_status_lists(scan, log, report)
    except engine.dialect.loaded_dbapi.Error as exc:  # e.g. a table dropped or altered
        raise StoreAuditError(f"the issuer's tables cannot be read: {exc}") from exc
    return report


def _check_no_stray_rows(scan: StoreScan, log: LogStore, table: str) -> None:
    """No row of ``table`` may claim a log index the log does not have. Rows committed
    meanwhile (with entries beyond the audited size) are not strays: the committed size
    is read again before a row beyond it is reported."""
    size = log.tree_size()
    while True:
        stray = scan.first_outside(table, size)
        if stray is None:
            return
        index = stray.get("log_index")
        if isinstance(index, int) and not isinstance(index, bool) and index >= size:
            newer = log.tree_size()
            if newer > size:
                size = newer
                continue
        raise StoreAuditError(
            f"{_ROW_NAMES[table](stray)}: the log has no entry {_show(index)} (tree size {size})"
        )


def _check_window(
    scan: StoreScan, log: LogStore, start: int, stop: int, report: StoreAuditReport
) -> None:
    rows: dict[str, dict[Any, Row]] = {
        table: {row["log_index"]: row for row in scan.by_log_index(table, start, stop)}
        for table in TABLE_COLUMNS
    }
    for index, data in enumerate(log.entries(start, stop, WINDOW), start):
        entry = _parse(data)
        kind = None if entry is None else entry.get("kind")
        owner = _KIND_TABLE.get(kind) if isinstance(kind, str) else None
        for table, table_rows in rows.items():
            row = table_rows.pop(index, None)
            if table == owner:
                assert entry is not None
                if row is None:
                    raise StoreAuditError(
                        f"log entry {index} ({kind} of {_show(_subject(entry))}) has no {table} row"
                    )
                _check_owned(table, row, index, data, entry, report)
            elif row is not None:
                what = f"of kind {kind!r}" if owner is not None else "not an issuer entry"
                raise StoreAuditError(
                    f"{_ROW_NAMES[table](row)}: log entry {index} is {what}; no {table} row "
                    "belongs to it"
                )
        if owner is None:
            report.other_entries += 1
    for table, table_rows in rows.items():
        for row in table_rows.values():  # log indexes that are not integers
            raise StoreAuditError(
                f"{_ROW_NAMES[table](row)}: the log has no entry {_show(row.get('log_index'))}"
            )


def _subject(entry: Mapping[str, Any]) -> Any:
    return entry.get("credential", entry.get("rule"))


def _check_owned(
    table: str,
    row: Row,
    index: int,
    data: bytes,
    entry: Mapping[str, Any],
    report: StoreAuditReport,
) -> None:
    if table == "issued_credentials":
        check_credential(row, index, data, entry)
        report.credentials += 1
    elif table == "status_events":
        list_id = check_status_event(row, index, entry)
        purpose = entry.get("purpose")
        known = report.list_purposes.setdefault(list_id, str(purpose))
        if known != purpose:
            raise StoreAuditError(
                f"{_event_row(row)}: log entry {index} changes {purpose} on list {list_id!r}, "
                f"earlier entries changed {known} on it"
            )
        report.status_events += 1
    else:
        check_rule(row, index, entry)
        report.grading_rules += 1


def _check_status_lists(scan: StoreScan, log: LogStore, report: StoreAuditReport) -> None:
    listed = scan.version_lists()
    for list_id in listed:
        if not isinstance(list_id, str):
            raise StoreAuditError(
                f"status_list_versions: a row's list_id holds {_kind(list_id)}, not text"
            )
    for list_id in sorted(set(listed) | set(report.list_purposes)):
        purpose = report.list_purposes.get(list_id)
        for attempt in range(1, _LIVE_RETRIES + 1):
            below = log.tree_size()
            try:
                checked = check_status_list(
                    list_id, _versions(scan, list_id, purpose), _events(scan, list_id, below)
                )
            except StoreAuditError:
                # On a live store a status change may commit while its list is being
                # published, or be published after the events were read: look again.
                if attempt == _LIVE_RETRIES:
                    raise
                time.sleep(_LIVE_PAUSE_S * attempt)
                continue
            break
        report.status_list_versions += checked
        report.status_lists += 1


def _versions(
    scan: StoreScan, list_id: str, purpose: str | None
) -> Iterator[tuple[int, Bitstring]]:
    after = -1
    while True:
        page = scan.versions(list_id, after, _PAGE)
        for version, document in page:
            where = f"status_list_versions row list_id={list_id!r} version={_show(version)}"
            if isinstance(version, bool) or not isinstance(version, int):
                raise StoreAuditError(f"{where}: column version holds {_kind(version)}")
            yield version, _decode_version(document, list_id, purpose, where)
            after = version
        if len(page) < _PAGE:
            return


def _decode_version(document: Any, list_id: str, purpose: str | None, where: str) -> Bitstring:
    if not isinstance(document, str):
        raise StoreAuditError(f"{where}: column document holds {_kind(document)}, not text")
    credential = _json_object(document, "document", where)
    if _list_id(credential.get("id")) != list_id:
        raise StoreAuditError(f"{where}: the document is list {_show(credential.get('id'))}")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict) or not isinstance(subject.get("encodedList"), str):
        raise StoreAuditError(f"{where}: the document has no credentialSubject.encodedList")
    if purpose is not None and subject.get("statusPurpose") != purpose:
        raise StoreAuditError(
            f"{where}: statusPurpose is {_show(subject.get('statusPurpose'))}, the logged "
            f"status changes of this list are {purpose}"
        )
    try:
        return Bitstring.decode(subject["encodedList"])
    except CredentialError as exc:
        raise StoreAuditError(f"{where}: encodedList cannot be decoded: {exc}") from exc


def _events(scan: StoreScan, list_id: str, below: int) -> Iterator[StatusEvent]:
    after = -1
    while True:
        page = scan.list_events(list_id, after, below, _PAGE)
        for log_index, position, value in page:
            row = {"log_index": log_index, "status_index": position, "value": value}
            where = _event_row(row)
            yield (
                _integer(row, "log_index", where),
                _integer(row, "status_index", where),
                _boolean(row, "value", where),
            )
            after = log_index
        if len(page) < _PAGE:
            return
