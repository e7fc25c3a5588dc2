"""The checks JSON Schema cannot express: the same verdicts as the plain versions.

``check_uscc`` and ``check_gtin`` keep the verdicts of recent codes, and the label
request checks walk the document once; each is compared here with a plain,
obviously-correct version (the code they replaced) on hypothesis-made inputs.
"""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.batchfile import read_batch
from schemas import FieldError, InvalidGTIN, InvalidUSCC, check_gtin, check_uscc
from schemas.vocabulary import DOWNSTREAM_STAGES
from tests.test_validate_fast import _paths

# `schemas.validate` the module (the package re-exports the function of that name).
fast = importlib.import_module("schemas.validate")

ROOT = Path(__file__).resolve().parent.parent
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


# --- the plain versions ----------------------------------------------------------


def plain_check_uscc(code: Any) -> None:
    if not isinstance(code, str) or len(code) != 18:
        raise InvalidUSCC("must be 18 characters (GB 32100-2015)")
    for char in code:
        if char not in USCC_CHARSET:
            raise InvalidUSCC(
                f"must use only digits and the capital letters {USCC_CHARSET[10:]} (found {char!r})"
            )
    if not code[2:8].isdigit():
        raise InvalidUSCC("characters 3 to 8 must be the 6-digit administrative division code")
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(code[:17], USCC_WEIGHTS, strict=True))
    expected = USCC_CHARSET[(31 - total % 31) % 31]
    if code[17] != expected:
        raise InvalidUSCC(
            f"must be a valid USCC check character (expected {expected}, found {code[17]})"
        )


def plain_check_gtin(gtin: Any) -> str:
    if not isinstance(gtin, str) or not gtin.isascii() or not gtin.isdigit():
        raise InvalidGTIN("must contain only the digits 0-9")
    if len(gtin) not in (8, 12, 13, 14):
        raise InvalidGTIN("must be 8, 12, 13 or 14 digits")
    body = gtin[:-1]
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    expected = (10 - total % 10) % 10
    if int(gtin[-1]) != expected:
        raise InvalidGTIN(
            f"must be a valid GTIN check digit (expected {expected}, found {gtin[-1]})"
        )
    return gtin.zfill(14)


def _get(document: Any, *path: str | int) -> Any:
    node = document
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return None
        elif not isinstance(node, Mapping) or step not in node:
            return None
        node = node[step]
    return node


def _items(document: Any, *path: str | int) -> list[tuple[int, Any]]:
    node = _get(document, *path)
    return list(enumerate(node)) if isinstance(node, list) else []


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, str) and fast._DECIMAL.fullmatch(value):
        return Decimal(value)
    return None


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, str) and fast._DATE_TIME.fullmatch(value):
        try:
            return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _uscc_at(value: Any, pointer: str) -> Iterator[FieldError]:
    if isinstance(value, str):
        try:
            plain_check_uscc(value)
        except InvalidUSCC as exc:
            yield FieldError(pointer, exc.reason)


def _later(document: Any, start: str, end: str) -> Iterator[FieldError]:
    first, last = _timestamp(_get(document, start)), _timestamp(_get(document, end))
    if first is not None and last is not None and last <= first:
        yield FieldError(f"/{end}", f"must be later than {start}")


def plain_footprint_checks(footprint: Any) -> Iterator[FieldError]:
    if not isinstance(footprint, Mapping):
        return
    yield from _later(footprint, "referencePeriodStart", "referencePeriodEnd")
    stages = _items(footprint, "lifeCycleStageEmissions")
    seen: set[str] = set()
    total = Decimal(0)
    complete = True
    for index, entry in stages:
        stage = _get(entry, "stage")
        where = f"/lifeCycleStageEmissions/{index}/stage"
        if footprint.get("boundary") == "cradle-to-gate" and stage in DOWNSTREAM_STAGES:
            yield FieldError(where, f"{stage} is outside a cradle-to-gate boundary")
        if isinstance(stage, str):
            if stage in seen:
                yield FieldError(where, f"{stage} must appear only once")
            seen.add(stage)
        emissions = _decimal(_get(entry, "emissions"))
        if emissions is None:
            complete = False
        else:
            total += emissions
    pcf = _decimal(footprint.get("pcfExcludingBiogenicUptake"))
    if stages and complete and pcf is not None and abs(total - pcf) > abs(pcf) * Decimal("0.01"):
        yield FieldError(
            "/lifeCycleStageEmissions",
            f"stage emissions must add up to pcfExcludingBiogenicUptake ({pcf}) within 1 %; "
            f"they add up to {total}",
        )


def plain_check_label_request(document: Any) -> Iterator[FieldError]:
    yield from _uscc_at(_get(document, "manufacturer", "uscc"), "/manufacturer/uscc")
    yield from _uscc_at(
        _get(document, "certification", "verifier", "uscc"), "/certification/verifier/uscc"
    )
    for i, _ in _items(document, "authorisedDistributors"):
        yield from _uscc_at(
            _get(document, "authorisedDistributors", i, "uscc"), f"/authorisedDistributors/{i}/uscc"
        )
    gtin = _get(document, "product", "gtin")
    if isinstance(gtin, str):
        try:
            plain_check_gtin(gtin)
        except InvalidGTIN as exc:
            yield FieldError("/product/gtin", exc.reason)
    for error in plain_footprint_checks(_get(document, "footprint")):
        yield FieldError("/footprint" + error.pointer, error.reason)


def verdict(check: Any, value: Any) -> tuple[str, str]:
    """What ``check(value)`` did: returned (and what) or raised (what, and why)."""
    try:
        return "returned", repr(check(value))
    except (InvalidUSCC, InvalidGTIN) as exc:
        return type(exc).__name__, exc.reason


class Text(str):
    """A str subclass: equal to, and hashed like, the plain string."""


# --- USCC and GTIN ----------------------------------------------------------------


def with_check_character(body: str) -> str:
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_CHARSET[(31 - total % 31) % 31]


USCC_BODIES = st.builds(
    lambda head, division, rest: head + division + rest,
    st.text(USCC_CHARSET, min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(USCC_CHARSET, min_size=9, max_size=9),
)
USCCS = st.one_of(
    st.builds(lambda body, other: body + other, USCC_BODIES, st.sampled_from(USCC_CHARSET)),
    USCC_BODIES.map(with_check_character),
    st.text(USCC_CHARSET, min_size=17, max_size=17).map(with_check_character),
    st.text(USCC_CHARSET + "IOSVZabc ٣\n", min_size=16, max_size=19),
    st.text(max_size=20),
)
GTINS = st.one_of(
    st.integers(0, 15).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)),
    st.text("0123456789٣４x ", max_size=15),
    st.text(max_size=15),
)


@settings(max_examples=1000)
@given(USCCS)
def test_uscc_verdicts_are_the_plain_ones(code: str) -> None:
    expected = verdict(plain_check_uscc, code)
    assert verdict(check_uscc, code) == expected
    assert verdict(check_uscc, code) == expected  # now from the cache
    assert verdict(check_uscc, Text(code)) == expected


@settings(max_examples=1000)
@given(GTINS)
def test_gtin_verdicts_are_the_plain_ones(gtin: str) -> None:
    expected = verdict(plain_check_gtin, gtin)
    assert verdict(check_gtin, gtin) == expected
    assert verdict(check_gtin, gtin) == expected
    assert verdict(check_gtin, Text(gtin)) == expected


@pytest.mark.parametrize("value", [None, 91440606, b"91440606MA2M8NM48B", ["x"]])
def test_non_strings_are_refused_as_before(value: Any) -> None:
    assert verdict(check_uscc, value) == verdict(plain_check_uscc, value)
    assert verdict(check_gtin, value) == verdict(plain_check_gtin, value)


def test_verdict_caches_are_bounded_and_skip_str_subclasses() -> None:
    for cached in (fast._cached_uscc_error, fast._cached_gtin_error):
        assert cached.cache_info().maxsize == 4096
    fast._cached_uscc_error.cache_clear()
    check_uscc("91440606MA2M8NM48B")
    with pytest.raises(InvalidUSCC):
        check_uscc("91440606MA2M8NM48C")
    check_uscc(Text("91440104MA6HL60LTD"))
    info = fast._cached_uscc_error.cache_info()
    assert (info.hits, info.currsize) == (0, 2)
    check_uscc("91440606MA2M8NM48B")
    assert fast._cached_uscc_error.cache_info().hits == 1


# --- the label request checks ------------------------------------------------------

REQUESTS = [row.request for row in read_batch(ROOT / "examples" / "labels.csv") if row.request]
REQUESTS.append(json.loads((ROOT / "examples" / "label.json").read_text("utf-8")))
VALUES: st.SearchStrategy[Any] = st.sampled_from(
    [
        None,
        0,
        [],
        {},
        "",
        "91440606MA2M8NM48C",
        "91440606MA2M8NM48B",
        "9144O606MA2M8NM48B",
        "6923517001016",
        "6923517001015",
        "cradle-to-gate",
        "use",
        "end-of-life",
        "manufacturing",
        "1e3",
        "9999.9",
        "-1",
        "2023-01-01T00:00:00Z",
        "2026-01-01T00:00:00+08:00",
        "2025-02-30T00:00:00Z",
        Text("91440606MA2M8NM48C"),
        Text("2023-01-01T00:00:00Z"),
    ]
).map(copy.deepcopy)


CHECKED_KEYS = frozenset(
    {
        "uscc",
        "gtin",
        "boundary",
        "stage",
        "emissions",
        "pcfExcludingBiogenicUptake",
        "referencePeriodStart",
        "referencePeriodEnd",
    }
)


@st.composite
def mutated_requests(draw: st.DrawFn) -> dict[str, Any]:
    request: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(REQUESTS)))
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(request))[1:]
        checked = [p for p in paths if p[-1] in CHECKED_KEYS]
        targeted: bool = draw(st.booleans())
        path = draw(st.sampled_from(checked if checked and targeted else paths))
        parent: Any = request
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()):
            parent[path[-1]] = draw(VALUES)
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.append(copy.deepcopy(parent[path[-1]]))  # a duplicate item
    return request


@settings(max_examples=500, deadline=None)
@given(mutated_requests())
def test_label_request_checks_are_the_plain_ones(request: dict[str, Any]) -> None:
    assert list(fast._check_label_request(request)) == list(plain_check_label_request(request))


DATE_TIMES = st.one_of(
    st.builds(
        lambda moment, zone: moment.isoformat() + zone,
        st.datetimes(),
        st.sampled_from(["Z", "z", "+08:00", "-00:00", ""]),
    ),
    st.from_regex(fast._DATE_TIME, fullmatch=True),
    st.text(max_size=25),
)


@settings(max_examples=500)
@given(DATE_TIMES)
def test_timestamps_are_the_plain_ones(value: str) -> None:
    expected = repr(_timestamp(value))  # repr: an offset matters, not just the instant
    assert repr(fast._timestamp(value)) == expected
    assert repr(fast._timestamp(value)) == expected  # now from the cache
    assert repr(fast._timestamp(Text(value))) == expected
    assert fast._is_date_time(value) is (expected != "None")
