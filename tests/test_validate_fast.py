"""The jsonschema-rs fast path of ``schemas.validate``: sound, and invisible in results.

Soundness (see the module docstring of ``schemas.validate``): whenever the fast path
finds a document valid, the pure-Python ``jsonschema`` pass finds no error. Checked
on every example document the repository has, against every kind, and on
hypothesis-made mutations of them; invalid documents must still give exactly the
errors of the Python pass. The patterns jsonschema-rs evaluates itself must match
exactly what the Python pass matches, on hypothesis-made strings and patterns.
"""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from credentials.statuslist import status_list_entry
from issuer.batchfile import read_batch
from issuer.build import (
    IssuerProfile,
    build_grade_credential,
    build_label_credential,
    category_code,
    label_number,
)
from schemas import KINDS, FieldError, SchemaValidationError, validate, validate_untp_dcc
from schemas.grading import grade
from schemas.logentry import credential_digest
from schemas.validate import check_gtin
from tests.test_schemas import EXAMPLE_KINDS

# `schemas.validate` the module (the package re-exports the function of that name).
fast = importlib.import_module("schemas.validate")

ROOT = Path(__file__).resolve().parent.parent
UNTP = fast.UNTP_DCC_KIND
ALL_KINDS = (*KINDS, UNTP)
SCHEMA_EXAMPLES = EXAMPLE_KINDS
ISSUER = IssuerProfile(
    did="did:web:registry.gd-carbon-label.example:issuers:gdlc-clc",
    name="广东省碳标签专业委员会 (illustrative issuer)",
    uscc="12440000MB2C401574",
)
REGISTRY = "https://registry.gd-carbon-label.example"
STATUS_LIST = f"{REGISTRY}/status/2025/revocation"
VALID_FROM = datetime(2025, 11, 1, tzinfo=UTC)
GRADED_AT = datetime(2025, 11, 2, tzinfo=UTC)


def _json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def _label_credential(request: dict[str, Any], sequence: int) -> dict[str, Any]:
    number = label_number(2025, category_code(request["product"]["productCategory"]), sequence)
    link = f"https://id.gd-carbon-label.example/01/{check_gtin(request['product']['gtin'])}"
    if "batchNumber" in request["product"]:
        link += f"/10/{request['product']['batchNumber']}"
    return build_label_credential(
        request,
        issuer=ISSUER,
        credential_id=f"{REGISTRY}/credentials/label/{number}",
        label_number=number,
        digital_link=link,
        status_entries=[status_list_entry(STATUS_LIST, sequence, "revocation")],
        valid_from=VALID_FROM,
    )


def _grade_credential(label: dict[str, Any], rule: dict[str, Any]) -> dict[str, Any]:
    subject = label["credentialSubject"]
    outcome = grade(
        subject["carbonFootprint"],
        rule,
        at=GRADED_AT,
        product_category=subject["labelledProduct"]["productCategory"],
    )
    return build_grade_credential(
        label,
        label_digest=credential_digest(label),
        rule=rule,
        outcome=outcome,
        issuer=ISSUER,
        credential_id=f"{REGISTRY}/credentials/grade/1",
        status_entries=[status_list_entry(STATUS_LIST, 20001, "revocation")],
        valid_from=GRADED_AT,
    )


def _corpus() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(name, kind it is valid as, document) for every example the repository has."""
    for name, kind in SCHEMA_EXAMPLES.items():
        yield name, kind, _json(ROOT / "schemas" / "examples" / f"{name}.json")
    label_json = _json(ROOT / "examples" / "label.json")
    yield "examples/label.json", "LabelRequest", label_json
    yield (
        "examples/label.json:credential",
        "CarbonLabelCredential",
        _label_credential(label_json, 1),
    )
    rule = _json(ROOT / "examples" / "grading-rule.json")
    yield "examples/grading-rule.json", "GradingRule", rule
    for row in read_batch(ROOT / "examples" / "labels.csv"):
        assert row.request is not None, row.errors
        credential = _label_credential(row.request, row.line)
        yield f"labels.csv:{row.line}", "LabelRequest", row.request
        yield f"labels.csv:{row.line}:credential", "CarbonLabelCredential", credential
        if (
            credential["credentialSubject"]["labelledProduct"]["productCategory"]
            == (rule["productCategory"])
        ):
            grade_credential = _grade_credential(credential, rule)
            yield f"labels.csv:{row.line}:grade", "GradeResultCredential", grade_credential
    untp = ROOT / "tests" / "vectors" / "untp" / "untp-dcc-instance.json"
    yield "untp-dcc-instance", UNTP, _json(untp)
    dcc = ROOT / "tests" / "vectors" / "vc-di-eddsa" / "gd-carbon-label-dcc.example.json"
    yield "gd-carbon-label-dcc.example", UNTP, _json(dcc)


CORPUS = list(_corpus())
NAMES = [name for name, _, _ in CORPUS]


def python_errors(kind: str, document: Any) -> list[FieldError]:
    """What the pure-Python ``jsonschema`` pass reports (the path taken before)."""
    compiled = fast._compiled()
    names = (kind, UNTP) if kind in fast._WITH_UNTP_DCC else (kind,)
    errors: list[FieldError] = []
    for name in names:
        errors.extend(fast._field_errors(compiled[name].iter_errors(document)))
    return errors


def outcome(kind: str, document: Any) -> list[FieldError]:
    """The errors ``validate`` (or ``validate_untp_dcc``) reports; [] when it passes."""
    try:
        if kind == UNTP:
            validate_untp_dcc(document)
        else:
            validate(kind, document)
    except SchemaValidationError as exc:
        assert exc.kind == kind
        return exc.errors
    return []


def slow_outcome(kind: str, document: Any) -> list[FieldError]:
    """What ``validate`` reported before the fast path: Python pass, then semantic checks."""
    errors = python_errors(kind, document)
    if kind != UNTP:
        failed = {e.pointer for e in errors}
        semantic = fast._SEMANTIC_CHECKS[kind](document)
        errors.extend(e for e in semantic if e.pointer not in failed)
    return sorted(set(errors), key=lambda e: (e.pointer, e.reason))


# --- the validators and the overrides they depend on -------------------------------


def test_every_fast_validator_builds() -> None:
    compiled = fast._fast_compiled()
    assert set(compiled) == set(ALL_KINDS)
    assert all(compiled[kind] is not None for kind in ALL_KINDS), compiled


def test_pattern_is_python_anchored_match_not_ecma_search() -> None:
    # ECMA-262 search finds "^a" in "ab"; the Python pass full-matches the anchored
    # pattern and rejects it. The fast path must side with the Python pass.
    schema = {"pattern": "^a|b$"}
    assert jsonschema_rs.Draft202012Validator(schema).is_valid("ab")
    assert not fast._rust_validator(schema).is_valid("ab")
    assert fast._rust_validator(schema).is_valid("a")
    assert fast._rust_validator({"pattern": "^[0-9]+$"}).is_valid(12)  # strings only


@pytest.mark.parametrize(
    ("fmt", "value"),
    [
        ("date-time", "2016-12-31T23:59:60Z"),  # RFC 3339 leap second; datetime refuses it
        ("date-time", "2025-10-01T00:00:00"),
        ("date-time", "2025-10-01T00:00Z"),
        ("date", "2026-13-01"),
        ("date", "2026-02-30"),
        ("uri", "no-scheme"),
        ("uri", "https://example.org/a b"),
    ],
)
def test_formats_are_the_python_checks(fmt: str, value: str) -> None:
    assert not fast._FORMATS[fmt](value)
    assert not fast._rust_validator({"format": fmt}).is_valid(value)


def test_plain_json_only() -> None:
    assert fast._plain_json({"a": [1, 2.5, True, None, "s", {"b": []}]})
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    for value in ((1, 2), {1: "a"}, 2**64, float("nan"), float("inf"), b"x", cyclic):
        assert not fast._plain_json({"a": [value]}), value


# --- (a) every example: both paths agree, for every kind ---------------------------


@pytest.mark.parametrize("name", NAMES)
def test_example_takes_the_fast_path(name: str) -> None:
    _, kind, document = CORPUS[NAMES.index(name)]
    assert python_errors(kind, document) == []
    assert fast._fast_valid(kind, document)
    assert outcome(kind, document) == slow_outcome(kind, document) == []


@pytest.mark.parametrize("name", NAMES)
def test_fast_and_python_paths_agree_for_every_kind(name: str) -> None:
    document = CORPUS[NAMES.index(name)][2]
    for kind in ALL_KINDS:
        python_valid = python_errors(kind, document) == []
        assert fast._fast_valid(kind, document) == python_valid, kind
        assert outcome(kind, document) == slow_outcome(kind, document), kind


# --- (b) mutations: Rust-valid implies Python-valid --------------------------------


def _paths(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


BAD_STRINGS = [
    "",
    " ",
    "x",
    "2026-13-01",
    "2026-02-30",
    "2025-10-01T00:00:00",
    "2025-10-01T24:00:00Z",
    "2016-12-31T23:59:60Z",
    "2025-10-01 00:00:00Z",
    "2025-10-01T00:00:00+0800",
    "not a uri",
    "https://",
    "urn:",
    "did:web:",
    "٣٣",
    "0",
    "00.0",
    "-1",
    "1e3",
    "5.",
    "100.1",
    "06901234567892",
    "91440606MA2M8NM48B",
    "GDCL-2025-AC-000123\n",
]


@st.composite
def string_variants(draw: st.DrawFn, value: str) -> Any:
    return draw(
        st.one_of(
            st.sampled_from(BAD_STRINGS),
            st.just(value + "\n"),
            st.just("\n" + value),
            st.just(value + " "),
            st.just(value.upper()),
            st.just(value.lower()),
            st.just(value[:-1]),
            st.just(value + value[-1:]),
            st.just(value.replace("Z", "")),
            st.just(value.replace("T", " ")),
            st.just(value.replace(":", "")),
            st.text(max_size=12),
        )
    )


# Fresh containers each draw: a mutation must never change the strategy itself.
WRONG_TYPES = st.sampled_from(
    [None, True, 0, 1, -1, 1.5, 1.0, "", "a", [], {}, ["a"], {"a": 1}]
).map(copy.deepcopy)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    _, kind, original = draw(st.sampled_from(CORPUS))
    document = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(document))
        path = draw(st.sampled_from(paths[1:] or paths))
        parent: Any = document
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1] if path else None
        value = parent[key] if path else document
        choice = draw(st.sampled_from(["drop", "type", "string", "extra", "list", "tuple"]))
        if choice == "drop" and path:
            del parent[key]
        elif choice == "type" and path:
            parent[key] = draw(WRONG_TYPES)
        elif choice == "string" and path and isinstance(value, str):
            parent[key] = draw(string_variants(value))
        elif choice == "extra" and isinstance(value, dict):
            value[draw(st.sampled_from(["extra", "id", "type", "name", "x"]))] = draw(WRONG_TYPES)
        elif choice == "list" and isinstance(value, list):
            duplicate: bool = draw(st.booleans())
            if value and duplicate:
                value.append(copy.deepcopy(value[0]))  # a duplicate item
            else:
                value.clear()
        elif choice == "tuple" and path and isinstance(value, list):
            parent[key] = tuple(value)
    return kind, document


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated())
def test_rust_valid_implies_python_valid(case: tuple[str, dict[str, Any]]) -> None:
    kind, document = case
    if fast._fast_valid(kind, document):
        assert python_errors(kind, document) == []
    assert outcome(kind, document) == slow_outcome(kind, document)


# --- (c) invalid documents: the same errors as before ------------------------------


def _request() -> dict[str, Any]:
    loaded: dict[str, Any] = copy.deepcopy(CORPUS[NAMES.index("examples/label.json")][2])
    return loaded


DECIMAL = 'must be a decimal number written as a string, e.g. "12.5"'
DATE_TIME = "must be an RFC 3339 date-time with a time zone, e.g. 2025-10-01T00:00:00Z"


def test_invalid_request_reports_every_error_as_before() -> None:
    request = _request()
    request["footprint"]["pcfExcludingBiogenicUptake"] = "5370.6\n"
    request["footprint"]["referencePeriodEnd"] = "2025-01-01T00:00:00"
    request["certification"]["assessmentDate"] = "2026-13-01"
    request["certification"]["accreditation"]["id"] = "not a uri"
    request["marketRegions"] = ("CN-GD",)
    request["colour"] = "white"
    del request["documents"]
    request["manufacturer"]["uscc"] = "91440606MA2M8NM48C"  # wrong check character
    assert not fast._fast_valid("LabelRequest", request)
    expected = [
        FieldError("/certification/accreditation/id", "must be an absolute URI"),
        FieldError("/certification/assessmentDate", "must be a date like 2025-10-01"),
        FieldError("/colour", "is not an allowed property here"),
        FieldError("/documents", "is required"),
        FieldError("/footprint/pcfExcludingBiogenicUptake", DECIMAL),
        FieldError("/footprint/referencePeriodEnd", DATE_TIME),
        FieldError(
            "/manufacturer/uscc",
            "must be a valid USCC check character (expected B, found C)",
        ),
        FieldError("/marketRegions", "must be an array"),
    ]
    with pytest.raises(SchemaValidationError) as caught:
        validate("LabelRequest", request)
    assert caught.value.errors == expected
    assert slow_outcome("LabelRequest", request) == expected


def test_semantic_errors_still_reported_on_the_fast_path() -> None:
    request = _request()
    request["footprint"]["lifeCycleStageEmissions"][3]["emissions"] = "4000.0"
    assert fast._fast_valid("LabelRequest", request)  # schema-valid, semantically not
    errors = outcome("LabelRequest", request)
    assert [e.pointer for e in errors] == ["/footprint/lifeCycleStageEmissions"]
    assert errors == slow_outcome("LabelRequest", request)


def test_lone_surrogate_falls_back_to_python() -> None:
    request = _request()
    request["product"]["name"] = "\ud800"
    assert not fast._fast_valid("LabelRequest", request)
    assert outcome("LabelRequest", request) == slow_outcome("LabelRequest", request) == []


# --- (d) the patterns jsonschema-rs evaluates itself -------------------------------


def _schema_patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            elif key not in fast._DATA_KEYWORDS:
                yield from _schema_patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _schema_patterns(item)


BUNDLED_SCHEMAS = [
    *(fast.schema_document(kind) for kind in KINDS),
    fast._load_json("json", "common.schema.json"),
    fast.untp_dcc_schema_document(),
]
BUNDLED_PATTERNS = sorted({p for schema in BUNDLED_SCHEMAS for p in _schema_patterns(schema)})
NATIVE_PATTERNS = [p for p in BUNDLED_PATTERNS if fast._native_pattern(p)]
# Strings jsonschema-rs can take: no lone surrogates.
CHARACTERS = st.characters(codec="utf-8")
TRICKY = st.sampled_from(["\n", "\r", "\t", " ", "\u2028", "\x00", "é", "中", "٣", "Ａ", "İ", "ﬀ"])


def _native_verdict(pattern: str, text: str) -> bool:
    """What jsonschema-rs alone (no custom keyword) says of ``text`` under ``pattern``."""
    validator = jsonschema_rs.Draft202012Validator({"type": "string", "pattern": pattern})
    return validator.is_valid(text)


def _python_verdict(pattern: str, text: str) -> bool:
    return fast._matcher(pattern)(text) is not None


@st.composite
def near_matches(draw: st.DrawFn, pattern: str, limit: int | None = None) -> str:
    """A string ``pattern`` matches (cut to ``limit``), or one edit away from one."""
    text = draw(st.from_regex(pattern, fullmatch=True, alphabet=CHARACTERS))[:limit]
    at = draw(st.integers(0, len(text)))
    char = draw(TRICKY | CHARACTERS)
    edits = [
        text,
        text + "\n",
        "\n" + text,
        text + "\r\n",
        text[:at] + char + text[at:],
        text[:at] + text[at + 1 :],
        text[:at] + char + text[at + 1 :],
        text + text,
        text.upper(),
        text.lower(),
    ]
    return draw(st.sampled_from(edits))


def test_bundled_patterns_are_all_native() -> None:
    # Not needed for correctness (any other pattern goes through Python), but each
    # one that is not native costs a Python call per string it is applied to.
    assert BUNDLED_PATTERNS
    assert NATIVE_PATTERNS == BUNDLED_PATTERNS


@pytest.mark.parametrize("pattern", NATIVE_PATTERNS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_native_bundled_pattern_agrees_with_python(pattern: str, data: st.DataObject) -> None:
    text = data.draw(near_matches(pattern) | st.text(TRICKY | CHARACTERS, max_size=24))
    assert _native_verdict(pattern, text) == _python_verdict(pattern, text)


# Patterns made from every construct _native_pattern accepts.
_ESCAPES = st.sampled_from(sorted(fast._NATIVE_ESCAPES)).map(lambda c: ("\\" + c, c))
_CLASS_CHARS = st.sampled_from(sorted(fast._NATIVE_CLASS_LITERALS)).map(lambda c: (c, c)) | _ESCAPES
_QUANTIFIERS = st.sampled_from(["", "", "?", "*", "+", "{0}", "{2}", "{1,}", "{0,2}", "{1,3}"])
# A group repeated without bound, around a repetition, makes Python's backtracking
# exponential in the length of a string it does not match (and hangs the test).
_GROUP_QUANTIFIERS = st.sampled_from(["", "", "?", "{2}", "{0,2}"])


@st.composite
def _class_items(draw: st.DrawFn) -> str:
    low, high = sorted([draw(_CLASS_CHARS), draw(_CLASS_CHARS)], key=lambda pair: pair[1])
    return low[0] if draw(st.booleans()) else f"{low[0]}-{high[0]}"


_CLASSES = st.builds(
    lambda negated, leading, items, trailing: (
        "[" + "^" * negated + "-" * leading + "".join(items) + "-" * trailing + "]"
    ),
    st.booleans(),
    st.booleans(),
    st.lists(_class_items(), min_size=1, max_size=3),
    st.booleans(),
)


def _sequences(atoms: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    quantified = st.builds(
        lambda atom, quantifier, bounded: atom + (bounded if atom.endswith(")") else quantifier),
        atoms,
        _QUANTIFIERS,
        _GROUP_QUANTIFIERS,
    )
    return st.lists(quantified, min_size=1, max_size=4).map("".join)


def _groups(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda opener, branches: opener + "|".join(branches) + ")",
        st.sampled_from(["(", "(?:"]),
        st.lists(_sequences(inner), min_size=1, max_size=3),
    )


_PLAIN_ATOMS = (
    st.sampled_from(sorted(fast._NATIVE_LITERALS)) | _ESCAPES.map(lambda pair: pair[0]) | _CLASSES
)
NATIVE_ATOMS = _PLAIN_ATOMS | _groups(_PLAIN_ATOMS | _groups(_PLAIN_ATOMS))
"""Atoms, and groups of them nested up to two deep."""


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_native_pattern_agrees_with_python(data: st.DataObject) -> None:
    pattern = "^" + data.draw(_sequences(NATIVE_ATOMS)) + "$"
    assume(not pattern.endswith("\\$"))  # _matcher reads that as an escaped "$" and searches
    assert fast._native_pattern(pattern), pattern
    for _ in range(5):
        text = data.draw(near_matches(pattern, 10) | st.text(TRICKY | CHARACTERS, max_size=10))
        assert _native_verdict(pattern, text) == _python_verdict(pattern, text), (pattern, text)


@pytest.mark.parametrize(
    ("pattern", "native"),
    [
        ("^[0-9]{14}$", True),
        ("^(?:ab|c)+[^/?#]*-x$", True),
        ("^[-a-c.-]\\.\\$$", True),
        ("^a|b$", False),  # Python full-matches "a" or "b"; ECMA-262 searches "^a" or "b$"
        ("^(a)|(b)$", False),
        ("^a\\\\$", False),  # _matcher takes the trailing "\\$" for an escaped "$"
        ("[0-9]+", False),  # unanchored: Python's `$` also matches before a final "\n"
        ("^[0-9]+", False),
        ("[0-9]+$", False),
        ("^\\d+$", False),  # Python's \d is any Unicode digit, ECMA-262's only 0-9
        ("^\\w+$", False),
        ("^\\s*$", False),
        ("^\\bx$", False),
        ("^a.b$", False),
        ("^(?i)a$", False),
        ("^(?=a)a$", False),
        ("^(a)\\1$", False),
        ("^é$", False),
        ("^a\n$", False),
        ("^[a&&b]$", False),
        ("^[[:alpha:]]$", False),
        ("^[a-c-e]$", False),
        ("^[--]$", False),
        ("^[z-a]$", False),
        ("^[]$", False),
        ("^a{2,1}$", False),
        ("^a{,2}$", False),
        ("^a**$", False),
        ("^a+?$", False),
        ("^()$", False),
        ("^(a|)$", False),
        ("^$", False),
    ],
)
def test_native_pattern_whitelist(pattern: str, native: bool) -> None:
    assert fast._native_pattern(pattern) is native


def test_other_patterns_go_through_python() -> None:
    schema = {"type": "string", "pattern": "^\\d+$"}
    assert fast._rust_schema(schema) == {"type": "string", fast._PYTHON_PATTERN: "^\\d+$"}
    # "٣" (ARABIC-INDIC DIGIT THREE) is a digit to Python's \d, not to ECMA-262's.
    assert not jsonschema_rs.Draft202012Validator(schema).is_valid("٣")
    assert fast._rust_validator(schema).is_valid("٣")
    # An unanchored pattern is searched: Python's `$` matches before a final newline.
    assert not jsonschema_rs.Draft202012Validator({"pattern": "a$"}).is_valid("a\n")
    assert fast._rust_validator({"pattern": "a$"}).is_valid("a\n")


def test_rust_schema_rewrites_only_schema_patterns() -> None:
    schema = {
        "$defs": {"digits": {"pattern": "^\\d+$"}, "code": {"pattern": "^[A-Z]{2}$"}},
        "properties": {
            "pattern": {"not": {"pattern": "x$"}},
            "fixed": {"const": {"pattern": "x$"}},
            "listed": {"enum": [{"pattern": "x$"}]},
        },
        "items": [{"pattern": "^a|b$"}],
    }
    assert fast._rust_schema(schema) == {
        "$defs": {
            "digits": {fast._PYTHON_PATTERN: "^\\d+$"},
            "code": {"pattern": "^[A-Z]{2}$"},
        },
        "properties": {
            "pattern": {"not": {fast._PYTHON_PATTERN: "x$"}},
            "fixed": {"const": {"pattern": "x$"}},
            "listed": {"enum": [{"pattern": "x$"}]},
        },
        "items": [{fast._PYTHON_PATTERN: "^a|b$"}],
    }
    with pytest.raises(ValueError, match="reserved"):
        fast._rust_schema({"not": {fast._PYTHON_PATTERN: "a"}})
