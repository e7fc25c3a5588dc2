"""Compiled shapes (credentials/shapes.py) give pyld's RDFC-1.0 output, byte for byte.

The reference is the pyld path itself: ``canonicalize_expanded(expand(doc))`` never
looks at the shape cache. Each test uses a fresh cache.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials import canonical, shapes
from credentials.errors import CredentialError
from tests.test_build import _build, _csv_rows

V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[shapes.ShapeCache]:
    cache = shapes.ShapeCache()
    monkeypatch.setattr(canonical, "_shapes", cache)
    yield cache


def _pyld(document: dict[str, Any]) -> str:
    return canonical.canonicalize_expanded(canonical.expand(document))


def _outcome(function: Any, document: dict[str, Any]) -> str:
    try:
        result: str = function(document)
    except CredentialError as exc:
        return f"{type(exc).__name__}: {exc}"
    return result


def _labels() -> list[dict[str, Any]]:
    return [_build(row.request, sequence=row.line) for row in _csv_rows() if row.request]


LABELS = _labels()


def test_every_example_label_matches_pyld_and_skips_expansion(
    fresh_cache: shapes.ShapeCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = [_pyld(label) for label in LABELS]
    for _ in range(2):
        assert [canonical.canonicalize_rdfc(label) for label in LABELS] == expected
    assert len(fresh_cache) >= 1
    # Every label's shape has now been seen twice: pyld's expansion must not run.

    def no_expansion(document: dict[str, Any]) -> list[Any]:
        raise AssertionError("expanded a document of a learned shape")

    monkeypatch.setattr(canonical, "expand", no_expansion)
    assert [canonical.canonicalize_rdfc(label) for label in LABELS] == expected


def test_a_shape_is_learned_on_its_second_sighting(fresh_cache: shapes.ShapeCache) -> None:
    canonical.canonicalize_rdfc(LABELS[0])
    assert len(fresh_cache) == 0
    canonical.canonicalize_rdfc(LABELS[0])
    assert len(fresh_cache) == 1


def test_a_shape_can_be_learned_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = shapes.ShapeCache(sightings=1)
    monkeypatch.setattr(canonical, "_shapes", cache)
    canonical.canonicalize_rdfc(LABELS[0])
    assert len(cache) == 1


def test_least_recently_used_shapes_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = shapes.ShapeCache(shapes=3, sightings=1)
    monkeypatch.setattr(canonical, "_shapes", cache)
    distinct = {shapes.shape_of(label)[0]: label for label in LABELS}  # type: ignore[index]
    assert len(distinct) > 3
    for label in distinct.values():
        canonical.canonicalize_rdfc(label)
        assert len(cache) <= 3
    assert len(cache) == 3


def test_enumeration_values_are_pinned_per_combination(fresh_cache: shapes.ShapeCache) -> None:
    """Values that @vocab coercion expands as terms (KGM, 3rdParty) cannot be holes."""
    label = LABELS[0]
    for _ in range(2):
        canonical.canonicalize_rdfc(label)
    text = json.dumps(label)
    assert '"KGM"' in text
    other = json.loads(text.replace('"KGM"', '"TNE"'))
    for _ in range(2):
        assert canonical.canonicalize_rdfc(other) == _pyld(other)
    assert len(fresh_cache) == 2


def test_relative_id_is_still_refused_after_learning() -> None:
    label = LABELS[0]
    for _ in range(2):
        canonical.canonicalize_rdfc(label)
    bad = copy.deepcopy(label)
    bad["id"] = "labels/123"
    assert _outcome(canonical.canonicalize_rdfc, bad) == _outcome(_pyld, bad)
    assert _outcome(_pyld, bad).startswith("UndefinedTermError")


def _small(subjects: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": [V2, EXAMPLES],
        "type": ["VerifiableCredential", "ExampleCredential"],
        "issuer": "did:example:issuer",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": subjects,
    }


def test_nodes_sharing_an_id_merge_as_in_pyld() -> None:
    apart = _small([{"id": "did:example:a", "name": "A"}, {"id": "did:example:b", "name": "B"}])
    for _ in range(2):
        canonical.canonicalize_rdfc(apart)
    same = _small([{"id": "did:example:a", "name": "A"}, {"id": "did:example:a", "name": "A"}])
    assert canonical.canonicalize_rdfc(same) == _pyld(same)
    assert canonical.canonicalize_rdfc(same).count("\n") < _pyld(apart).count("\n")


def test_blank_nodes_with_equal_first_degree_hashes_take_the_full_algorithm() -> None:
    twins = _small([{"name": "twin", "age": 3}, {"name": "twin", "age": 3}])
    for _ in range(3):
        assert canonical.canonicalize_rdfc(twins) == _pyld(twins)
    quads = [
        ("_:b0", "<https://e/p>", '"x"', None),
        ("_:b1", "<https://e/p>", '"x"', None),
    ]
    assert shapes.first_degree_rdfc(quads) is None


def test_first_degree_labelling_matches_pyld_on_a_chain() -> None:
    chain = _small([{"name": "a", "knows": {"name": "b", "knows": {"name": "c"}}}])
    for _ in range(3):
        assert canonical.canonicalize_rdfc(chain) == _pyld(chain)


def test_documents_that_are_not_json_have_no_shape() -> None:
    assert shapes.shape_of({"a": {1, 2}}) is None
    assert shapes.shape_of({1: "a"}) is None


# --- property: any values in a label's shape -----------------------------------------

_IRIS = st.sampled_from(
    [
        "https://example.com/x",
        "https://example.com/a b",
        "did:web:example.com",
        "did:key:z6Mk",
        "urn:uuid:1",
        "urn:x",
        "relative/path",
        "_:b9",
        "KGM",
        "3rdParty",
        "gdcl:labelNumber",
        "mailto:a@b.c",
        "http:",
        "",
    ]
)
_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(['a "quoted" \\ line\nnext\r\ttab', "\u0000\u001f\u007f", "中文标签", "😀"]),
)
_INTS = st.one_of(st.integers(-(2**60), 2**60), st.sampled_from([0, -1, 10**21, 10**22]))
_FLOATS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1.0, 0.1, 1e-7, 1e21, 123456789.125]),
)


def _values(kind: type) -> st.SearchStrategy[Any]:
    if kind is bool:
        return st.booleans()
    if kind is int:
        return st.one_of(_INTS, _FLOATS)
    if kind is float:
        return st.one_of(_FLOATS, _INTS)
    return st.one_of(_IRIS, _TEXT)


def _replace(document: Any, values: dict[int, Any], counter: list[int]) -> Any:
    if isinstance(document, dict):
        return {
            k: v if k in shapes.FIXED_KEYS else _replace(v, values, counter)
            for k, v in document.items()
        }
    if isinstance(document, list):
        return [_replace(v, values, counter) for v in document]
    if document is None:
        return None
    position = counter[0]
    counter[0] += 1
    return values.get(position, document)


@st.composite
def _mutated_labels(draw: st.DrawFn) -> dict[str, Any]:
    label = draw(st.sampled_from(LABELS[:8]))
    found = shapes.shape_of(label)
    assert found is not None
    leaves = found[1]
    chosen = draw(st.lists(st.integers(0, len(leaves) - 1), max_size=6, unique=True))
    values = {i: draw(_values(type(leaves[i]))) for i in chosen}
    if draw(st.booleans()) and len(leaves) > 1:
        # Copy one value onto another position: equal ids, equal literals.
        source, target = (
            draw(st.integers(0, len(leaves) - 1)),
            draw(st.integers(0, len(leaves) - 1)),
        )
        values[target] = values.get(source, leaves[source])
    mutated: dict[str, Any] = _replace(label, values, [0])
    return mutated


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_labels())
def test_any_values_in_a_learned_shape_match_pyld(document: dict[str, Any]) -> None:
    for label in LABELS[:8]:
        canonical.canonicalize_rdfc(label)
        canonical.canonicalize_rdfc(label)
    first = _outcome(canonical.canonicalize_rdfc, document)
    second = _outcome(canonical.canonicalize_rdfc, document)
    assert first == second == _outcome(_pyld, document)
