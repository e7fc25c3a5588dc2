"""Bitstring Status List v1.0: bit order, encoding, and the §3.2 validate algorithm."""

from __future__ import annotations

import base64
import gzip
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.errors import StatusListError
from credentials.statuslist import (
    MIN_BITSTRING_LENGTH,
    Bitstring,
    read_status,
    status_list_credential,
    status_list_entry,
)

LIST_URL = "https://labels.example.cn/status/1"
ISSUER = "did:web:labels.example.cn"
VALID_FROM = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)

# Bitstring Status List v1.0 (REC 2025-05-15), §2.2 example "BitstringStatusListCredential":
# the encodedList of an all-zero 16 KiB (131,072-entry) revocation list.
SPEC_EXAMPLE_ENCODED_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def _encode_raw(raw: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(gzip.compress(raw, mtime=0)).rstrip(b"=").decode()


def _list_credential(bitstring: Bitstring, purpose: str = "revocation") -> dict[str, Any]:
    return status_list_credential(LIST_URL, ISSUER, purpose, bitstring, VALID_FROM)


# --- bit order and Bitstring -------------------------------------------------------------


def test_index_zero_is_most_significant_bit_of_first_byte() -> None:
    bits = Bitstring(16)
    bits.set(0)
    assert bits.to_bytes() == b"\x80\x00"
    bits.set(15)
    assert bits.to_bytes() == b"\x80\x01"
    bits.set(9)
    assert bits.to_bytes() == b"\x80\x41"
    assert bits.get(0) and bits.get(9) and bits.get(15)
    assert not bits.get(1)


def test_clear_bit() -> None:
    bits = Bitstring(8)
    bits.set(3)
    bits.set(3, False)
    assert bits.to_bytes() == b"\x00"


def test_default_length_is_the_spec_minimum() -> None:
    assert len(Bitstring()) == MIN_BITSTRING_LENGTH == 131_072


@pytest.mark.parametrize("length", [0, -8, 7, 131_071])
def test_length_must_be_positive_multiple_of_eight(length: int) -> None:
    with pytest.raises(ValueError):
        Bitstring(length)


@pytest.mark.parametrize("index", [-1, 16, 1 << 40])
def test_get_set_outside_the_list_is_range_error(index: int) -> None:
    bits = Bitstring(16)
    with pytest.raises(StatusListError) as info:
        bits.get(index)
    assert info.value.code == "RANGE_ERROR"
    with pytest.raises(StatusListError):
        bits.set(index)


# --- encoding ----------------------------------------------------------------------------


def test_all_zero_list_reproduces_the_spec_example() -> None:
    encoded = Bitstring().encode()
    assert encoded == SPEC_EXAMPLE_ENCODED_LIST
    # 'u' + 68 base64url characters = 51 bytes of GZIP for 16 KiB of zeros
    assert len(encoded) == 69
    assert len(base64.urlsafe_b64decode(encoded[1:] + "=")) == 51


def test_spec_example_decodes_to_all_zero_minimum_list() -> None:
    bits = Bitstring.decode(SPEC_EXAMPLE_ENCODED_LIST)
    assert len(bits) == 131_072
    assert bits == Bitstring()


def test_encode_decode_round_trip() -> None:
    bits = Bitstring()
    for index in (0, 7, 8, 94567, 131_071):
        bits.set(index)
    encoded = bits.encode()
    assert encoded.startswith("u") and "=" not in encoded
    decoded = Bitstring.decode(encoded)
    assert decoded == bits
    assert [i for i in (0, 1, 7, 8, 9, 94567, 131_070, 131_071) if decoded.get(i)] == [
        0,
        7,
        8,
        94567,
        131_071,
    ]


def test_decode_accepts_other_gzip_encoders_and_longer_lists() -> None:
    raw = bytes(2 * 16384)
    bits = Bitstring.decode(_encode_raw(raw))
    assert len(bits) == 2 * MIN_BITSTRING_LENGTH


def test_decode_too_short_is_status_list_length_error() -> None:
    short = _encode_raw(bytes(16383))  # 131,064 bits
    with pytest.raises(StatusListError) as info:
        Bitstring.decode(short)
    assert info.value.code == "STATUS_LIST_LENGTH_ERROR"
    assert len(Bitstring.decode(short, minimum_length=8 * 16383)) == 131_064


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("no-multibase-prefix", SPEC_EXAMPLE_ENCODED_LIST[1:]),
        ("base58-prefix", "z" + SPEC_EXAMPLE_ENCODED_LIST[1:]),
        ("padding", SPEC_EXAMPLE_ENCODED_LIST + "=="),
        ("standard-base64-alphabet", SPEC_EXAMPLE_ENCODED_LIST.replace("-", "+")),
        ("bad-length", SPEC_EXAMPLE_ENCODED_LIST + "A"),
        ("not-gzip", "u" + base64.urlsafe_b64encode(bytes(16384)).rstrip(b"=").decode()),
        ("truncated-gzip", SPEC_EXAMPLE_ENCODED_LIST[:40]),
        ("trailing-garbage", _encode_raw(bytes(16384))[:-1] + "AAAA"),
        ("two-members", "u" + base64.urlsafe_b64encode(gzip.compress(bytes(16384)) * 2).decode()),
        ("empty", "u"),
    ],
)
def test_decode_malformed_value(name: str, encoded: str) -> None:
    with pytest.raises(StatusListError) as info:
        Bitstring.decode(encoded)
    assert info.value.code in {"MALFORMED_VALUE_ERROR", "STATUS_LIST_LENGTH_ERROR"}, name
    if name != "empty":
        assert info.value.code == "MALFORMED_VALUE_ERROR", name


def test_decode_refuses_gzip_bomb() -> None:
    bomb = _encode_raw(bytes(17 * 1024 * 1024))
    with pytest.raises(StatusListError) as info:
        Bitstring.decode(bomb)
    assert info.value.code == "MALFORMED_VALUE_ERROR"


@settings(max_examples=50, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=MIN_BITSTRING_LENGTH - 1), max_size=200))
def test_round_trip_random_set_bits(indexes: set[int]) -> None:
    bits = Bitstring()
    for index in indexes:
        bits.set(index)
    decoded = Bitstring.decode(bits.encode())
    assert decoded == bits
    raw = decoded.to_bytes()
    assert {i for i in range(len(decoded)) if raw[i >> 3] & (0x80 >> (i & 7))} == indexes


# --- entries and list credentials ----------------------------------------------------------


def test_status_list_entry_shape() -> None:
    assert status_list_entry(LIST_URL, 0, "suspension") == {
        "id": f"{LIST_URL}#0",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "suspension",
        "statusListIndex": "0",
        "statusListCredential": LIST_URL,
    }


@pytest.mark.parametrize(("index", "purpose"), [(-1, "revocation"), (1, "message"), (1, "refresh")])
def test_status_list_entry_refuses(index: int, purpose: str) -> None:
    with pytest.raises(StatusListError):
        status_list_entry(LIST_URL, index, purpose)


def test_status_list_credential_shape() -> None:
    credential = status_list_credential(
        LIST_URL,
        ISSUER,
        "revocation",
        Bitstring(),
        VALID_FROM,
        valid_until=datetime(2026, 6, 1, tzinfo=UTC),
        ttl_ms=300_000,
    )
    assert credential == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": ISSUER,
        "validFrom": "2025-06-01T08:00:00Z",
        "validUntil": "2026-06-01T00:00:00Z",
        "credentialSubject": {
            "id": f"{LIST_URL}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": SPEC_EXAMPLE_ENCODED_LIST,
            "ttl": 300_000,
        },
    }


def test_status_list_credential_refuses_short_list() -> None:
    with pytest.raises(StatusListError) as info:
        _list_credential(Bitstring(8))
    assert info.value.code == "STATUS_LIST_LENGTH_ERROR"


def test_status_list_credential_needs_aware_datetime() -> None:
    with pytest.raises(ValueError):
        status_list_credential(LIST_URL, ISSUER, "revocation", Bitstring(), datetime(2025, 1, 1))


# --- read_status (§3.2 validate algorithm) ----------------------------------------------------


@pytest.mark.parametrize("index", [0, 1, 94567, 131_071])
def test_read_status_set_and_clear(index: int) -> None:
    bits = Bitstring()
    entry = status_list_entry(LIST_URL, index, "revocation")
    assert read_status(entry, _list_credential(bits)) is False
    bits.set(index)
    assert read_status(entry, _list_credential(bits)) is True
    neighbour = status_list_entry(LIST_URL, index ^ 1, "revocation")
    assert read_status(neighbour, _list_credential(bits)) is False


def test_read_status_index_beyond_list_is_range_error() -> None:
    entry = status_list_entry(LIST_URL, MIN_BITSTRING_LENGTH, "revocation")
    with pytest.raises(StatusListError) as info:
        read_status(entry, _list_credential(Bitstring()))
    assert info.value.code == "RANGE_ERROR"


def test_read_status_purpose_mismatch_is_verification_error() -> None:
    entry = status_list_entry(LIST_URL, 5, "suspension")
    with pytest.raises(StatusListError) as info:
        read_status(entry, _list_credential(Bitstring(), "revocation"))
    assert info.value.code == "STATUS_VERIFICATION_ERROR"


def test_read_status_list_may_carry_several_purposes() -> None:
    credential = _list_credential(Bitstring(), "revocation")
    credential["credentialSubject"]["statusPurpose"] = ["revocation", "suspension"]
    assert read_status(status_list_entry(LIST_URL, 5, "suspension"), credential) is False


def test_read_status_short_list_is_length_error() -> None:
    credential = _list_credential(Bitstring())
    credential["credentialSubject"]["encodedList"] = _encode_raw(bytes(1024))
    with pytest.raises(StatusListError) as info:
        read_status(status_list_entry(LIST_URL, 5, "revocation"), credential)
    assert info.value.code == "STATUS_LIST_LENGTH_ERROR"


def test_read_status_refuses_a_different_list() -> None:
    credential = _list_credential(Bitstring())
    credential["id"] = "https://labels.example.cn/status/2"
    with pytest.raises(StatusListError) as info:
        read_status(status_list_entry(LIST_URL, 5, "revocation"), credential)
    assert info.value.code == "STATUS_VERIFICATION_ERROR"


def test_read_status_refuses_wrong_credential_type() -> None:
    credential = _list_credential(Bitstring())
    credential["type"] = ["VerifiableCredential"]
    with pytest.raises(StatusListError) as info:
        read_status(status_list_entry(LIST_URL, 5, "revocation"), credential)
    assert info.value.code == "STATUS_VERIFICATION_ERROR"


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("wrong-type", {"type": "StatusList2021Entry"}),
        ("index-not-string", {"statusListIndex": 5}),
        ("index-negative", {"statusListIndex": "-5"}),
        ("index-hex", {"statusListIndex": "0x5"}),
        ("purpose-message", {"statusPurpose": "message"}),
        ("status-size-2", {"statusSize": 2}),
        ("status-message", {"statusMessage": [{"status": "0x0", "message": "valid"}]}),
        ("no-list-url", {"statusListCredential": None}),
    ],
)
def test_read_status_malformed_entry(name: str, change: dict[str, Any]) -> None:
    entry = status_list_entry(LIST_URL, 5, "revocation") | change
    with pytest.raises(StatusListError) as info:
        read_status(entry, _list_credential(Bitstring()))
    assert info.value.code == "MALFORMED_VALUE_ERROR", name


def test_read_status_status_size_one_is_accepted() -> None:
    entry = status_list_entry(LIST_URL, 5, "revocation") | {"statusSize": 1}
    assert read_status(entry, _list_credential(Bitstring())) is False
