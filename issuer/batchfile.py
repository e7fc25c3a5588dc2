"""Read a batch of label requests for ``carbonlabel issue batch FILE.csv|FILE.jsonl``.

Two formats, both UTF-8 (a leading byte-order mark is allowed):

* **JSONL** — one LabelRequest object (``schemas/json/LabelRequest.schema.json``) per
  line; blank lines are skipped. Errors name JSON pointers into the request.
* **CSV** (RFC 4180, header row first) — one label per row, in the flattened
  columns of :data:`COLUMNS`; a list is written in one cell, items separated by
  ``;``. Empty cells are absent fields. Errors name the column (and the list item,
  counted from 1).

Each row becomes a LabelRequest dict and is validated with
:func:`schemas.validate.validate`; a bad row comes back with its line number (the
physical line where it starts) and every error as ``"<column or pointer>: <reason>"``,
so the caller can report it and go on with the rest. Problems with the file as a
whole — neither ``.csv`` nor ``.jsonl``, not UTF-8, no header, unknown, duplicate or
missing required columns — raise :class:`BatchFileError` before any row is read.

**Resuming a batch.** :func:`row_keys` gives every good row an idempotency key made
from the row itself: the SHA-256 of its LabelRequest in RFC 8785 form, and which
occurrence of that same request in the file it is (the 1st, 2nd … identical row).
Re-running a file after a crash therefore returns the labels already issued and
issues the rest, each once. The key is deliberately *not* built from the file's
bytes (fixing one bad row would then re-issue every other row) nor from the line
number (deleting a row, or a line break in a quoted CSV cell, would shift every key
after it): a row that is unchanged resumes wherever it now stands, an edited row is
a new request and is issued once. The same request in another file is the same label
too; ``run`` (``carbonlabel issue batch --run NAME``) starts a separate set of keys
for when identical rows are meant to be issued again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from credentials.canonical import canonicalize_jcs
from credentials.errors import CredentialError
from schemas.errors import FieldError, SchemaValidationError
from schemas.validate import validate
from schemas.vocabulary import KIND_LABEL_REQUEST

__all__ = [
    "COLUMNS",
    "LIST_SEPARATOR",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "BatchFileError",
    "BatchRow",
    "read_batch",
    "row_keys",
]

LIST_SEPARATOR: Final = ";"

# Plain columns: column → path of the field in the LabelRequest.
_TEXT_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "manufacturer_uscc": ("manufacturer", "uscc"),
    "manufacturer_name": ("manufacturer", "name"),
    "gtin": ("product", "gtin"),
    "product_name": ("product", "name"),
    "model": ("product", "model"),
    "product_category": ("product", "productCategory"),
    "granularity": ("product", "granularity"),
    "batch": ("product", "batchNumber"),
    "declared_unit": ("footprint", "declaredUnitOfMeasurement"),
    "declared_amount": ("footprint", "declaredUnitAmount"),
    "product_mass": ("footprint", "productMassPerDeclaredUnit"),
    "boundary": ("footprint", "boundary"),
    "boundary_description": ("footprint", "boundaryProcessesDescription"),
    "pcf_excluding_biogenic": ("footprint", "pcfExcludingBiogenicUptake"),
    "pcf_including_biogenic": ("footprint", "pcfIncludingBiogenicUptake"),
    "fossil_ghg": ("footprint", "fossilGhgEmissions"),
    "reference_period_start": ("footprint", "referencePeriodStart"),
    "reference_period_end": ("footprint", "referencePeriodEnd"),
    "exempted_emissions_percent": ("footprint", "exemptedEmissionsPercent"),
    "primary_data_share": ("footprint", "primaryDataShare"),
    "dqr_technological": ("footprint", "dqi", "technologicalDQR"),
    "dqr_geographical": ("footprint", "dqi", "geographicalDQR"),
    "dqr_temporal": ("footprint", "dqi", "temporalDQR"),
    "assessment_date": ("certification", "assessmentDate"),
    "verifier_name": ("certification", "verifier", "name"),
    "verifier_uscc": ("certification", "verifier", "uscc"),
    "accreditation_id": ("certification", "accreditation", "id"),
    "accreditation_name": ("certification", "accreditation", "name"),
    "accreditation_authority_id": ("certification", "accreditation", "issuingAuthority", "id"),
    "accreditation_authority_name": (
        "certification",
        "accreditation",
        "issuingAuthority",
        "name",
    ),
    "study_report_sha256": ("documents", "studyReportSha256"),
    "certificate_sha256": ("documents", "certificateSha256"),
    "valid_until": ("validUntil",),
}
# `;`-separated list columns.
_LIST_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "characterization_factors": ("footprint", "ipccCharacterizationFactors"),
    "cross_sectoral_standards": ("footprint", "crossSectoralStandards"),
    "market_regions": ("marketRegions",),
}
# Stage columns → PACT life-cycle stage, in life-cycle order.
_STAGE_COLUMNS: Final[Mapping[str, str]] = {
    "stage_raw_material": "raw-material-acquisition",
    "stage_manufacturing": "manufacturing",
    "stage_distribution": "distribution-and-transport",
    "stage_use": "use",
    "stage_end_of_life": "end-of-life",
}
_STAGES_LABEL: Final = "stage_*"

COLUMNS: Final[tuple[str, ...]] = (
    "manufacturer_uscc",
    "manufacturer_name",
    "gtin",
    "product_name",
    "model",
    "product_category",
    "granularity",
    "batch",
    "serial_first",
    "serial_last",
    "declared_unit",
    "declared_amount",
    "product_mass",
    "boundary",
    "boundary_description",
    "pcf_excluding_biogenic",
    "pcf_including_biogenic",
    "fossil_ghg",
    *_STAGE_COLUMNS,
    "reference_period_start",
    "reference_period_end",
    "geography",
    "characterization_factors",
    "cross_sectoral_standards",
    "product_rule_operator",
    "product_rule_operator_name",
    "product_rule_names",
    "ef_database",
    "ef_database_version",
    "exempted_emissions_percent",
    "packaging_included",
    "primary_data_share",
    "dqr_technological",
    "dqr_geographical",
    "dqr_temporal",
    "assessment_date",
    "verifier_name",
    "verifier_uscc",
    "accreditation_id",
    "accreditation_name",
    "accreditation_authority_id",
    "accreditation_authority_name",
    "study_report_sha256",
    "certificate_sha256",
    "distributors",
    "distributor_names",
    "market_regions",
    "valid_until",
)
"""Every CSV column, in the order a template lists them."""

OPTIONAL_COLUMNS: Final = frozenset(
    {
        "batch",
        "serial_first",
        "serial_last",
        "product_mass",
        "boundary_description",
        *_STAGE_COLUMNS,
        "product_rule_operator",
        "product_rule_operator_name",
        "product_rule_names",
        "exempted_emissions_percent",
        "packaging_included",
        "verifier_uscc",
        "valid_until",
    }
)
"""Columns a header may leave out (their fields are optional in a LabelRequest)."""

REQUIRED_COLUMNS: Final[tuple[str, ...]] = tuple(c for c in COLUMNS if c not in OPTIONAL_COLUMNS)
"""Columns every CSV header must have (a cell may still be empty, and then fail)."""

_TRUE: Final = frozenset({"true", "yes", "1"})
_FALSE: Final = frozenset({"false", "no", "0"})


class BatchFileError(ValueError):
    """The batch file as a whole cannot be read; no row of it is issued."""


@dataclass(frozen=True)
class BatchRow:
    """One row of a batch: where it starts, the LabelRequest, or why not.

    ``line`` is the 1-based physical line where the row starts. ``request`` is
    ``None`` exactly when ``errors`` is not empty.
    """

    line: int
    request: dict[str, Any] | None
    errors: list[str] = field(default_factory=list)


def read_batch(path: Path) -> Iterator[BatchRow]:
    """The rows of a ``.csv`` or ``.jsonl`` batch file, each validated as a LabelRequest.

    The file is read and checked as a whole first (extension, UTF-8, CSV header);
    rows are then parsed lazily. Raises :class:`BatchFileError` for a file-level
    problem and OSError if it cannot be read.
    """
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise BatchFileError(f"{path.name}: a batch must be a .csv or .jsonl file")
    text = _decode(path)
    if suffix == ".jsonl":
        return _jsonl_rows(text)
    records = _csv_records(path.name, text)
    if not records:
        raise BatchFileError(f"{path.name}: empty file; the first row must name the columns")
    columns = [name.strip() for name in records[0][1]]
    _check_header(path.name, columns)
    return _csv_rows(records[1:], columns)


def row_keys(rows: Iterable[BatchRow], run: str | None = None) -> dict[int, str]:
    """The idempotency key of every good row, by line (see the module docstring).

    ``batch:[<run>:]<32 hex of SHA-256 of the request's RFC 8785 form>:<n>``, where
    ``n`` counts identical requests in the file from 1. A row whose request has no
    RFC 8785 form (a number beyond IEEE 754 precision) gets no key; issuing it fails.
    Raises ValueError if ``run`` is empty, longer than 100 characters or holds ``:``.
    """
    if run is not None and not (0 < len(run) <= 100 and ":" not in run):
        raise ValueError("a run name is 1 to 100 characters, without ':'")
    prefix = "batch:" if run is None else f"batch:{run}:"
    seen: dict[str, int] = {}
    keys: dict[int, str] = {}
    for row in rows:
        if row.request is None:
            continue
        try:
            digest = hashlib.sha256(canonicalize_jcs(row.request)).hexdigest()[:32]
        except CredentialError:
            continue
        seen[digest] = seen.get(digest, 0) + 1
        keys[row.line] = f"{prefix}{digest}:{seen[digest]}"
    return keys


# --- whole-file checks -------------------------------------------------------------


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BatchFileError(
            f"{path.name}: not UTF-8 text (line {line}, byte {exc.start}); save the file as UTF-8"
        ) from exc


def _check_header(name: str, columns: list[str]) -> None:
    problems: list[str] = []
    known = set(COLUMNS)
    unknown = [c for c in columns if c not in known]
    if unknown:
        problems.append("unknown column(s): " + ", ".join(repr(c) for c in unknown))
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        problems.append("duplicate column(s): " + ", ".join(duplicated))
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        problems.append("missing required column(s): " + ", ".join(missing))
    if problems:
        raise BatchFileError(f"{name}: " + "; ".join(problems))


# --- JSONL ---------------------------------------------------------------------------


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _jsonl_rows(text: str) -> Iterator[BatchRow]:
    # Split on LF only: JSON strings may hold U+2028 and other characters that
    # str.splitlines() would treat as line breaks.
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            document = json.loads(
                raw, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant
            )
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            yield BatchRow(number, None, [f"/: not valid JSON: {exc}"])
            continue
        except RecursionError:
            yield BatchRow(number, None, ["/: not valid JSON: nested too deeply"])
            continue
        if not isinstance(document, dict):
            yield BatchRow(number, None, ["/: must be a JSON object (one LabelRequest a line)"])
            continue
        errors = [f"{e.pointer or '/'}: {e.reason}" for e in _schema_errors(document)]
        yield BatchRow(number, None if errors else document, errors)


def _schema_errors(request: Mapping[str, Any]) -> list[FieldError]:
    try:
        validate(KIND_LABEL_REQUEST, request)
    except SchemaValidationError as exc:
        return list(exc.errors)
    return []


# --- CSV -----------------------------------------------------------------------------


def _csv_records(name: str, text: str) -> list[tuple[int, list[str]]]:
    """Every CSV record with the line it starts on; BatchFileError if the CSV is broken.

    Tokenising is done up front so that a broken quote, which can swallow the rest
    of the file, fails the whole file rather than silently dropping rows.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    previous_end = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return records
        except csv.Error as exc:
            raise BatchFileError(
                f"{name}: malformed CSV in the record starting on line {previous_end + 1}: {exc}"
            ) from exc
        records.append((previous_end + 1, cells))
        previous_end = reader.line_num


def _csv_rows(records: list[tuple[int, list[str]]], columns: list[str]) -> Iterator[BatchRow]:
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            yield BatchRow(
                line, None, [f"row: has {len(cells)} cells; the header has {len(columns)}"]
            )
            continue
        row = {column: cell.strip() for column, cell in zip(columns, cells, strict=True)}
        request, errors = _request_from_row(row)
        yield BatchRow(line, None if errors else request, errors)


class _RowBuilder:
    """Builds one LabelRequest from a CSV row, remembering which column went where."""

    def __init__(self, row: Mapping[str, str]) -> None:
        self.row = row
        self.request: dict[str, Any] = {
            "manufacturer": {},
            "product": {},
            "footprint": {"dqi": {}},
            "certification": {"verifier": {}, "accreditation": {"issuingAuthority": {}}},
            "documents": {},
        }
        self.columns: dict[str, str] = {}  # JSON pointer → column label
        self.errors: dict[str, str] = {}  # column → parse error

    def cell(self, column: str) -> str:
        return self.row.get(column, "")

    def items(self, column: str) -> list[str]:
        return [item.strip() for item in self.cell(column).split(LIST_SEPARATOR) if item.strip()]

    def put(self, path: tuple[str, ...], value: Any, column: str) -> None:
        node = self.request
        for step in path[:-1]:
            node = node.setdefault(step, {})
        node[path[-1]] = value
        self.columns["/" + "/".join(path)] = column

    def claim(self, pointer: str, column: str) -> None:
        """Errors at ``pointer`` (or below it) are reported against ``column``."""
        self.columns[pointer] = column


def _request_from_row(row: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    builder = _RowBuilder(row)
    for column, path in _TEXT_FIELDS.items():
        builder.claim("/" + "/".join(path), column)
        if builder.cell(column):
            builder.put(path, builder.cell(column), column)
    for column, path in _LIST_FIELDS.items():
        builder.claim("/" + "/".join(path), column)
        if builder.cell(column):
            builder.put(path, builder.items(column), column)
    for add in _SPECIAL_COLUMNS:
        add(builder)
    parse_errors = [f"{column}: {reason}" for column, reason in builder.errors.items()]
    schema_errors = [
        f"{label}: {error.reason}"
        for error in _schema_errors(builder.request)
        if (label := _label(error.pointer, builder.columns)) not in builder.errors
    ]
    return builder.request, parse_errors + sorted(set(schema_errors), key=schema_errors.index)


def _label(pointer: str, columns: Mapping[str, str]) -> str:
    """The column label for an error at ``pointer``: the longest claimed prefix wins."""
    parts = pointer.split("/")
    for end in range(len(parts), 1, -1):
        label = columns.get("/".join(parts[:end]))
        if label is None:
            continue
        rest = parts[end:]
        if len(rest) == 1 and rest[0].isdigit():
            return f"{label} (item {int(rest[0]) + 1})"
        return label
    return pointer or "/"


def _add_serials(builder: _RowBuilder) -> None:
    builder.claim("/product/serialRange", "serial_first")
    builder.claim("/product/serialRange/lastSerial", "serial_last")
    first, last = builder.cell("serial_first"), builder.cell("serial_last")
    if first or last:
        serials = {"firstSerial": first} if first else {}
        if last:
            serials["lastSerial"] = last
        builder.put(("product", "serialRange"), serials, "serial_first")


def _add_stages(builder: _RowBuilder) -> None:
    builder.claim("/footprint/lifeCycleStageEmissions", _STAGES_LABEL)
    stages: list[dict[str, str]] = []
    for column, stage in _STAGE_COLUMNS.items():
        if builder.cell(column):
            builder.claim(f"/footprint/lifeCycleStageEmissions/{len(stages)}", column)
            stages.append({"stage": stage, "emissions": builder.cell(column)})
    builder.request["footprint"]["lifeCycleStageEmissions"] = stages


def _add_geography(builder: _RowBuilder) -> None:
    builder.claim("/footprint/geographyCountry", "geography")
    builder.claim("/footprint/geographyCountrySubdivision", "geography")
    value = builder.cell("geography")
    if not value:
        return
    country, dash, _ = value.partition("-")
    builder.put(("footprint", "geographyCountry"), country, "geography")
    if dash:
        builder.put(("footprint", "geographyCountrySubdivision"), value, "geography")


def _add_product_rule(builder: _RowBuilder) -> None:
    base = "/footprint/productOrSectorSpecificRules"
    builder.claim(base, "product_rule_operator")
    builder.claim(f"{base}/0/operator", "product_rule_operator")
    builder.claim(f"{base}/0/otherOperatorName", "product_rule_operator_name")
    builder.claim(f"{base}/0/ruleNames", "product_rule_names")
    operator = builder.cell("product_rule_operator")
    operator_name = builder.cell("product_rule_operator_name")
    names = builder.items("product_rule_names")
    if not (operator or operator_name or names):
        return
    rule: dict[str, Any] = {}
    if operator:
        rule["operator"] = operator
    if operator_name:
        rule["otherOperatorName"] = operator_name
    if names:
        rule["ruleNames"] = names
    builder.request["footprint"]["productOrSectorSpecificRules"] = [rule]


def _add_parallel(
    builder: _RowBuilder,
    path: tuple[str, ...],
    first: tuple[str, str, str],
    second: tuple[str, str, str],
) -> None:
    """Zip two `;`-lists (column, field, noun) into a list of objects at ``path``."""
    (col_a, field_a, noun_a), (col_b, field_b, noun_b) = first, second
    base = "/" + "/".join(path)
    builder.claim(base, col_a)
    values_a, values_b = builder.items(col_a), builder.items(col_b)
    if len(values_a) != len(values_b):
        builder.errors[col_b] = (
            f"must give one {noun_b} per {noun_a} in {col_a} "
            f"({len(values_a)} {noun_a}(s), {len(values_b)} {noun_b}(s))"
        )
    items = []
    for index, (a, b) in enumerate(zip(values_a, values_b, strict=False)):
        builder.claim(f"{base}/{index}/{field_a}", f"{col_a} (item {index + 1})")
        builder.claim(f"{base}/{index}/{field_b}", f"{col_b} (item {index + 1})")
        items.append({field_a: a, field_b: b})
    node = builder.request
    for step in path[:-1]:
        node = node.setdefault(step, {})
    node[path[-1]] = items


def _add_ef_sources(builder: _RowBuilder) -> None:
    _add_parallel(
        builder,
        ("footprint", "secondaryEmissionFactorSources"),
        ("ef_database", "name", "database"),
        ("ef_database_version", "version", "version"),
    )


def _add_distributors(builder: _RowBuilder) -> None:
    _add_parallel(
        builder,
        ("authorisedDistributors",),
        ("distributors", "uscc", "USCC"),
        ("distributor_names", "name", "name"),
    )


def _add_packaging(builder: _RowBuilder) -> None:
    builder.claim("/footprint/packagingEmissionsIncluded", "packaging_included")
    value = builder.cell("packaging_included").lower()
    if not value:
        return
    if value in _TRUE or value in _FALSE:
        builder.put(
            ("footprint", "packagingEmissionsIncluded"), value in _TRUE, "packaging_included"
        )
    else:
        builder.errors["packaging_included"] = "must be true or false"


_SPECIAL_COLUMNS: Final[tuple[Callable[[_RowBuilder], None], ...]] = (
    _add_serials,
    _add_stages,
    _add_geography,
    _add_product_rule,
    _add_ef_sources,
    _add_packaging,
    _add_distributors,
)
