"""C2SP tlog-checkpoint and tlog-cosignature v1: vectors, strict parsing, signing, witnesses."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from ledger.checkpoint import (
    MAX_TREE_SIZE,
    Checkpoint,
    CosignatureSigner,
    CosignatureVerifier,
    cosign,
    cosigned_message,
    open_checkpoint,
    sign_checkpoint,
    verify_cosignatures,
)
from ledger.errors import CheckpointError, NoteError
from ledger.note import NoteSignature, NoteSigner, parse_note, sign_note
from ledger.rfc9162 import Hash, hash_leaf

SUMDB = json.loads(
    (Path(__file__).parent / "vectors" / "tlog" / "go_sumdb_tree_note.json").read_text("utf-8")
)

# The example in c2sp.org/tlog-checkpoint and c2sp.org/tlog-cosignature.
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_NOTE = (
    SPEC_BODY
    + "\n"
    + "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
    "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJ"
    "sX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)

ORIGIN = "example.com/carbon-log"
LOG = NoteSigner.from_private_bytes(ORIGIN, bytes(range(32)))
W1 = CosignatureSigner.from_private_bytes("witness.example/w1", bytes(range(2, 34)))
W2 = CosignatureSigner.from_private_bytes("witness.example/w2", bytes(range(3, 35)))
W3 = CosignatureSigner.from_private_bytes("witness.example/w3", bytes(range(4, 36)))
CP = Checkpoint(ORIGIN, 13, hash_leaf(b"root"))
NOW = 1_700_000_000


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# --- vectors -------------------------------------------------------------------------


def test_go_sumdb_tree_note_reproduced_exactly() -> None:
    root = hash_leaf(b"hello world")
    assert root.hex() == SUMDB["hash_hex"]
    checkpoint = Checkpoint("go.sum database tree", SUMDB["tree_size"], root)
    assert checkpoint.body() == SUMDB["formatted"]
    assert Checkpoint.parse(SUMDB["formatted"]) == checkpoint


def test_spec_example_checkpoint_parses() -> None:
    checkpoint = Checkpoint.parse(parse_note(SPEC_NOTE).text)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.body() == SPEC_BODY


def test_cosigned_message_matches_spec_example() -> None:
    expected = (
        "cosignature/v1\n"
        "time 1679315147\n"
        "example.com/behind-the-sofa\n"
        "20852163\n"
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    assert cosigned_message(SPEC_BODY, 1679315147) == expected.encode()


def test_spec_example_cosignature_is_key_id_timestamp_signature() -> None:
    witness = parse_note(SPEC_NOTE).signatures[1]
    assert witness.name == "witness.example.com/w1"
    assert len(witness.signature) == 8 + 64
    assert int.from_bytes(witness.signature[:8], "big") == 1679315147


# --- body format ---------------------------------------------------------------------

LINE = st.text(
    alphabet=st.characters(min_codepoint=0x20, exclude_categories=["Cs"]),
    min_size=1,
    max_size=40,
)


@given(
    origin=LINE,
    size=st.integers(min_value=0, max_value=MAX_TREE_SIZE),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(LINE, max_size=3),
)
def test_body_round_trip(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    checkpoint = Checkpoint(origin, size, Hash(root), tuple(extensions))
    body = checkpoint.body()
    assert Checkpoint.parse(body) == checkpoint
    assert Checkpoint.parse(body).body() == body


def test_extension_lines_kept() -> None:
    checkpoint = Checkpoint.parse(SPEC_BODY + "ext one\next two\n")
    assert checkpoint.extensions == ("ext one", "ext two")


ROOT = b64(bytes(32))
MALFORMED_BODIES = [
    ("empty", "", "end with a newline"),
    ("no-final-newline", f"o\n1\n{ROOT}", "end with a newline"),
    ("two-lines", "o\n1\n", "needs at least 3"),
    ("empty-origin", f"\n1\n{ROOT}\n", "line 1 \\(origin\\) is empty"),
    ("cr-in-origin", f"o\r\n1\n{ROOT}\n", "line 1 \\(origin\\) contains control"),
    ("leading-zero-size", f"o\n01\n{ROOT}\n", "line 2 \\(tree size\\)"),
    ("plus-sign-size", f"o\n+1\n{ROOT}\n", "line 2 \\(tree size\\)"),
    ("negative-size", f"o\n-1\n{ROOT}\n", "line 2 \\(tree size\\)"),
    ("space-in-size", f"o\n 1\n{ROOT}\n", "line 2 \\(tree size\\)"),
    ("arabic-digits-size", f"o\n\u0661\n{ROOT}\n", "line 2 \\(tree size\\)"),
    ("hex-size", f"o\n0x10\n{ROOT}\n", "line 2 \\(tree size\\)"),
    ("empty-size", f"o\n\n{ROOT}\n", "line 2 \\(tree size\\)"),
    ("size-2^63", f"o\n{2**63}\n{ROOT}\n", "line 2 \\(tree size\\).*out of range"),
    ("root-not-base64", "o\n1\n!!!!\n", "line 3 \\(root hash\\): not standard base64"),
    ("root-urlsafe", "o\n1\n" + "_" * 43 + "=\n", "line 3 \\(root hash\\)"),
    ("root-unpadded", f"o\n1\n{ROOT.rstrip('=')}\n", "line 3 \\(root hash\\)"),
    ("root-non-canonical", "o\n1\n" + "A" * 42 + "B=\n", "line 3 \\(root hash\\): not canonical"),
    ("root-31-bytes", f"o\n1\n{b64(bytes(31))}\n", "line 3 \\(root hash\\) is 31 bytes"),
    ("root-33-bytes", f"o\n1\n{b64(bytes(33))}\n", "line 3 \\(root hash\\) is 33 bytes"),
    ("empty-extension", f"o\n1\n{ROOT}\n\n", "line 4 \\(extension\\) is empty"),
    ("empty-second-extension", f"o\n1\n{ROOT}\nx\n\n", "line 5 \\(extension\\) is empty"),
]


@pytest.mark.parametrize(
    ("body", "message"),
    [pytest.param(body, msg, id=case) for case, body, msg in MALFORMED_BODIES],
)
def test_malformed_body_rejected(body: str, message: str) -> None:
    with pytest.raises(CheckpointError, match=message):
        Checkpoint.parse(body)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"size": -1}, "out of range", id="negative-size"),
        pytest.param({"size": 2**63}, "out of range", id="huge-size"),
        pytest.param({"size": True}, "must be an int", id="bool-size"),
        pytest.param({"root": bytes(31)}, "32 bytes", id="short-root"),
        pytest.param({"origin": ""}, "origin", id="empty-origin"),
        pytest.param({"origin": "a\nb"}, "newline", id="newline-origin"),
        pytest.param({"extensions": ("",)}, "extension", id="empty-extension"),
    ],
)
def test_invalid_checkpoint_fields_refused(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"origin": ORIGIN, "size": 1, "root": bytes(32)} | kwargs
    with pytest.raises(CheckpointError, match=message):
        Checkpoint(**fields)  # type: ignore[arg-type]


# --- log signature -------------------------------------------------------------------


def test_sign_and_open_checkpoint() -> None:
    note = sign_checkpoint(CP, LOG)
    assert note.startswith(CP.body() + "\n\u2014 example.com/carbon-log ")
    assert open_checkpoint(note, LOG.verifier()) == CP


def test_empty_tree_checkpoint() -> None:
    empty = Checkpoint(ORIGIN, 0, Hash(bytes(32)))
    assert open_checkpoint(sign_checkpoint(empty, LOG), LOG.verifier()).size == 0


def test_sign_checkpoint_refuses_key_named_other_than_origin() -> None:
    other = NoteSigner.from_private_bytes("example.com/other", bytes(range(32)))
    with pytest.raises(CheckpointError, match="differs from origin"):
        sign_checkpoint(CP, other)


def test_open_checkpoint_refuses_origin_mismatch() -> None:
    other = NoteSigner.from_private_bytes("example.com/other", bytes(range(32)))
    note = sign_note(CP.body(), other)  # validly signed, but for another origin
    with pytest.raises(CheckpointError, match="is not the log key name"):
        open_checkpoint(note, other.verifier())


def test_open_checkpoint_wrong_key() -> None:
    impostor = NoteSigner.from_private_bytes(ORIGIN, bytes(32))
    with pytest.raises(NoteError, match="not signed by any known key"):
        open_checkpoint(sign_checkpoint(CP, impostor), LOG.verifier())


def test_open_checkpoint_tampered_size() -> None:
    note = sign_checkpoint(CP, LOG).replace("\n13\n", "\n14\n")
    with pytest.raises(NoteError, match="does not verify"):
        open_checkpoint(note, LOG.verifier())


def test_open_checkpoint_signed_non_checkpoint() -> None:
    with pytest.raises(CheckpointError, match="at least 3"):
        open_checkpoint(sign_note(f"{ORIGIN}\n13\n", LOG), LOG.verifier())


def test_open_checkpoint_ignores_cosignatures() -> None:
    note = cosign(sign_checkpoint(CP, LOG), W1, NOW)
    assert open_checkpoint(note, LOG.verifier()) == CP


# --- cosignatures --------------------------------------------------------------------


def test_cosignature_keys_round_trip() -> None:
    verifier = CosignatureVerifier.from_vkey(W1.vkey())
    assert verifier == W1.verifier()
    assert base64.b64decode(W1.vkey().split("+", 2)[2])[0] == 0x04
    assert CosignatureSigner.from_skey(W1.to_skey()) == W1
    fresh = CosignatureSigner.generate("witness.example/fresh")
    assert CosignatureVerifier.from_vkey(fresh.vkey()) == fresh.verifier()


def test_cosignature_key_id_uses_type_0x04() -> None:
    same_key_as_note = NoteSigner.from_private_bytes(W1.name, bytes(range(2, 34)))
    assert same_key_as_note.key_id != W1.key_id
    with pytest.raises(NoteError, match="0x01, expected 0x04"):
        CosignatureVerifier.from_vkey(same_key_as_note.vkey())


def test_cosignature_signs_the_spec_message_layout() -> None:
    note = cosign(sign_checkpoint(CP, LOG), W1, NOW)
    line = parse_note(note).signatures[-1]
    assert (line.name, line.key_id) == (W1.name, W1.key_id)
    assert line.signature[:8] == NOW.to_bytes(8, "big")
    message = b"cosignature/v1\ntime 1700000000\n" + CP.body().encode()
    Ed25519PublicKey.from_public_bytes(W1.public_key_bytes()).verify(line.signature[8:], message)


def test_cosign_keeps_log_signature_and_verifies() -> None:
    signed = sign_checkpoint(CP, LOG)
    note = cosign(cosign(signed, W1, NOW), W2, NOW + 5)
    assert note.startswith(signed)
    assert open_checkpoint(note, LOG.verifier()) == CP
    witnesses = [W1.verifier(), W2.verifier(), W3.verifier()]
    assert verify_cosignatures(note, witnesses, 2) == [(W1.name, NOW), (W2.name, NOW + 5)]


def test_quorum_not_met() -> None:
    note = cosign(sign_checkpoint(CP, LOG), W1, NOW)
    with pytest.raises(NoteError, match=r"1 valid cosignature.*quorum is 2"):
        verify_cosignatures(note, [W1.verifier(), W2.verifier()], 2)


def test_log_signature_is_not_a_cosignature() -> None:
    with pytest.raises(NoteError, match="0 valid"):
        verify_cosignatures(sign_checkpoint(CP, LOG), [W1.verifier()], 1)


def test_quorum_zero_accepts_no_cosignatures() -> None:
    assert verify_cosignatures(sign_checkpoint(CP, LOG), [W1.verifier()], 0) == []


def test_unknown_witness_ignored() -> None:
    note = cosign(cosign(sign_checkpoint(CP, LOG), W3, NOW), W1, NOW)
    assert verify_cosignatures(note, [W1.verifier()], 1) == [(W1.name, NOW)]


def test_tampered_timestamp_rejected() -> None:
    note = cosign(sign_checkpoint(CP, LOG), W1, NOW)
    sig = parse_note(note).signatures[-1]
    forged = NoteSignature(sig.name, sig.key_id, (NOW + 1).to_bytes(8, "big") + sig.signature[8:])
    tampered = note.replace(sig.line(), forged.line())
    with pytest.raises(NoteError, match=r"cosignature by witness.example/w1.*does not verify"):
        verify_cosignatures(tampered, [W1.verifier()], 1)


def test_cosignature_moved_to_another_checkpoint_rejected() -> None:
    line = parse_note(cosign(sign_checkpoint(CP, LOG), W1, NOW)).signatures[-1].line()
    other = sign_checkpoint(Checkpoint(ORIGIN, 14, hash_leaf(b"other")), LOG)
    with pytest.raises(NoteError, match="does not verify"):
        verify_cosignatures(other + line, [W1.verifier()], 1)


def test_cosignature_of_wrong_length_rejected() -> None:
    line = NoteSignature(W1.name, W1.key_id, bytes(64)).line()
    with pytest.raises(NoteError, match="64 bytes, expected 72"):
        verify_cosignatures(sign_checkpoint(CP, LOG) + line, [W1.verifier()], 1)


def test_cosignature_timestamp_above_2_63_rejected() -> None:
    line = NoteSignature(W1.name, W1.key_id, (2**63).to_bytes(8, "big") + bytes(64)).line()
    with pytest.raises(NoteError, match=r"outside 0\.\.2\^63-1"):
        verify_cosignatures(sign_checkpoint(CP, LOG) + line, [W1.verifier()], 1)


@pytest.mark.parametrize("now", [-1, 2**63], ids=["negative", "2^63"])
def test_cosign_refuses_out_of_range_time(now: int) -> None:
    with pytest.raises(NoteError, match="outside"):
        cosign(sign_checkpoint(CP, LOG), W1, now)


def test_cosign_refuses_a_second_cosignature_by_the_same_witness() -> None:
    with pytest.raises(NoteError, match="already signed"):
        cosign(cosign(sign_checkpoint(CP, LOG), W1, NOW), W1, NOW + 1)


def test_cosign_refuses_non_checkpoint() -> None:
    with pytest.raises(CheckpointError):
        cosign(sign_note("hello\n", LOG), W1, NOW)


def test_verify_cosignatures_refuses_non_checkpoint() -> None:
    with pytest.raises(CheckpointError):
        verify_cosignatures(sign_note("hello\n", LOG), [W1.verifier()], 0)


def test_verify_cosignatures_policy_errors() -> None:
    note = sign_checkpoint(CP, LOG)
    with pytest.raises(ValueError, match="negative"):
        verify_cosignatures(note, [W1.verifier()], -1)
    alias = CosignatureVerifier.from_public_bytes("witness.example/alias", W1.public_key_bytes())
    with pytest.raises(ValueError, match="share a public key"):
        verify_cosignatures(note, [W1.verifier(), alias], 1)


def test_repeated_cosigner_in_policy_counts_once() -> None:
    note = cosign(sign_checkpoint(CP, LOG), W1, NOW)
    assert len(verify_cosignatures(note, [W1.verifier(), W1.verifier()], 1)) == 1
    with pytest.raises(NoteError, match="quorum is 2"):
        verify_cosignatures(note, [W1.verifier(), W1.verifier()], 2)
