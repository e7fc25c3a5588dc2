"""issuer.batchfile: reading ``carbonlabel issue batch`` files (CSV and JSONL).

``tests/vectors/batch/bad-labels.csv`` was made for these tests from rows of
``examples/labels.csv`` (regenerate that with ``examples/make_labels.py``): good rows
(one with a two-line quoted cell, so later rows start one line further down), a
blank line, and three bad rows — a wrong USCC check character and GTIN check digit;
a cradle-to-gate battery with a use-stage value that breaks the stage sum; a
batch-level row without a batch number, with a non-boolean ``packaging_included``
and one name short in ``distributor_names``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from issuer.batchfile import (
    COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    BatchFileError,
    BatchRow,
    read_batch,
)
from schemas.validate import validate

ROOT = Path(__file__).resolve().parent.parent
LABELS_CSV = ROOT / "examples" / "labels.csv"
LABEL_JSON = ROOT / "examples" / "label.json"
BAD_CSV = Path(__file__).resolve().parent / "vectors" / "batch" / "bad-labels.csv"


def _label_request() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(LABEL_JSON.read_text("utf-8"))
    return loaded


def _csv_text(rows: list[dict[str, str]], columns: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def _flatten(request: dict[str, Any]) -> dict[str, str]:
    """examples/label.json written as one CSV row, column by column (the documented mapping)."""
    fp, product = request["footprint"], request["product"]
    certification = request["certification"]
    stages = {s["stage"]: s["emissions"] for s in fp["lifeCycleStageEmissions"]}
    rule = fp["productOrSectorSpecificRules"][0]
    sources = fp["secondaryEmissionFactorSources"]
    return {
        "manufacturer_uscc": request["manufacturer"]["uscc"],
        "manufacturer_name": request["manufacturer"]["name"],
        "gtin": product["gtin"],
        "product_name": product["name"],
        "model": product["model"],
        "product_category": product["productCategory"],
        "granularity": product["granularity"],
        "declared_unit": fp["declaredUnitOfMeasurement"],
        "declared_amount": fp["declaredUnitAmount"],
        "product_mass": fp["productMassPerDeclaredUnit"],
        "boundary": fp["boundary"],
        "boundary_description": fp["boundaryProcessesDescription"],
        "pcf_excluding_biogenic": fp["pcfExcludingBiogenicUptake"],
        "pcf_including_biogenic": fp["pcfIncludingBiogenicUptake"],
        "fossil_ghg": fp["fossilGhgEmissions"],
        "stage_raw_material": stages["raw-material-acquisition"],
        "stage_manufacturing": stages["manufacturing"],
        "stage_distribution": stages["distribution-and-transport"],
        "stage_use": stages["use"],
        "stage_end_of_life": stages["end-of-life"],
        "reference_period_start": fp["referencePeriodStart"],
        "reference_period_end": fp["referencePeriodEnd"],
        "geography": fp["geographyCountrySubdivision"],
        "characterization_factors": ";".join(fp["ipccCharacterizationFactors"]),
        "cross_sectoral_standards": " ; ".join(fp["crossSectoralStandards"]),
        "product_rule_operator": rule["operator"],
        "product_rule_operator_name": rule["otherOperatorName"],
        "product_rule_names": ";".join(rule["ruleNames"]),
        "ef_database": ";".join(s["name"] for s in sources),
        "ef_database_version": ";".join(s["version"] for s in sources),
        "exempted_emissions_percent": fp["exemptedEmissionsPercent"],
        "packaging_included": "TRUE" if fp["packagingEmissionsIncluded"] else "false",
        "primary_data_share": fp["primaryDataShare"],
        "dqr_technological": fp["dqi"]["technologicalDQR"],
        "dqr_geographical": fp["dqi"]["geographicalDQR"],
        "dqr_temporal": fp["dqi"]["temporalDQR"],
        "assessment_date": certification["assessmentDate"],
        "verifier_name": certification["verifier"]["name"],
        "verifier_uscc": certification["verifier"]["uscc"],
        "accreditation_id": certification["accreditation"]["id"],
        "accreditation_name": certification["accreditation"]["name"],
        "accreditation_authority_id": certification["accreditation"]["issuingAuthority"]["id"],
        "accreditation_authority_name": (
            certification["accreditation"]["issuingAuthority"]["name"]
        ),
        "study_report_sha256": request["documents"]["studyReportSha256"],
        "certificate_sha256": request["documents"]["certificateSha256"],
        "distributors": ";".join(d["uscc"] for d in request["authorisedDistributors"]),
        "distributor_names": ";".join(d["name"] for d in request["authorisedDistributors"]),
        "market_regions": ";".join(request["marketRegions"]),
        "valid_until": f"  {request['validUntil']} ",
    }


def _one(path: Path) -> BatchRow:
    rows = list(read_batch(path))
    assert len(rows) == 1
    return rows[0]


# --- the example batch ---------------------------------------------------------------


def test_example_batch_is_all_good() -> None:
    rows = list(read_batch(LABELS_CSV))
    assert len(rows) >= 120
    assert [r.line for r in rows] == list(range(2, len(rows) + 2))
    assert all(r.errors == [] and r.request is not None for r in rows)
    requests = [r.request for r in rows if r.request is not None]
    categories = [r["product"]["productCategory"] for r in requests]
    assert categories.count("room-air-conditioner") > len(rows) / 2
    assert "lithium-battery" in categories
    assert any(r["product"]["granularity"] == "batch" for r in requests)
    for request in requests:
        validate("LabelRequest", request)


def test_example_batch_is_what_the_generator_makes(tmp_path: Path) -> None:
    import runpy

    generator = runpy.run_path(str(ROOT / "examples" / "make_labels.py"))
    out = tmp_path / "labels.csv"
    generator["write"](out)
    assert out.read_bytes() == LABELS_CSV.read_bytes()


def test_example_batch_header_uses_every_column() -> None:
    with LABELS_CSV.open(encoding="utf-8", newline="") as f:
        assert next(csv.reader(f)) == list(COLUMNS)


# --- CSV rows -------------------------------------------------------------------------


def test_csv_row_maps_to_the_label_request(tmp_path: Path) -> None:
    request = _label_request()
    row = _one(_write(tmp_path, "one.csv", _csv_text([_flatten(request)])))
    assert row.errors == []
    assert row.line == 2
    assert row.request == request


def test_bad_rows_are_reported_with_their_lines_and_every_error() -> None:
    rows = list(read_batch(BAD_CSV))
    assert [(r.line, r.request is not None) for r in rows] == [
        (2, True),
        (3, True),
        (5, False),
        (6, True),
        (7, False),
        (9, False),
        (10, True),
    ]
    errors = {r.line: r.errors for r in rows if r.errors}
    assert errors == {
        5: [
            "manufacturer_uscc: must be a valid USCC check character (expected F, found 0)",
            "gtin: must be a valid GTIN check digit (expected 4, found 5)",
        ],
        7: [
            "stage_*: stage emissions must add up to pcfExcludingBiogenicUptake (68.4) "
            "within 1 %; they add up to 73.4",
            "stage_use: use is outside a cradle-to-gate boundary",
        ],
        9: [
            "packaging_included: must be true or false",
            "distributor_names: must give one name per USCC in distributors (2 USCC(s), 1 name(s))",
            "batch: is required",
        ],
    }
    good = rows[1].request
    assert good is not None
    assert "\n" in good["footprint"]["boundaryProcessesDescription"]


def test_cells_map_errors_to_columns_and_items(tmp_path: Path) -> None:
    cells = _flatten(_label_request())
    cells["distributors"] = "91440103MA329EW8LA;91440305MAUWPT1460"
    cells["geography"] = "China"
    cells["characterization_factors"] = "AR6;AR4"
    cells["ef_database_version"] = "2025.1;"
    cells["dqr_temporal"] = "6"
    cells["declared_amount"] = ""
    row = _one(_write(tmp_path, "bad.csv", _csv_text([cells])))
    assert row.request is None
    assert row.errors == [
        "ef_database_version: must give one version per database in ef_database "
        "(2 database(s), 1 version(s))",
        "distributors (item 2): must be a valid USCC check character (expected K, found 0)",
        "declared_amount: is required",
        "dqr_temporal: must be a data quality rating between 1 and 5 written as a string, "
        'e.g. "1.6"',
        "geography: must be an ISO 3166-1 alpha-2 country code, e.g. CN",
        "characterization_factors (item 2): must be one of AR5, AR6",
    ]


def test_stage_columns_may_be_left_out(tmp_path: Path) -> None:
    cells = _flatten(_label_request())
    for column in ("stage_raw_material", "stage_manufacturing", "stage_distribution"):
        cells[column] = ""
    cells["stage_use"] = "5370.6"
    cells["stage_end_of_life"] = ""
    row = _one(_write(tmp_path, "one.csv", _csv_text([cells])))
    assert row.errors == []
    assert row.request is not None
    assert row.request["footprint"]["lifeCycleStageEmissions"] == [
        {"stage": "use", "emissions": "5370.6"}
    ]


def test_no_stage_at_all_is_an_error(tmp_path: Path) -> None:
    cells = _flatten(_label_request())
    for column in COLUMNS:
        if column.startswith("stage_"):
            cells[column] = ""
    row = _one(_write(tmp_path, "one.csv", _csv_text([cells])))
    assert row.errors == ["stage_*: must not be empty"]


def test_item_level_row_with_half_a_serial_range(tmp_path: Path) -> None:
    cells = _flatten(_label_request())
    cells["granularity"] = "item"
    cells["serial_first"] = "SN250000001"
    row = _one(_write(tmp_path, "one.csv", _csv_text([cells])))
    assert row.errors == ["serial_last: is required"]


def test_optional_columns_may_be_absent_from_the_header(tmp_path: Path) -> None:
    request = _label_request()
    cells = _flatten(request)
    columns = [c for c in COLUMNS if c not in OPTIONAL_COLUMNS or c.startswith("stage_")]
    text = _csv_text([{c: cells[c] for c in columns}], columns)
    row = _one(_write(tmp_path, "lean.csv", text))
    assert row.errors == []
    assert row.request is not None
    assert "validUntil" not in row.request
    assert "uscc" not in row.request["certification"]["verifier"]


def test_no_distributors_is_an_empty_list(tmp_path: Path) -> None:
    cells = _flatten(_label_request())
    cells["distributors"] = cells["distributor_names"] = ""
    row = _one(_write(tmp_path, "one.csv", _csv_text([cells])))
    assert row.request is not None
    assert row.request["authorisedDistributors"] == []


def test_short_and_long_rows_and_blank_lines(tmp_path: Path) -> None:
    good = _csv_text([_flatten(_label_request())])
    header, body = good.split("\n", 1)
    text = "\n".join([header, body.strip(), "", ",,,", "a,b,c", body.strip() + ",extra", ""])
    rows = list(read_batch(_write(tmp_path, "rows.csv", text)))
    assert [(r.line, r.errors) for r in rows] == [
        (2, []),
        (5, [f"row: has 3 cells; the header has {len(COLUMNS)}"]),
        (6, [f"row: has {len(COLUMNS) + 1} cells; the header has {len(COLUMNS)}"]),
    ]


def test_crlf_and_byte_order_mark(tmp_path: Path) -> None:
    text = _csv_text([_flatten(_label_request())]).replace("\n", "\r\n")
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    row = _one(path)
    assert row.errors == []
    assert row.request == _label_request()


def test_header_only_has_no_rows(tmp_path: Path) -> None:
    assert list(read_batch(_write(tmp_path, "empty.csv", ",".join(COLUMNS) + "\n"))) == []


# --- whole-file errors -------------------------------------------------------------------


def test_unknown_columns_fail_the_file(tmp_path: Path) -> None:
    columns = [*COLUMNS, "colour", "gtin14"]
    path = _write(tmp_path, "x.csv", ",".join(columns) + "\n")
    with pytest.raises(BatchFileError, match=r"unknown column\(s\): 'colour', 'gtin14'"):
        read_batch(path)


def test_missing_required_columns_fail_the_file(tmp_path: Path) -> None:
    columns = [c for c in COLUMNS if c not in ("gtin", "market_regions", "batch")]
    path = _write(tmp_path, "x.csv", ",".join(columns) + "\n")
    with pytest.raises(
        BatchFileError, match=r"missing required column\(s\): gtin, market_regions$"
    ):
        read_batch(path)


def test_duplicate_columns_fail_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.csv", ",".join([*COLUMNS, "gtin"]) + "\n")
    with pytest.raises(BatchFileError, match=r"duplicate column\(s\): gtin"):
        read_batch(path)


def test_required_and_optional_columns_partition_the_columns() -> None:
    assert set(REQUIRED_COLUMNS) | OPTIONAL_COLUMNS == set(COLUMNS)
    assert not set(REQUIRED_COLUMNS) & OPTIONAL_COLUMNS
    assert len(set(COLUMNS)) == len(COLUMNS)


def test_empty_csv_fails_the_file(tmp_path: Path) -> None:
    with pytest.raises(BatchFileError, match="empty file"):
        read_batch(_write(tmp_path, "x.csv", ""))


def test_broken_quote_fails_the_file(tmp_path: Path) -> None:
    good = _csv_text([_flatten(_label_request())])
    text = good + '"unterminated,' + "x," * (len(COLUMNS) - 2) + "\n"
    with pytest.raises(BatchFileError, match="malformed CSV in the record starting on line 3"):
        read_batch(_write(tmp_path, "x.csv", text))


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_non_utf8_fails_the_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"gbk{suffix}"
    path.write_bytes(",".join(COLUMNS).encode() + b"\n" + "广东".encode("gbk") + b"\n")
    with pytest.raises(BatchFileError, match=r"not UTF-8 text \(line 2, "):
        read_batch(path)


@pytest.mark.parametrize("name", ["labels.txt", "labels.json", "labels.xlsx", "labels"])
def test_other_file_types_are_refused(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, name, "{}\n")
    with pytest.raises(BatchFileError, match=r"must be a \.csv or \.jsonl file"):
        read_batch(path)


def test_upper_case_suffix_is_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, "LABELS.CSV", _csv_text([_flatten(_label_request())]))
    assert _one(path).errors == []


# --- JSONL ------------------------------------------------------------------------------


def test_jsonl_rows(tmp_path: Path) -> None:
    good = _label_request()
    bad = _label_request()
    bad["product"]["gtin"] = "6923517001870"
    del bad["marketRegions"]
    lines = [
        json.dumps(good, ensure_ascii=False),
        "",
        "{not json",
        "[1, 2]",
        json.dumps(bad, ensure_ascii=False),
        '{"manufacturer": {}, "manufacturer": {}}',
        '{"x": NaN}',
        "   ",
        json.dumps(good),
    ]
    rows = list(read_batch(_write(tmp_path, "labels.jsonl", "\n".join(lines) + "\n")))
    assert [r.line for r in rows] == [1, 3, 4, 5, 6, 7, 9]
    assert rows[0].request == good and rows[0].errors == []
    assert rows[6].request == good
    assert rows[1].errors[0].startswith("/: not valid JSON: ")
    assert rows[2].errors == ["/: must be a JSON object (one LabelRequest a line)"]
    assert rows[3].request is None
    assert rows[3].errors == [
        "/marketRegions: is required",
        "/product/gtin: must be a valid GTIN check digit (expected 9, found 0)",
    ]
    assert rows[4].errors == ["/: not valid JSON: duplicate key 'manufacturer'"]
    assert rows[5].errors == ["/: not valid JSON: NaN is not JSON"]


def test_jsonl_line_separator_inside_a_string_is_not_a_line_break(tmp_path: Path) -> None:
    request = _label_request()
    request["product"]["name"] += "\u2028(wall-mounted)"
    text = json.dumps(request, ensure_ascii=False) + "\r\n" + json.dumps(request) + "\r\n"
    rows = list(read_batch(_write(tmp_path, "labels.jsonl", text)))
    assert [(r.line, r.errors) for r in rows] == [(1, []), (2, [])]
    assert rows[0].request == request


def test_empty_jsonl_has_no_rows(tmp_path: Path) -> None:
    assert list(read_batch(_write(tmp_path, "labels.jsonl", ""))) == []


def test_jsonl_nested_too_deeply_is_a_row_error(tmp_path: Path) -> None:
    text = "[" * 100_000 + "]" * 100_000 + "\n" + json.dumps(_label_request()) + "\n"
    rows = list(read_batch(_write(tmp_path, "deep.jsonl", text)))
    assert [(r.line, r.errors) for r in rows] == [
        (1, ["/: not valid JSON: nested too deeply"]),
        (2, []),
    ]
