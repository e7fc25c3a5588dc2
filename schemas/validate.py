"""Validate carbon-label documents and report every error with its JSON pointer.

``validate(kind, document)`` checks a document against the JSON Schema (2020-12) of
its kind (``schemas/json/<kind>.schema.json``); label and grade credentials are also
checked against the bundled UNTP Digital Conformity Credential schema. Checks that
JSON Schema cannot express (GB 32100-2015 check characters, GS1 check digits,
consistency between fields) run in the same pass, so one ``SchemaValidationError``
lists every problem at once, each as a ``FieldError`` with an RFC 6901 pointer.

JSON Schema ``pattern`` is an ECMA-262 regular expression: an anchored pattern
(``^...$``) is applied here with ``re.fullmatch``, so a trailing newline never slips
through Python's ``$``.

Fast path. Each schema is also compiled with ``jsonschema-rs``; when it finds a
document valid, the pure-Python ``jsonschema`` pass is skipped, and only the checks
JSON Schema cannot express run. Anything else (the Rust validator says invalid,
cannot be built, or raises) takes the Python pass, so errors are reported exactly as
before. The skip is sound (Rust-valid implies Python-valid) because what this module
adds to JSON Schema is shared by both passes, leaving only the standard's core
keywords to the two libraries: (1) jsonschema-rs evaluates a ``pattern`` itself only
where ``_native_pattern`` vouches that its regex engine reads it as ``_matcher`` does
(an anchored ``^...$`` of plain ASCII syntax, as every bundled pattern is); any other
``pattern`` is replaced in the Rust validator by a custom keyword running the same
Python match as the Python pass (``_rust_schema``); the formats this module checks
(``date-time``, ``date``, ``uri``) are checked by the same Python functions; any
other format is checked by Rust's own rules, or not at all, which is at least as
strict as the Python pass (which ignores it). (2) Only plain
JSON takes the fast path (``_plain_json``: exact ``dict`` with ``str`` keys,
``list``, ``str`` without lone surrogates, ``bool``, 64-bit ``int``, finite
``float``, ``None``), for which Rust's conversion is the identity; a tuple, for
instance, would be an array to Rust but not to ``jsonschema``. (3) Both use Draft
2020-12 and resolve ``$ref`` only within the bundled schemas.
``tests/test_validate_fast.py`` checks the implication on every example document,
for every kind, and on hypothesis-made mutations of them, and that both engines agree
on every pattern ``_native_pattern`` vouches for.
"""

import json
import math
import re
import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources
from operator import mul
from typing import Any, Final

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from referencing import Registry, Resource

from schemas.errors import (
    FieldError,
    InvalidGTIN,
    InvalidUSCC,
    SchemaValidationError,
    UnknownSchemaKind,
)
from schemas.vocabulary import (
    DOWNSTREAM_STAGES,
    KIND_GRADE_CREDENTIAL,
    KIND_GRADING_RULE,
    KIND_LABEL_CREDENTIAL,
    KIND_LABEL_REQUEST,
    KIND_RECOGNITION_CREDENTIAL,
    KINDS,
    SCHEMA_BASE_URL,
)

__all__ = [
    "check_gtin",
    "check_uscc",
    "schema_document",
    "untp_dcc_schema_document",
    "validate",
    "validate_untp_dcc",
]

UNTP_DCC_SCHEMA_FILE: Final = "untp-dcc-schema.json"
UNTP_DCC_KIND: Final = "UntpDigitalConformityCredential"

# GB 32100-2015 §4: the 31 characters of a USCC (no I, O, S, V, Z) and the weights
# of positions 1..17 (3**(i-1) mod 31).
_USCC_CHARSET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUES: Final = {char: value for value, char in enumerate(_USCC_CHARSET)}
_DIGIT_VALUES: Final = bytes.maketrans(b"0123456789", bytes(range(10)))
_DECIMAL: Final = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DATE_TIME: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
# Parsed date-times kept (LRU): an issuer's requests repeat periods and expiry dates.
_TIMESTAMP_CACHE_SIZE: Final = 4096
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_URI: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+")
_DIGITAL_LINK_GTIN: Final = re.compile(r"/01/([0-9]{14})(?:/|$)")
# Stage emissions must add up to the total within this share of it (rounding).
_STAGE_SUM_TOLERANCE: Final = Decimal("0.01")


def check_uscc(code: str) -> None:
    """Check a Unified Social Credit Code (统一社会信用代码), GB 32100-2015.

    18 characters from the GB 32100 character set, a 6-digit administrative
    division code in positions 3-8, and the check character of §4 in position 18.
    Raises :class:`~schemas.errors.InvalidUSCC` naming what is wrong.
    """
    reason = _uscc_reason(code) if isinstance(code, str) else _USCC_LENGTH
    if reason is not None:
        raise InvalidUSCC(reason)


def check_gtin(gtin: str) -> str:
    """Check a GTIN-8, -12, -13 or -14 and return it as GTIN-14 (GS1 General Specifications §7.9).

    Raises :class:`~schemas.errors.InvalidGTIN` on non-digits, a wrong length or a
    wrong mod-10 check digit.
    """
    reason = _gtin_reason(gtin) if isinstance(gtin, str) else _GTIN_DIGITS
    if reason is not None:
        raise InvalidGTIN(reason)
    return gtin.zfill(14)


def validate(kind: str, document: Mapping[str, Any]) -> None:
    """Validate ``document`` as ``kind`` (one of :data:`schemas.vocabulary.KINDS`).

    Raises :class:`~schemas.errors.UnknownSchemaKind` for an unknown kind and
    :class:`~schemas.errors.SchemaValidationError` listing every error otherwise.
    Label and grade credentials must also conform to the UNTP DCC schema.
    """
    compiled = _compiled()
    if kind not in KINDS:
        raise UnknownSchemaKind(kind)
    errors: list[FieldError] = []
    if not _fast_valid(kind, document):
        errors.extend(_field_errors(compiled[kind].iter_errors(document)))
        if kind in _WITH_UNTP_DCC:
            errors.extend(_field_errors(compiled[UNTP_DCC_KIND].iter_errors(document)))
    failed = {e.pointer for e in errors}
    errors.extend(e for e in _SEMANTIC_CHECKS[kind](document) if e.pointer not in failed)
    _raise_if_any(kind, errors)


def validate_untp_dcc(document: Mapping[str, Any]) -> None:
    """Validate ``document`` against the bundled UNTP Digital Conformity Credential schema.

    Raises :class:`~schemas.errors.SchemaValidationError` listing every error.
    """
    if _fast_valid(UNTP_DCC_KIND, document):
        return
    errors = list(_field_errors(_compiled()[UNTP_DCC_KIND].iter_errors(document)))
    _raise_if_any(UNTP_DCC_KIND, errors)


def schema_document(kind: str) -> dict[str, Any]:
    """The JSON Schema of ``kind`` as a fresh dict (for publishing or OpenAPI)."""
    if kind not in KINDS:
        raise UnknownSchemaKind(kind)
    return _load_json("json", f"{kind}.schema.json")


def untp_dcc_schema_document() -> dict[str, Any]:
    """The bundled UNTP DCC JSON Schema as a fresh dict."""
    return _load_json("untp", UNTP_DCC_SCHEMA_FILE)


# --- identifiers: GB 32100-2015 and GS1 -------------------------------------------

_USCC_LENGTH: Final = "must be 18 characters (GB 32100-2015)"
_GTIN_DIGITS: Final = "must contain only the digits 0-9"
# The verdicts of recent codes: a label authority sees the same manufacturers,
# verifiers and distributors again and again.
_IDENTIFIER_CACHE_SIZE: Final = 4096


def _uscc_error(code: str) -> str | None:
    """Why ``code`` is not a USCC (GB 32100-2015 §4), or None if it is one."""
    if len(code) != 18:
        return _USCC_LENGTH
    values = _USCC_VALUES
    for char in code:
        if char not in values:
            return (
                f"must use only digits and the capital letters {_USCC_CHARSET[10:]} "
                f"(found {char!r})"
            )
    if not code[2:8].isdigit():
        return "characters 3 to 8 must be the 6-digit administrative division code"
    total = sum(map(mul, map(values.__getitem__, code[:17]), _USCC_WEIGHTS))
    expected = _USCC_CHARSET[-total % 31]
    if code[17] != expected:
        return f"must be a valid USCC check character (expected {expected}, found {code[17]})"
    return None


def _gtin_error(gtin: str) -> str | None:
    """Why ``gtin`` is not a GTIN-8, -12, -13 or -14 (GS1 §7.9), or None if it is one."""
    if not gtin.isascii() or not gtin.isdigit():
        return _GTIN_DIGITS
    if len(gtin) not in (8, 12, 13, 14):
        return "must be 8, 12, 13 or 14 digits"
    digits = gtin.encode("ascii").translate(_DIGIT_VALUES)
    # Weights 3, 1, 3, ... from the digit left of the check digit leftwards.
    total = 3 * sum(digits[-2::-2]) + sum(digits[-3::-2])
    expected = -total % 10
    if digits[-1] != expected:
        return f"must be a valid GTIN check digit (expected {expected}, found {gtin[-1]})"
    return None


_cached_uscc_error: Final = lru_cache(maxsize=_IDENTIFIER_CACHE_SIZE)(_uscc_error)
_cached_gtin_error: Final = lru_cache(maxsize=_IDENTIFIER_CACHE_SIZE)(_gtin_error)


# Only exact strings are cached: a subclass may hash like a str yet read otherwise.
def _uscc_reason(code: str) -> str | None:
    return _cached_uscc_error(code) if type(code) is str else _uscc_error(code)


def _gtin_reason(gtin: str) -> str | None:
    return _cached_gtin_error(gtin) if type(gtin) is str else _gtin_error(gtin)


# --- compiling -------------------------------------------------------------------


def _load_json(folder: str, name: str) -> dict[str, Any]:
    text = resources.files("schemas").joinpath(folder, name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@cache
def _matcher(pattern: str) -> Callable[[str], re.Match[str] | None]:
    """``pattern`` with ECMA-262 anchoring: ``^...$`` must match the whole string."""
    regex = _regex(pattern)
    anchored = pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")
    return regex.fullmatch if anchored else regex.search


def _matches(pattern: str, instance: Any) -> bool:
    return not isinstance(instance, str) or _matcher(pattern)(instance) is not None


def _pattern(
    validator: Validator, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if not _matches(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or _timestamp(value) is not None


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if _DATE.fullmatch(value) is None:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or _URI.fullmatch(value) is not None


# The formats this module checks; the Python pass ignores every other format.
_FORMATS: Final[dict[str, Callable[[object], bool]]] = {
    "date-time": _is_date_time,
    "date": _is_date,
    "uri": _is_uri,
}


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    for name, check in _FORMATS.items():
        checker.checks(name)(check)
    return checker


@cache
def _compiled() -> dict[str, Validator]:
    """Every validator, built once on first use."""
    # types-jsonschema leaves `extend` untyped; it returns a validator class.
    cls: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator, {"pattern": _pattern}
    )
    names = [*KINDS, "common"]
    documents = {name: _load_json("json", f"{name}.schema.json") for name in names}
    registry: Registry[Any] = Registry().with_resources(
        (SCHEMA_BASE_URL + f"{name}.schema.json", Resource.from_contents(doc))
        for name, doc in documents.items()
    )
    checker = _format_checker()
    compiled: dict[str, Validator] = {}
    for kind in KINDS:
        cls.check_schema(documents[kind])
        compiled[kind] = cls(documents[kind], registry=registry, format_checker=checker)
    untp = _load_json("untp", UNTP_DCC_SCHEMA_FILE)
    compiled[UNTP_DCC_KIND] = cls(untp, format_checker=checker)
    return compiled


# --- the fast path: jsonschema-rs ----------------------------------------------------

_WITH_UNTP_DCC: Final = (KIND_LABEL_CREDENTIAL, KIND_GRADE_CREDENTIAL)
_INT64: Final = range(-(2**63), 2**63)
_PLAIN_JSON_MAX_CONTAINERS: Final = 100_000


# In the schemas given to jsonschema-rs, the custom keyword that carries each
# `pattern` left to Python (see _rust_schema).
_PYTHON_PATTERN: Final = "x-carbonlabel-python-pattern"
# Keywords whose values are data, not schemas: copied as they are.
_DATA_KEYWORDS: Final = frozenset({"const", "enum", "default", "examples"})
# The `pattern` syntax that Python's `re` and jsonschema-rs read alike (_native_pattern).
_NATIVE_LITERALS: Final = frozenset(string.ascii_letters + string.digits + "!\"%',-/:;=@_")
_NATIVE_CLASS_LITERALS: Final = frozenset(string.ascii_letters + string.digits + "!\"#%'+,./:;=?@_")
_NATIVE_ESCAPES: Final = frozenset("\\^$.|?*+()[]{}/-")
_NATIVE_QUANTIFIER: Final = re.compile(r"[?*+]|\{([0-9]{1,3})(?:,([0-9]{1,3})?)?\}")


def _native_pattern(pattern: str) -> bool:
    """Whether jsonschema-rs matches ``pattern`` exactly as :func:`_matcher` does.

    Vouches only for ``^...$`` with no ``|`` outside a group, which :func:`_matcher`
    full-matches and jsonschema-rs searches with ``^`` at the start and ``$`` at the
    very end of the text (ECMA-262 ``$``, not Python's): the same test. Inside, only
    ASCII literals, escaped punctuation, bracket classes (``^`` negated) of those and
    of ranges between them, groups ``(...)`` and ``(?:...)`` with ``|``, and the
    quantifiers ``? * + {m} {m,} {m,n}``: Python's ``re`` and Rust's ``regex`` (which
    jsonschema-rs uses after an ECMA-262 translation that rewrites only ``\\d \\w \\s``
    and control escapes) give these the same meaning, code point by code point. No
    ``.``, no ``\\d \\w \\s \\b``, no flags, look-around or back-references.
    """
    if not pattern.startswith("^") or not pattern.endswith("$") or pattern.endswith("\\$"):
        return False
    body = pattern[1:-1]
    return _native_sequence(body, 0) == len(body)


def _native_alternation(text: str, at: int) -> int | None:
    end = _native_sequence(text, at)
    while end is not None and text.startswith("|", end):
        end = _native_sequence(text, end + 1)
    return end


def _native_sequence(text: str, at: int) -> int | None:
    """Where a non-empty run of (quantified) atoms from ``at`` ends; None if not native."""
    end: int | None = at
    while end is not None and end < len(text) and text[end] not in "|)":
        end = _native_atom(text, end)
        quantifier = None if end is None else _NATIVE_QUANTIFIER.match(text, end)
        if quantifier is not None:
            low, high = quantifier.groups()
            if high is not None and int(high) < int(low):
                return None
            end = quantifier.end()
    return None if end == at else end


def _native_atom(text: str, at: int) -> int | None:
    char = text[at]
    if char in _NATIVE_LITERALS:
        return at + 1
    if char == "\\":
        return at + 2 if text[at + 1 : at + 2] in _NATIVE_ESCAPES else None
    if char == "(":
        end = _native_alternation(text, at + 3 if text.startswith("?:", at + 1) else at + 1)
        return end + 1 if end is not None and text.startswith(")", end) else None
    if char == "[":
        return _native_class(text, at + 1)
    return None


def _native_class(text: str, at: int) -> int | None:
    """Where the bracket class opened just before ``at`` ends; None if not native."""
    if text.startswith("^", at):
        at += 1
    empty = True
    if text.startswith("-", at):  # a leading "-" is a literal
        at += 1
        empty = False
    while not text.startswith("]", at):
        low = _native_class_char(text, at)
        if low is None:
            return None
        char, at = low
        empty = False
        if text.startswith("-", at) and not text.startswith("-]", at):
            high = _native_class_char(text, at + 1)
            if high is None or high[0] < char:
                return None
            at = high[1]
        if text.startswith("-]", at):  # a trailing "-" is a literal
            at += 1
    return None if empty else at + 1


def _native_class_char(text: str, at: int) -> tuple[str, int] | None:
    char = text[at : at + 1]
    if char in _NATIVE_CLASS_LITERALS:
        return char, at + 1
    escaped = text[at + 1 : at + 2]
    if char == "\\" and escaped in _NATIVE_ESCAPES:
        return escaped, at + 2
    return None


def _rust_schema(node: Any) -> Any:
    """A copy of the schema ``node`` for jsonschema-rs: each ``pattern`` that
    :func:`_native_pattern` does not vouch for becomes :data:`_PYTHON_PATTERN`.

    Raises ``ValueError`` where the schema already uses that keyword, and
    ``re.error`` on a pattern Python cannot compile (as the Python pass would).
    """
    if isinstance(node, list):
        return [_rust_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    if _PYTHON_PATTERN in node:
        raise ValueError(f"{_PYTHON_PATTERN} is reserved for the fast path")
    copy: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DATA_KEYWORDS:
            copy[key] = value
        elif key == "pattern" and isinstance(value, str):
            _matcher(value)
            copy["pattern" if _native_pattern(value) else _PYTHON_PATTERN] = value
        else:
            copy[key] = _rust_schema(value)
    return copy


class _PythonPattern:
    """:data:`_PYTHON_PATTERN` for jsonschema-rs: :func:`_matcher`, as in the Python pass."""

    def __init__(self, parent_schema: Mapping[str, Any], value: Any, schema_path: Any) -> None:
        if not isinstance(value, str):
            raise TypeError("pattern must be a string")
        # An invalid pattern fails the build here, as it fails the Python pass.
        self._match = _matcher(value)

    def validate(self, instance: Any) -> None:
        if isinstance(instance, str) and self._match(instance) is None:
            raise ValueError("does not match the pattern")


def _no_retrieval(uri: str) -> Any:
    raise LookupError(f"{uri} is not a bundled schema")


def _rust_validator(
    schema: dict[str, Any], registry: jsonschema_rs.Registry | None = None
) -> jsonschema_rs.Validator:
    """A jsonschema-rs Draft 2020-12 validator with this module's patterns and formats.

    ``schema`` is taken as written; the documents of ``registry`` must have been
    through :func:`_rust_schema`.
    """
    return jsonschema_rs.Draft202012Validator(
        _rust_schema(schema),
        formats=dict(_FORMATS),
        validate_formats=True,
        retriever=_no_retrieval,
        registry=registry,
        keywords={_PYTHON_PATTERN: _PythonPattern},
    )


@cache
def _fast_compiled() -> dict[str, jsonschema_rs.Validator | None]:
    """The jsonschema-rs validators, built once; ``None`` where one cannot be built."""
    names = [*KINDS, "common"]
    documents = {name: _load_json("json", f"{name}.schema.json") for name in names}
    compiled: dict[str, jsonschema_rs.Validator | None] = dict.fromkeys([*KINDS, UNTP_DCC_KIND])
    try:
        registry = jsonschema_rs.Registry(
            [
                (SCHEMA_BASE_URL + f"{name}.schema.json", _rust_schema(doc))
                for name, doc in documents.items()
            ]
        )
    except Exception:  # the Python pass then reports whatever is wrong
        return compiled
    schemas: dict[str, tuple[dict[str, Any], jsonschema_rs.Registry | None]] = {
        kind: (documents[kind], registry) for kind in KINDS
    }
    schemas[UNTP_DCC_KIND] = (_load_json("untp", UNTP_DCC_SCHEMA_FILE), None)
    for kind, (schema, with_registry) in schemas.items():
        try:
            compiled[kind] = _rust_validator(schema, with_registry)
        except Exception:  # as above
            compiled[kind] = None
    return compiled


def _plain_json(document: Any) -> bool:
    """Whether ``document`` is made only of exact JSON types (see the module docstring).

    False too past :data:`_PLAIN_JSON_MAX_CONTAINERS` objects and arrays, so that a
    cyclic structure ends here and is left to the Python pass, as before.
    """
    stack = [document]
    budget = _PLAIN_JSON_MAX_CONTAINERS
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is str:
            if not node.isascii() and not _unicode(node):
                return False
        elif kind is dict or kind is list:
            budget -= 1
            if budget < 0:
                return False
            if kind is list:
                stack.extend(node)
                continue
            for key in node:
                if type(key) is not str or not (key.isascii() or _unicode(key)):
                    return False
            stack.extend(node.values())
        elif kind is int:
            if node not in _INT64:
                return False
        elif kind is float:
            if not math.isfinite(node):
                return False
        elif kind is not bool and node is not None:
            return False
    return True


def _unicode(text: str) -> bool:
    """Whether ``text`` has no lone surrogate (which UTF-8, and so Rust, cannot carry)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _fast_valid(kind: str, document: Any) -> bool:
    """Whether jsonschema-rs finds ``document`` valid as ``kind`` (False if unsure).

    True implies that the Python ``jsonschema`` pass finds no error.
    """
    if not _plain_json(document):
        return False
    compiled = _fast_compiled()
    names = (kind, UNTP_DCC_KIND) if kind in _WITH_UNTP_DCC else (kind,)
    for name in names:
        validator = compiled.get(name)
        try:
            if validator is None or not validator.is_valid(document):
                return False
        except Exception:  # e.g. a string with a lone surrogate: not UTF-8
            return False
    return True


# --- turning jsonschema errors into FieldErrors ---------------------------------


def _pointer(path: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


_TYPE_NAMES: Final = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "object": "an object",
    "array": "an array",
    "boolean": "true or false",
    "null": "null",
}
_PLAIN_VALIDATORS: Final = frozenset({"required", "type", "additionalProperties", "enum"})


def _field_errors(errors: Iterable[ValidationError]) -> Iterator[FieldError]:
    for error in errors:
        yield from _translate(error)


def _translate(error: ValidationError) -> Iterator[FieldError]:
    pointer = _pointer(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    validator = str(error.validator)
    value = error.validator_value
    custom = schema.get("x-error")
    if isinstance(custom, str) and validator not in _PLAIN_VALIDATORS:
        yield FieldError(pointer, custom)
        return
    if validator == "required":
        instance = error.instance if isinstance(error.instance, Mapping) else {}
        for name in value if isinstance(value, list) else []:
            if name not in instance and error.message.startswith(repr(name)):
                yield FieldError(f"{pointer}/{_pointer([name])[1:]}", "is required")
        return
    if validator in ("additionalProperties", "unevaluatedProperties"):
        allowed = schema.get("properties", {})
        instance = error.instance if isinstance(error.instance, Mapping) else {}
        for name in instance:
            if name not in allowed:
                yield FieldError(pointer + _pointer([name]), "is not an allowed property here")
        return
    if validator in ("anyOf", "oneOf") and error.context:
        inner = best_match(error.context)
        yield from _translate(inner)
        return
    yield FieldError(pointer, _reason(validator, value, error))


def _reason(validator: str, value: Any, error: ValidationError) -> str:
    simple: dict[str, Callable[[], str]] = {
        "enum": lambda: "must be one of " + ", ".join(str(v) for v in value),
        "const": lambda: f"must be {json.dumps(value, ensure_ascii=False)}",
        "type": lambda: (
            "must be "
            + " or ".join(
                _TYPE_NAMES.get(t, t) for t in ([value] if isinstance(value, str) else value)
            )
        ),
        "minLength": lambda: (
            "must not be empty" if value == 1 else f"must be at least {value} characters"
        ),
        "maxLength": lambda: f"must be at most {value} characters",
        "minItems": lambda: (
            "must not be empty" if value == 1 else f"must have at least {value} items"
        ),
        "maxItems": lambda: f"must have at most {value} items",
        "uniqueItems": lambda: "must not contain duplicate items",
        "minimum": lambda: f"must be at least {value}",
        "maximum": lambda: f"must be at most {value}",
        "exclusiveMinimum": lambda: f"must be greater than {value}",
        "exclusiveMaximum": lambda: f"must be less than {value}",
        "pattern": lambda: f"must match the pattern {value}",
        "format": lambda: f"must be a valid {value}",
        "not": lambda: "is not allowed",
        "contains": lambda: "must contain a matching item",
        "items": lambda: "has more items than allowed",
        "dependentRequired": lambda: "is missing properties that this one requires",
    }
    make = simple.get(validator)
    return make() if make is not None else error.message


def _raise_if_any(kind: str, errors: list[FieldError]) -> None:
    unique = sorted(set(errors), key=lambda e: (e.pointer, e.reason))
    if unique:
        raise SchemaValidationError(kind, unique)


# --- checks JSON Schema cannot express -------------------------------------------


def _get(document: Any, *path: str | int) -> Any:
    node = document
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return None
        elif (type(node) is not dict and not isinstance(node, Mapping)) or step not in node:
            return None
        node = node[step]
    return node


def _items(document: Any, *path: str | int) -> list[tuple[int, Any]]:
    node = _get(document, *path)
    return list(enumerate(node)) if isinstance(node, list) else []


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return Decimal(value)
    return None


def _timestamp(value: Any) -> datetime | None:
    """``value`` as an aware datetime if it is an RFC 3339 date-time string, else None."""
    if type(value) is str:
        return _cached_timestamp(value)  # a subclass may hash like a str yet read otherwise
    return _parse_timestamp(value) if isinstance(value, str) else None


def _parse_timestamp(value: str) -> datetime | None:
    if _DATE_TIME.fullmatch(value) is None:
        return None
    try:
        return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return None


_cached_timestamp: Final = lru_cache(maxsize=_TIMESTAMP_CACHE_SIZE)(_parse_timestamp)


def _uscc_at(value: Any, pointer: str) -> Iterator[FieldError]:
    """The error of :func:`check_uscc` on a string ``value``, at ``pointer``."""
    reason = _uscc_reason(value) if isinstance(value, str) else None
    if reason is not None:
        yield FieldError(pointer, reason)


def _gtin_at(value: Any, pointer: str) -> Iterator[FieldError]:
    """The error of :func:`check_gtin` on a string ``value``, at ``pointer``."""
    reason = _gtin_reason(value) if isinstance(value, str) else None
    if reason is not None:
        yield FieldError(pointer, reason)


def _later(document: Any, start: str, end: str) -> Iterator[FieldError]:
    first, last = _timestamp(_get(document, start)), _timestamp(_get(document, end))
    if first is not None and last is not None and last <= first:
        yield FieldError(f"/{end}", f"must be later than {start}")


def _footprint_checks(footprint: Any) -> Iterator[FieldError]:
    """Pointers relative to the footprint block."""
    if not isinstance(footprint, Mapping):
        return
    yield from _later(footprint, "referencePeriodStart", "referencePeriodEnd")
    stages = _items(footprint, "lifeCycleStageEmissions")
    cradle_to_gate = footprint.get("boundary") == "cradle-to-gate"
    seen: set[str] = set()
    total = Decimal(0)
    complete = True
    for index, entry in stages:
        stage = _get(entry, "stage")
        if cradle_to_gate and stage in DOWNSTREAM_STAGES:
            yield FieldError(
                f"/lifeCycleStageEmissions/{index}/stage",
                f"{stage} is outside a cradle-to-gate boundary",
            )
        if isinstance(stage, str):
            if stage in seen:
                yield FieldError(
                    f"/lifeCycleStageEmissions/{index}/stage", f"{stage} must appear only once"
                )
            seen.add(stage)
        emissions = _decimal(_get(entry, "emissions"))
        if emissions is None:
            complete = False
        else:
            total += emissions
    pcf = _decimal(footprint.get("pcfExcludingBiogenicUptake"))
    if (
        stages
        and complete
        and pcf is not None
        and abs(total - pcf) > abs(pcf) * _STAGE_SUM_TOLERANCE
    ):
        yield FieldError(
            "/lifeCycleStageEmissions",
            f"stage emissions must add up to pcfExcludingBiogenicUptake ({pcf}) within 1 %; "
            f"they add up to {total}",
        )


def _rebase(errors: Iterator[FieldError], prefix: str) -> Iterator[FieldError]:
    for error in errors:
        yield FieldError(prefix + error.pointer, error.reason)


def _check_label_credential(document: Any) -> Iterator[FieldError]:
    subject = ("credentialSubject",)
    yield from _later(document, "validFrom", "validUntil")
    yield from _uscc_at(
        _get(document, *subject, "issuedToParty", "registeredId"),
        "/credentialSubject/issuedToParty/registeredId",
    )
    for i, _ in _items(document, *subject, "authorisedDistributors"):
        yield from _uscc_at(
            _get(document, *subject, "authorisedDistributors", i, "registeredId"),
            f"/credentialSubject/authorisedDistributors/{i}/registeredId",
        )
    gtin = _get(document, *subject, "labelledProduct", "gtin")
    yield from _gtin_at(gtin, "/credentialSubject/labelledProduct/gtin")
    link = _get(document, *subject, "labelledProduct", "digitalLink")
    if isinstance(link, str) and isinstance(gtin, str):
        found = _DIGITAL_LINK_GTIN.search(link)
        if found is not None and found.group(1) != gtin:
            yield FieldError(
                "/credentialSubject/labelledProduct/digitalLink",
                f"must carry the labelled GTIN {gtin} after /01/",
            )
    for i, _ in _items(document, *subject, "assessment"):
        for j, _ in _items(document, *subject, "assessment", i, "assessedProduct"):
            where = f"/credentialSubject/assessment/{i}/assessedProduct/{j}/product/registeredId"
            registered = _get(
                document, *subject, "assessment", i, "assessedProduct", j, "product", "registeredId"
            )
            if isinstance(registered, str) and isinstance(gtin, str) and registered != gtin:
                yield FieldError(where, f"must equal the labelled GTIN {gtin}")
            else:
                yield from _gtin_at(registered, where)
    yield from _rebase(
        _footprint_checks(_get(document, *subject, "carbonFootprint")),
        "/credentialSubject/carbonFootprint",
    )


def _check_grade_credential(document: Any) -> Iterator[FieldError]:
    yield from _later(document, "validFrom", "validUntil")
    yield from _uscc_at(
        _get(document, "credentialSubject", "issuedToParty", "registeredId"),
        "/credentialSubject/issuedToParty/registeredId",
    )


def _check_grading_rule(document: Any) -> Iterator[FieldError]:
    yield from _later(document, "validFrom", "validUntil")
    classes = _items(document, "classBoundaries")
    grades: set[str] = set()
    previous: Decimal | None = None
    for index, entry in classes:
        grade = _get(entry, "grade")
        if isinstance(grade, str):
            if grade in grades:
                yield FieldError(f"/classBoundaries/{index}/grade", "must be unique in the rule")
            grades.add(grade)
        if not isinstance(entry, Mapping):
            continue
        if "maxRatio" not in entry:
            if index != len(classes) - 1:
                yield FieldError(
                    f"/classBoundaries/{index}/maxRatio",
                    "is required on every class but the last (the open-ended one)",
                )
            continue
        bound = _decimal(entry.get("maxRatio"))
        if bound is None:
            continue
        if previous is not None and bound <= previous:
            yield FieldError(
                f"/classBoundaries/{index}/maxRatio",
                f"must be greater than the previous class's maxRatio ({previous})",
            )
        previous = bound


def _check_recognition(document: Any) -> Iterator[FieldError]:
    yield from _later(document, "validFrom", "validUntil")


def _check_label_request(document: Any) -> Iterator[FieldError]:
    yield from _uscc_at(_get(document, "manufacturer", "uscc"), "/manufacturer/uscc")
    yield from _uscc_at(
        _get(document, "certification", "verifier", "uscc"), "/certification/verifier/uscc"
    )
    for i, distributor in _items(document, "authorisedDistributors"):
        yield from _uscc_at(_get(distributor, "uscc"), f"/authorisedDistributors/{i}/uscc")
    yield from _gtin_at(_get(document, "product", "gtin"), "/product/gtin")
    yield from _rebase(_footprint_checks(_get(document, "footprint")), "/footprint")


_SEMANTIC_CHECKS: Final[dict[str, Callable[[Any], Iterator[FieldError]]]] = {
    KIND_LABEL_CREDENTIAL: _check_label_credential,
    KIND_GRADE_CREDENTIAL: _check_grade_credential,
    KIND_GRADING_RULE: _check_grading_rule,
    KIND_RECOGNITION_CREDENTIAL: _check_recognition,
    KIND_LABEL_REQUEST: _check_label_request,
}
