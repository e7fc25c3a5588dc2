"""The JCS fast path (``json.dumps``) must equal ``rfc8785.dumps`` byte for byte.

``credentials.canonical`` serializes with the C JSON encoder when it can show the
result is RFC 8785, and falls back to ``rfc8785`` otherwise. These tests hold the
fast path to the reference: on generated JSON with hostile strings, keys, integers
and floats; on every BMP character; and on the cases it must refuse.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.canonical import JcsMembers, _canonicalize_jcs_fast, canonicalize_jcs
from credentials.errors import CanonicalizationError

ROOT = Path(__file__).resolve().parent.parent
SAFE_INT = 2**53 - 1

TRICKY = (
    "\x00\x01\x07\x08\t\n\x0b\x0c\r\x0e\x1b\x1f \"\\/'\x7f\x80\xa0\xe9\u00ff\u0100"
    "\u2028\u2029\ud7ff\ud800\udbff\udc00\udfff\ue000\ufeff\ufffd\uffff"
    "\U00010000\U0001f600\U0010ffff"
)
"""Escapes, controls, DEL, line separators, lone surrogates, the BMP edges around
the surrogate block (where code point and UTF-16 order part) and astral characters."""

texts = st.text(alphabet=st.sampled_from(TRICKY) | st.characters(), max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-SAFE_INT - 3, max_value=SAFE_INT + 3)
    | st.integers(min_value=-1000, max_value=1000)
    | st.floats()
    | st.floats(min_value=-1e6, max_value=1e6)
    | st.sampled_from([0.0, -0.0, 1.0, 0.05, 5900.5, 1e-4, 1e-5, 1e-7, 1e15, 1e16, 1e21])
    | texts
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(texts, children, max_size=5),
    max_leaves=30,
)


def reference(value: Any) -> bytes | None:
    """``rfc8785.dumps``, or None where it refuses the value."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        return None


@settings(max_examples=1500)
@given(json_values)
def test_fast_path_equals_rfc8785(value: Any) -> None:
    fast = _canonicalize_jcs_fast(value)
    if fast is not None:
        assert fast == reference(value)


@settings(max_examples=500)
@given(json_values)
def test_canonicalize_jcs_equals_rfc8785_or_raises(value: Any) -> None:
    expected = reference(value)
    if expected is None:
        with pytest.raises(CanonicalizationError):
            canonicalize_jcs(value)
    else:
        assert canonicalize_jcs(value) == expected


@given(st.dictionaries(st.text(alphabet=st.characters(codec="ascii")), st.text(), max_size=8))
def test_fast_path_taken_for_plain_json(value: dict[str, str]) -> None:
    """Not vacuous: ordinary JSON does go through the fast path."""
    assert _canonicalize_jcs_fast(value) == rfc8785.dumps(value)


def test_every_bmp_character_as_key_and_value() -> None:
    for code in range(0x10000):
        char = chr(code)
        value = {char: char, "k" + char: ["a" + char + "z"]}
        fast = _canonicalize_jcs_fast(value)
        if 0xD800 <= code <= 0xDFFF:
            assert fast is None, hex(code)  # lone surrogate: rfc8785 refuses it
        else:
            assert fast == rfc8785.dumps(value), hex(code)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"\ue000": 1, "\U00010000": 2}, id="astral-key-sorts-before-e000-in-utf16"),
        pytest.param({"a": 1e-5}, id="float-exponent-small"),
        pytest.param({"a": 1e16}, id="float-exponent-large"),
        pytest.param({"a": 2**53}, id="int-beyond-safe-range"),
        pytest.param({"a": float("nan")}, id="nan"),
        pytest.param({"a": (1, 2)}, id="tuple"),
        pytest.param({1: "a"}, id="int-key"),
        pytest.param({"a": "\ud800"}, id="lone-surrogate"),
    ],
)
def test_fast_path_refuses(value: Any) -> None:
    assert _canonicalize_jcs_fast(value) is None
    expected = reference(value)
    if expected is None:
        with pytest.raises(CanonicalizationError):
            canonicalize_jcs(value)
    else:
        assert canonicalize_jcs(value) == expected


def test_fast_path_refuses_circular_structure() -> None:
    value: list[Any] = []
    value.append(value)
    assert _canonicalize_jcs_fast(value) is None


def test_astral_values_take_fast_path() -> None:
    value = {"a": "\U0001f600", "b": ["\U00010000", "\ue000"]}
    assert _canonicalize_jcs_fast(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("float_value", [5900.5, 0.05, -0.05, 1e-4, 123456789012345.6])
def test_plain_decimal_floats_take_fast_path(float_value: float) -> None:
    value = {"v": float_value}
    assert _canonicalize_jcs_fast(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "float_value", [1.0, -0.0, 0.0, 5599.0, -42.0, 9007199254740992.0, 9999999999999998.0]
)
def test_integral_floats_take_fast_path_as_integers(float_value: float) -> None:
    value: dict[str, Any] = {"v": float_value, "w": [float_value, 0.5]}
    assert _canonicalize_jcs_fast(value) == rfc8785.dumps(value)
    assert _canonicalize_jcs_fast({"v": float_value}) == b'{"v":%d}' % int(float_value)


def test_label_credential_takes_fast_path() -> None:
    label = json.loads((ROOT / "schemas/examples/label-credential.room-ac.json").read_text())
    fast = _canonicalize_jcs_fast(label)
    assert fast is not None
    assert fast == rfc8785.dumps(label)


# -- JcsMembers: an object canonicalized once, serialized with and without one member --

GAPS = st.sampled_from(["proof", "", "a", "\ue000", "\U0001f600", "zz"]) | texts


@settings(max_examples=800)
@given(st.dictionaries(texts, json_values, max_size=6), GAPS, json_values)
def test_members_equal_rfc8785_with_and_without_the_gap(
    value: dict[str, Any], gap: str, gap_value: Any
) -> None:
    value.pop(gap, None)
    alone, filled = reference(value), reference({**value, gap: gap_value})
    if alone is None:
        with pytest.raises(CanonicalizationError):
            JcsMembers(value, gap)
        return
    if reference(gap) is None:
        return  # a gap name with a lone surrogate cannot be written at all
    members = JcsMembers(value, gap)
    assert members.serialize() == alone
    if filled is None:
        with pytest.raises(CanonicalizationError):
            members.serialize(gap_value)
    else:
        assert members.serialize(gap_value) == filled


def test_members_of_a_label_credential() -> None:
    label = json.loads((ROOT / "schemas/examples/label-credential.room-ac.json").read_text())
    proof = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "proofValue": "z5"}
    members = JcsMembers(label, "proof")
    assert members.serialize() == rfc8785.dumps(label)
    assert members.serialize(proof) == rfc8785.dumps({**label, "proof": proof})


def test_members_refuse_an_object_that_has_the_gap_or_a_non_string_name() -> None:
    with pytest.raises(ValueError, match="already has a member 'proof'"):
        JcsMembers({"proof": 1}, "proof")
    with pytest.raises(CanonicalizationError, match="keys must be strings"):
        JcsMembers({1: "x"}, "proof")  # type: ignore[dict-item]
