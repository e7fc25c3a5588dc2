"""C2SP signed-note: the Go sumdb/note and spec vectors, strict parsing, tampering, cosigning."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import NoteError
from ledger.note import (
    MAX_SIGNATURES,
    Note,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    add_signatures,
    key_id_for,
    open_note,
    parse_note,
    sign_note,
)

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "vectors" / "tlog" / "signed_note.json").read_text("utf-8")
)["vectors"]
VECTOR_IDS = [v["vkey"].split("+")[0] for v in VECTORS]

TEXT = "carbon label ledger\n42\n"
LOG = NoteSigner.from_private_bytes("example.com/log", bytes(range(32)))
OTHER = NoteSigner.from_private_bytes("example.com/other", bytes(range(1, 33)))


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# --- vectors -------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=VECTOR_IDS)
def test_vector_opens(vector: dict[str, Any]) -> None:
    verifier = NoteVerifier.from_vkey(vector["vkey"])
    note = open_note(vector["signed_note"], [verifier])
    assert note.text == vector["text"]
    assert [(s.name, s.key_id) for s in note.signatures] == [(verifier.name, verifier.key_id)]
    assert verifier.vkey() == vector["vkey"]


@pytest.mark.parametrize("vector", VECTORS, ids=VECTOR_IDS)
def test_vector_key_id_derivation(vector: dict[str, Any]) -> None:
    verifier = NoteVerifier.from_vkey(vector["vkey"])
    expected_hex = vector["key_id_derivation"].rsplit("= ", 1)[1]
    data = verifier.name.encode() + b"\n\x01" + verifier.public_key
    assert hashlib.sha256(data).digest()[:4].hex() == expected_hex
    assert key_id_for(verifier.name, 0x01, verifier.public_key).hex() == expected_hex
    assert verifier.key_id.hex() == expected_hex


RESIGN = [v for v in VECTORS if v.get("python_resign_matches")]


@pytest.mark.parametrize("vector", RESIGN, ids=[v["vkey"].split("+")[0] for v in RESIGN])
def test_vector_resign_matches_byte_for_byte(vector: dict[str, Any]) -> None:
    signer = NoteSigner.from_skey(vector["skey"])
    assert signer.to_skey() == vector["skey"]
    assert signer.vkey() == vector["vkey"]
    assert signer.verifier() == NoteVerifier.from_vkey(vector["vkey"])
    assert sign_note(vector["text"], signer) == vector["signed_note"]


def test_spec_vector_is_present() -> None:
    assert "example.com/foo" in VECTOR_IDS


# --- round trips ---------------------------------------------------------------------


def test_sign_and_open_round_trip() -> None:
    note = sign_note(TEXT, LOG)
    assert note.startswith(TEXT + "\n\u2014 example.com/log ")
    opened = open_note(note, [LOG.verifier()])
    assert opened == Note(TEXT, parse_note(note).signatures)
    assert len(opened.signatures[0].signature) == 64


def test_generated_key_round_trips_through_skey_and_vkey() -> None:
    signer = NoteSigner.generate("example.com/fresh")
    again = NoteSigner.from_skey(signer.to_skey())
    assert again == signer
    assert NoteVerifier.from_vkey(signer.vkey()) == signer.verifier()
    open_note(sign_note(TEXT, again), [signer.verifier()])


def test_signer_repr_hides_the_private_key() -> None:
    seed_b64 = b64(bytes(range(32)))
    assert seed_b64 not in repr(LOG)
    assert "private_key" not in repr(LOG)


def test_text_with_blank_lines_is_split_at_the_last_blank_line() -> None:
    text = "first\n\nsecond\n\n"
    opened = open_note(sign_note(text, LOG), [LOG.verifier()])
    assert opened.text == text


def test_parse_note_accepts_utf8_bytes() -> None:
    text = "标签 carbon label\n"
    note = sign_note(text, LOG)
    assert open_note(note.encode("utf-8"), [LOG.verifier()]).text == text


def test_signature_line_format() -> None:
    sig = NoteSignature("a.example", b"\x01\x02\x03\x04", b"\xff" * 64)
    assert sig.line() == "\u2014 a.example " + b64(b"\x01\x02\x03\x04" + b"\xff" * 64) + "\n"


def test_max_signatures_accepted_and_one_more_refused() -> None:
    line = NoteSignature("x.example", b"\0\0\0\0", b"\0" * 64).line()
    parse_note(TEXT + "\n" + line * MAX_SIGNATURES)
    with pytest.raises(NoteError, match="at most 100"):
        parse_note(TEXT + "\n" + line * (MAX_SIGNATURES + 1))


# --- malformed notes -----------------------------------------------------------------

GOOD = sign_note(TEXT, LOG)
GOOD_LINE = GOOD[len(TEXT) + 1 :]
GOOD_B64 = GOOD_LINE.rstrip("\n").split(" ")[2]

MALFORMED_NOTES = [
    ("no-final-newline", GOOD.rstrip("\n"), "must end with a newline"),
    ("no-blank-line", TEXT + GOOD_LINE, "no blank line"),
    ("no-signature-lines", TEXT + "\n", "no signature lines"),
    ("carriage-return", GOOD.replace("42\n", "42\r\n"), "U\\+000D"),
    ("tab-in-text", GOOD.replace("carbon label", "carbon\tlabel"), "U\\+0009"),
    ("nul-in-signature", GOOD.replace("example.com/log", "example.com/\0log"), "U\\+0000"),
    ("hyphen-not-em-dash", TEXT + "\n- example.com/log " + GOOD_B64 + "\n", "em dash"),
    ("en-dash", TEXT + "\n\u2013 example.com/log " + GOOD_B64 + "\n", "em dash"),
    ("no-space-after-dash", TEXT + "\n\u2014example.com/log " + GOOD_B64 + "\n", "em dash"),
    ("empty-key-name", TEXT + "\n\u2014  " + GOOD_B64 + "\n", "key name is empty"),
    ("plus-in-key-name", TEXT + "\n\u2014 a+b " + GOOD_B64 + "\n", "contains '\\+'"),
    ("no-signature-after-name", TEXT + "\n\u2014 example.com/log\n", "no space"),
    ("two-spaces-in-line", TEXT + "\n\u2014 a b " + GOOD_B64 + "\n", "not standard base64"),
    ("bad-base64", TEXT + "\n\u2014 a.example !!!!\n", "not standard base64"),
    ("unpadded-base64", TEXT + "\n\u2014 a.example " + GOOD_B64.rstrip("=") + "\n", "base64"),
    ("non-canonical-base64", TEXT + "\n\u2014 a.example AAAAAAB=\n", "not canonical"),
    ("key-id-only", TEXT + "\n\u2014 a.example " + b64(b"abcd") + "\n", "must exceed"),
    ("blank-line-at-end", GOOD + "\n", "no signature lines"),
    ("trailing-garbage", GOOD + "x", "must end with a newline"),
]


@pytest.mark.parametrize(
    ("note", "message"),
    [pytest.param(note, msg, id=case) for case, note, msg in MALFORMED_NOTES],
)
def test_malformed_note_rejected(note: str, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        parse_note(note)
    with pytest.raises(NoteError):
        open_note(note, [LOG.verifier()])


def test_invalid_utf8_rejected() -> None:
    with pytest.raises(NoteError, match="not valid UTF-8"):
        parse_note(GOOD.encode("utf-8").replace(b"42", b"4\xff"))


def test_lone_surrogate_rejected() -> None:
    with pytest.raises(NoteError, match="UTF-8"):
        parse_note(GOOD.replace("42", "4\udc80"))


# --- malformed keys ------------------------------------------------------------------

PUB = LOG.verifier().public_key
GOOD_VKEY = LOG.vkey()
GOOD_ID = LOG.key_id.hex()
K1 = b64(b"\x01" + PUB)
K4 = b64(b"\x04" + PUB)
K1_SHORT = b64(b"\x01" + PUB[:31])
K1_LONG = b64(b"\x01" + PUB + b"\0")

MALFORMED_VKEYS = [
    ("one-part", "example.com/log", "must be <name>"),
    ("two-parts", f"example.com/log+{GOOD_ID}", "must be <name>"),
    ("empty-name", f"+{GOOD_ID}+{K1}", "key name is empty"),
    ("space-in-name", f"example.com log+{GOOD_ID}+{K1}", "space"),
    ("uppercase-hex-id", f"example.com/log+{GOOD_ID.upper()}+{K1}", "hex"),
    ("short-hex-id", f"example.com/log+{GOOD_ID[:6]}+{K1}", "hex"),
    ("non-hex-id", f"example.com/log+zzzzzzzz+{K1}", "hex"),
    ("wrong-type-byte", f"example.com/log+{GOOD_ID}+{K4}", "0x04, expected 0x01"),
    ("short-key", f"example.com/log+{GOOD_ID}+{K1_SHORT}", "31 bytes"),
    ("long-key", f"example.com/log+{GOOD_ID}+{K1_LONG}", "33 bytes"),
    ("empty-key", f"example.com/log+{GOOD_ID}+", "signature type is nothing"),
    ("bad-base64", f"example.com/log+{GOOD_ID}+@@@@", "not standard base64"),
    ("key-id-mismatch", f"example.com/log+00000000+{K1}", "does not match"),
    ("renamed", f"example.com/log2+{GOOD_ID}+{K1}", "does not match"),
]


@pytest.mark.parametrize(
    ("vkey", "message"),
    [pytest.param(vkey, msg, id=case) for case, vkey, msg in MALFORMED_VKEYS],
)
def test_malformed_vkey_rejected(vkey: str, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        NoteVerifier.from_vkey(vkey)


SEED = bytes(range(32))
S1 = b64(b"\x01" + SEED)
S4 = b64(b"\x04" + SEED)
S1_SHORT = b64(b"\x01" + SEED[:16])
MALFORMED_SKEYS = [
    ("no-prefix", f"example.com/log+{GOOD_ID}+{S1}", "PRIVATE\\+KEY"),
    ("missing-parts", f"PRIVATE+KEY+example.com/log+{GOOD_ID}", "PRIVATE\\+KEY\\+<name>"),
    ("wrong-type", f"PRIVATE+KEY+example.com/log+{GOOD_ID}+{S4}", "0x04"),
    ("short-seed", f"PRIVATE+KEY+example.com/log+{GOOD_ID}+{S1_SHORT}", "16"),
    ("id-mismatch", f"PRIVATE+KEY+example.com/log+00000000+{S1}", "match"),
    ("plus-name", f"PRIVATE+KEY+a+b+{GOOD_ID}+{S1}", "hex"),
]


@pytest.mark.parametrize(
    ("skey", "message"),
    [pytest.param(skey, msg, id=case) for case, skey, msg in MALFORMED_SKEYS],
)
def test_malformed_skey_rejected_without_echoing_the_seed(skey: str, message: str) -> None:
    with pytest.raises(NoteError, match=message) as info:
        NoteSigner.from_skey(skey)
    assert b64(b"\x01" + SEED) not in str(info.value)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u00a0b", "a\nb"], ids=repr)
def test_bad_key_names_refused_by_constructors(name: str) -> None:
    with pytest.raises(NoteError, match="key name"):
        NoteSigner.from_private_bytes(name, SEED)
    with pytest.raises(NoteError, match="key name"):
        NoteVerifier.from_public_bytes(name, PUB)


def test_inconsistent_key_id_refused() -> None:
    with pytest.raises(NoteError, match="does not match"):
        NoteVerifier("example.com/log", b"\0\0\0\0", PUB)
    with pytest.raises(NoteError, match="does not match"):
        NoteSigner("example.com/log", b"\0\0\0\0", LOG.private_key)


def test_sign_note_preconditions() -> None:
    with pytest.raises(NoteError, match="end with a newline"):
        sign_note("no newline", LOG)
    with pytest.raises(NoteError, match="at least one signer"):
        sign_note(TEXT)
    with pytest.raises(NoteError, match="U\\+000D"):
        sign_note("a\r\n", LOG)


# --- verification --------------------------------------------------------------------


def test_tampered_text_rejected() -> None:
    with pytest.raises(NoteError, match="does not verify"):
        open_note(GOOD.replace("42", "43"), [LOG.verifier()])


def test_tampered_signature_rejected() -> None:
    raw = bytearray(base64.b64decode(GOOD_B64))
    raw[10] ^= 1
    with pytest.raises(NoteError, match="does not verify"):
        open_note(TEXT + "\n\u2014 example.com/log " + b64(bytes(raw)) + "\n", [LOG.verifier()])


def test_wrong_length_signature_by_known_key_rejected() -> None:
    line = NoteSignature(LOG.name, LOG.key_id, b"\0" * 63).line()
    with pytest.raises(NoteError, match="63 bytes"):
        open_note(TEXT + "\n" + line, [LOG.verifier()])


def test_note_signed_only_by_unknown_key_rejected() -> None:
    with pytest.raises(NoteError, match="not signed by any known key"):
        open_note(sign_note(TEXT, OTHER), [LOG.verifier()])


def test_no_verifiers_rejects() -> None:
    with pytest.raises(NoteError, match="known: none"):
        open_note(GOOD, [])


def test_unknown_signatures_ignored() -> None:
    note = sign_note(TEXT, OTHER, LOG)
    opened = open_note(note, [LOG.verifier()])
    assert [s.name for s in opened.signatures] == ["example.com/log"]


def test_same_name_other_key_id_is_ignored_not_failed() -> None:
    impostor = NoteSigner.from_private_bytes("example.com/log", bytes(32))
    assert impostor.key_id != LOG.key_id
    note = sign_note(TEXT, impostor, LOG)
    assert len(open_note(note, [LOG.verifier()]).signatures) == 1


def test_bad_signature_by_known_key_rejects_whole_note() -> None:
    forged = NoteSignature(OTHER.name, OTHER.key_id, b"\0" * 64).line()
    with pytest.raises(NoteError, match=r"example.com/other.*does not verify"):
        open_note(GOOD + forged, [LOG.verifier(), OTHER.verifier()])


def test_two_signatures_by_one_key_rejected() -> None:
    with pytest.raises(NoteError, match="two signatures"):
        open_note(GOOD + GOOD_LINE, [LOG.verifier()])


def test_all_known_signatures_returned() -> None:
    note = sign_note(TEXT, LOG, OTHER)
    opened = open_note(note, [OTHER.verifier(), LOG.verifier()])
    assert [s.name for s in opened.signatures] == ["example.com/log", "example.com/other"]


# --- cosigning -----------------------------------------------------------------------


def test_add_signatures_keeps_the_log_signature() -> None:
    cosigned = add_signatures(GOOD, OTHER)
    assert cosigned.startswith(GOOD)
    assert open_note(cosigned, [LOG.verifier()]).text == TEXT
    assert open_note(cosigned, [OTHER.verifier()]).text == TEXT
    assert len(open_note(cosigned, [LOG.verifier(), OTHER.verifier()]).signatures) == 2


def test_add_signatures_refuses_a_second_signature_by_the_same_key() -> None:
    with pytest.raises(NoteError, match="already signed"):
        add_signatures(GOOD, LOG)


def test_add_signatures_refuses_a_malformed_note() -> None:
    with pytest.raises(NoteError, match="no blank line"):
        add_signatures(TEXT, OTHER)


def test_add_signatures_needs_a_signer() -> None:
    with pytest.raises(NoteError, match="no signer"):
        add_signatures(GOOD)
