"""Multibase base58btc (``credentials.multikey``) against the ``base58`` package.

The encoder and decoder are the project's own; ``base58`` (a test dependency only)
is the oracle: same strings, same bytes, and KeyFormatError exactly where it fails.
Vectors: draft-msporny-base58 §5 and the vc-di-eddsa keys and proofValues.
"""

from __future__ import annotations

import json
from pathlib import Path

import base58
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.errors import KeyFormatError
from credentials.multikey import decode_multibase_base58btc, encode_multibase_base58btc

VECTORS = Path(__file__).parent / "vectors" / "vc-di-eddsa"
KEY_PAIR = json.loads((VECTORS / "keyPair.json").read_text("utf-8"))
JCS = json.loads((VECTORS / "eddsa-jcs-2022.json").read_text("utf-8"))
RDFC = json.loads((VECTORS / "eddsa-rdfc-2022.json").read_text("utf-8"))
BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
NOT_MULTIBASE = "expected a multibase base58btc string starting with 'z'"
DIGITS_PER_DECODE_BLOCK = 128
"""Strings longer than this take the multi-block path of the decoder."""


def _oracle_encode(data: bytes) -> str:
    return "z" + base58.b58encode(data).decode("ascii")


def _oracle_decode(value: str) -> bytes:
    """What ``decode_multibase_base58btc`` returned when it called ``base58``."""
    out: bytes = base58.b58decode(value[1:].encode("ascii"))
    return out


with_leading_zeros = st.builds(
    lambda zeros, rest: bytes(zeros) + rest,
    st.integers(min_value=0, max_value=5),
    st.binary(max_size=200),
)


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        pytest.param(b"Hello World!", "z2NEpo7TZRRrLZSi2U", id="draft-hello-world"),
        pytest.param(
            b"The quick brown fox jumps over the lazy dog.",
            "zUSm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z",
            id="draft-quick-brown-fox",
        ),
        pytest.param(bytes.fromhex("0000287fb4cd"), "z11233QC4", id="draft-leading-zeros"),
        pytest.param(b"\0", "z1", id="one-zero-byte"),
        pytest.param(bytes(3), "z111", id="only-zero-bytes"),
        pytest.param(b"\x39", "zz", id="digit-57"),
        pytest.param(b"\x3a", "z21", id="58"),
        pytest.param(
            b"\xed\x01" + bytes.fromhex(KEY_PAIR["publicKeyRawHex"]),
            KEY_PAIR["publicKeyMultibase"],
            id="eddsa-public-key",
        ),
        pytest.param(
            bytes.fromhex(JCS["signatureHex"]), JCS["proofValue"], id="eddsa-jcs-2022-proofValue"
        ),
        pytest.param(
            bytes.fromhex(RDFC["signatureHex"]),
            RDFC["proofValue"],
            id="eddsa-rdfc-2022-proofValue",
        ),
    ],
)
def test_vectors(raw: bytes, encoded: str) -> None:
    assert encode_multibase_base58btc(raw) == encoded
    assert decode_multibase_base58btc(encoded) == raw


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param(KEY_PAIR["secretKeyMultibase"], id="eddsa-secret-key"),
        pytest.param("z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", id="did-key-example"),
    ],
)
def test_multikeys_round_trip(encoded: str) -> None:
    raw = decode_multibase_base58btc(encoded)
    assert len(raw) == 34
    assert raw == _oracle_decode(encoded)
    assert encode_multibase_base58btc(raw) == encoded


@settings(max_examples=1000)
@given(with_leading_zeros)
def test_encode_matches_base58(data: bytes) -> None:
    assert encode_multibase_base58btc(data) == _oracle_encode(data)


@settings(max_examples=1000)
@given(with_leading_zeros.filter(bool))
def test_decode_inverts_encode(data: bytes) -> None:
    assert decode_multibase_base58btc(encode_multibase_base58btc(data)) == data


@settings(max_examples=1000)
@given(st.text(alphabet=BASE58_ALPHABET, min_size=1, max_size=300))
def test_decode_matches_base58(digits: str) -> None:
    assert decode_multibase_base58btc("z" + digits) == _oracle_decode("z" + digits)


@given(st.text(alphabet=st.sampled_from(BASE58_ALPHABET + " \t\n\r\x0b\x0c\x1c\x85\u3000")))
def test_decode_fails_exactly_where_base58_fails_or_on_whitespace(text: str) -> None:
    """As ``base58.b58decode``, except that whitespace, which it ignores at the end, fails."""
    value = "z" + text
    try:
        expected = _oracle_decode(value) if text and text == text.rstrip() else None
    except (ValueError, UnicodeEncodeError):
        expected = None
    if expected is None:
        with pytest.raises(KeyFormatError):
            decode_multibase_base58btc(value)
    else:
        assert decode_multibase_base58btc(value) == expected


@pytest.mark.parametrize("size", [93, 94, 95, 1000, 4000])
def test_long_input_spans_decode_blocks(size: int) -> None:
    data = b"\0\0" + bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    encoded = encode_multibase_base58btc(data)
    assert encoded == _oracle_encode(data)
    assert decode_multibase_base58btc(encoded) == data


def test_block_boundary_lengths() -> None:
    for length in range(DIGITS_PER_DECODE_BLOCK - 2, 2 * DIGITS_PER_DECODE_BLOCK + 3):
        value = "z" + "2" + "z" * (length - 1)
        assert decode_multibase_base58btc(value) == _oracle_decode(value), length


def test_empty_bytes_encode_to_bare_prefix_which_does_not_decode() -> None:
    assert encode_multibase_base58btc(b"") == "z"
    with pytest.raises(KeyFormatError) as raised:
        decode_multibase_base58btc("z")
    assert str(raised.value) == NOT_MULTIBASE


def test_trailing_whitespace_is_refused_so_a_proof_value_has_one_spelling() -> None:
    proof_value = JCS["proofValue"]
    assert decode_multibase_base58btc(proof_value) == bytes.fromhex(JCS["signatureHex"])
    for value in (proof_value + " \n", proof_value + "\t", "z "):
        with pytest.raises(KeyFormatError):
            decode_multibase_base58btc(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("z0", id="zero"),
        pytest.param("zO", id="capital-o"),
        pytest.param("zI", id="capital-i"),
        pytest.param("zl", id="small-l"),
        pytest.param("z+/", id="base64-characters"),
        pytest.param("z2NEpo 7TZ", id="inner-space"),
        pytest.param("z 2NEpo7TZ", id="space-after-prefix"),
        pytest.param("z\x002NEpo", id="nul"),
        pytest.param("z2NEpo7TZé", id="non-ascii"),
        pytest.param("z2NEpo7TZ\u3000", id="non-ascii-trailing-space"),
        pytest.param("z11\x1c", id="file-separator"),
    ],
)
def test_bad_characters_rejected(value: str) -> None:
    with pytest.raises(KeyFormatError) as raised:
        decode_multibase_base58btc(value)
    assert str(raised.value) == "invalid base58btc characters"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("z", id="prefix-only"),
        pytest.param("u2NEpo7TZRRrLZSi2U", id="other-multibase"),
        pytest.param(b"z2NEpo7TZRRrLZSi2U", id="bytes"),
        pytest.param(None, id="none"),
    ],
)
def test_not_multibase_base58btc_rejected(value: object) -> None:
    with pytest.raises(KeyFormatError) as raised:
        decode_multibase_base58btc(value)  # type: ignore[arg-type]
    assert str(raised.value) == NOT_MULTIBASE
