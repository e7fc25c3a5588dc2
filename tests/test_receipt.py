"""Receipts (C2SP tlog-proof@v1): every index of a 13-entry tree, tampering, both encodings."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import pytest

from ledger.checkpoint import (
    Checkpoint,
    CosignatureSigner,
    cosign,
    sign_checkpoint,
)
from ledger.errors import InclusionProofError, NoteError, ReceiptError
from ledger.note import NoteSigner, sign_note
from ledger.proof import NodeID, inclusion_proof
from ledger.receipt import FORMAT, Receipt, verify_receipt
from ledger.rfc9162 import Hash, hash_children, hash_leaf, root_of, split_point

ORIGIN = "example.com/carbon-log"
LOG = NoteSigner.from_private_bytes(ORIGIN, bytes(range(32)))
WITNESS = CosignatureSigner.from_private_bytes("witness.example/w1", bytes(range(5, 37)))
ENTRIES = [f"entry {i}".encode() for i in range(13)]
LEAVES = [hash_leaf(e) for e in ENTRIES]


def _mth(leaves: list[Hash]) -> Hash:
    """RFC 9162 §2.1.1, recursively (the obviously-correct reference)."""
    if len(leaves) == 1:
        return leaves[0]
    k = split_point(len(leaves))
    return hash_children(_mth(leaves[:k]), _mth(leaves[k:]))


def _path(index: int, leaves: list[Hash]) -> list[Hash]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]), recursively: leaf's sibling first."""
    if len(leaves) == 1:
        return []
    k = split_point(len(leaves))
    if index < k:
        return [*_path(index, leaves[:k]), _mth(leaves[k:])]
    return [*_path(index - k, leaves[k:]), _mth(leaves[:k])]


CHECKPOINT = Checkpoint(ORIGIN, len(LEAVES), root_of(LEAVES))
SIGNED = sign_checkpoint(CHECKPOINT, LOG)


def _read(ids: Sequence[NodeID]) -> list[Hash]:
    """A ledger.proof node reader over the in-memory leaves."""
    return [root_of(LEAVES[n.index << n.level : (n.index + 1) << n.level]) for n in ids]


def receipt_for(index: int, note: str = SIGNED, extra: bytes | None = None) -> Receipt:
    return Receipt(index, tuple(inclusion_proof(index, len(LEAVES), _read)), note, extra)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def test_reference_tree_matches_rfc9162_and_proof_modules() -> None:
    assert _mth(LEAVES) == CHECKPOINT.root
    for index in range(len(LEAVES)):
        assert list(receipt_for(index).proof) == _path(index, LEAVES)


@pytest.mark.parametrize("index", range(13), ids=lambda i: f"index-{i}")
def test_receipt_verifies_for_every_index(index: int) -> None:
    assert verify_receipt(receipt_for(index), ENTRIES[index], LOG.verifier()) == CHECKPOINT


@pytest.mark.parametrize("index", range(13), ids=lambda i: f"index-{i}")
def test_json_and_text_round_trip(index: int) -> None:
    receipt = receipt_for(index)
    assert Receipt.from_json(json.loads(json.dumps(receipt.to_json()))) == receipt
    assert Receipt.parse_text(receipt.to_text()) == receipt
    assert Receipt.parse_text(receipt.to_text().encode("utf-8")) == receipt


def test_single_entry_tree_has_empty_proof() -> None:
    checkpoint = Checkpoint(ORIGIN, 1, LEAVES[0])
    receipt = Receipt(0, (), sign_checkpoint(checkpoint, LOG))
    assert receipt.to_text().startswith(f"{FORMAT}\nindex 0\n\n{ORIGIN}\n1\n")
    assert Receipt.parse_text(receipt.to_text()) == receipt
    assert verify_receipt(receipt, ENTRIES[0], LOG.verifier()) == checkpoint


def test_text_format_layout() -> None:
    receipt = receipt_for(5, extra=b"label CN-GD-0005")
    lines = receipt.to_text().split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    assert lines[1] == "extra " + b64(b"label CN-GD-0005")
    assert lines[2] == "index 5"
    assert lines[3 : 3 + len(receipt.proof)] == [b64(h) for h in receipt.proof]
    assert lines[3 + len(receipt.proof)] == ""
    assert receipt.to_text().endswith("\n\n" + SIGNED)
    assert Receipt.parse_text(receipt.to_text()) == receipt


def test_json_shape() -> None:
    receipt = receipt_for(3, extra=b"x")
    assert receipt.to_json() == {
        "format": "c2sp.org/tlog-proof@v1",
        "index": 3,
        "inclusionProof": [b64(h) for h in receipt.proof],
        "checkpoint": SIGNED,
        "extra": "eA==",
    }
    assert "extra" not in receipt_for(3).to_json()
    assert Receipt.from_json(receipt.to_json()) == receipt


def test_receipt_with_witness_quorum() -> None:
    receipt = receipt_for(7, note=cosign(SIGNED, WITNESS, 1_700_000_000))
    witnesses = [WITNESS.verifier()]
    verify_receipt(receipt, ENTRIES[7], LOG.verifier(), witnesses=witnesses, quorum=1)
    with pytest.raises(ReceiptError, match="witnesses: 0 valid") as info:
        verify_receipt(receipt_for(7), ENTRIES[7], LOG.verifier(), witnesses=witnesses, quorum=1)
    assert isinstance(info.value.__cause__, NoteError)


# --- tampering -----------------------------------------------------------------------


def test_wrong_entry_rejected() -> None:
    with pytest.raises(ReceiptError, match="inclusion proof does not verify") as info:
        verify_receipt(receipt_for(4), ENTRIES[5], LOG.verifier())
    assert isinstance(info.value.__cause__, InclusionProofError)


def test_wrong_index_rejected() -> None:
    receipt = receipt_for(4)
    moved = Receipt(5, receipt.proof, receipt.checkpoint)
    with pytest.raises(ReceiptError, match="inclusion proof does not verify"):
        verify_receipt(moved, ENTRIES[4], LOG.verifier())


def test_index_beyond_tree_rejected() -> None:
    receipt = Receipt(13, receipt_for(12).proof, SIGNED)
    with pytest.raises(ReceiptError, match="index 13 is not below the checkpoint tree size 13"):
        verify_receipt(receipt, ENTRIES[12], LOG.verifier())


@pytest.mark.parametrize("position", range(4), ids=lambda p: f"hash-{p}")
def test_tampered_proof_hash_rejected(position: int) -> None:
    receipt = receipt_for(4)
    proof = list(receipt.proof)
    proof[position] = Hash(bytes([proof[position][0] ^ 1]) + proof[position][1:])
    with pytest.raises(ReceiptError, match="inclusion proof"):
        verify_receipt(Receipt(4, tuple(proof), SIGNED), ENTRIES[4], LOG.verifier())


def test_truncated_and_extended_proofs_rejected() -> None:
    receipt = receipt_for(4)
    for proof in (receipt.proof[:-1], (*receipt.proof, receipt.proof[0])):
        with pytest.raises(ReceiptError, match="inclusion proof"):
            verify_receipt(Receipt(4, proof, SIGNED), ENTRIES[4], LOG.verifier())


def test_tampered_checkpoint_rejected() -> None:
    forged = SIGNED.replace("\n13\n", "\n12\n")
    with pytest.raises(ReceiptError, match="checkpoint does not verify") as info:
        verify_receipt(receipt_for(4, note=forged), ENTRIES[4], LOG.verifier())
    assert isinstance(info.value.__cause__, NoteError)


def test_checkpoint_of_another_tree_rejected() -> None:
    other = sign_checkpoint(Checkpoint(ORIGIN, 13, root_of(LEAVES[::-1])), LOG)
    with pytest.raises(ReceiptError, match="inclusion proof"):
        verify_receipt(receipt_for(4, note=other), ENTRIES[4], LOG.verifier())


def test_wrong_log_key_rejected() -> None:
    stranger = NoteSigner.from_private_bytes(ORIGIN, bytes(32))
    with pytest.raises(ReceiptError, match="not signed by any known key"):
        verify_receipt(receipt_for(4), ENTRIES[4], stranger.verifier())


def test_origin_mismatch_rejected() -> None:
    other_log = NoteSigner.from_private_bytes("example.com/other-log", bytes(range(32)))
    note = sign_note(CHECKPOINT.body(), other_log)
    with pytest.raises(ReceiptError, match="not the log key name"):
        verify_receipt(receipt_for(4, note=note), ENTRIES[4], other_log.verifier())


# --- malformed JSON ------------------------------------------------------------------


def _json(**changes: Any) -> dict[str, Any]:
    obj = receipt_for(4).to_json()
    for key, value in changes.items():
        if value is _DROP:
            del obj[key]
        else:
            obj[key] = value
    return obj


_DROP = object()

MALFORMED_JSON = [
    ("not-an-object", ["index"], "must be a JSON object"),
    ("missing-index", _json(index=_DROP), "'index' is missing"),
    ("missing-proof", _json(inclusionProof=_DROP), "'inclusionProof' is missing"),
    ("missing-checkpoint", _json(checkpoint=_DROP), "'checkpoint' is missing"),
    ("missing-format", _json(format=_DROP), "'format' is missing"),
    ("wrong-format", _json(format="c2sp.org/tlog-proof@v2"), "'format' must be"),
    ("unknown-field", _json(leafHash="x"), "unknown field\\(s\\): leafHash"),
    ("index-string", _json(index="4"), "'index' must be an integer"),
    ("index-bool", _json(index=True), "'index' must be an integer"),
    ("index-float", _json(index=4.0), "'index' must be an integer"),
    ("index-negative", _json(index=-1), "'index' is out of range"),
    ("proof-not-list", _json(inclusionProof="abc"), "'inclusionProof' must be a list"),
    ("proof-item-int", _json(inclusionProof=[1]), "'inclusionProof' must be a list"),
    ("proof-item-bad-b64", _json(inclusionProof=["!!"]), "'inclusionProof' item 0: not"),
    ("proof-item-short", _json(inclusionProof=[b64(bytes(31))]), "item 0: hash is 31 bytes"),
    ("proof-too-long", _json(inclusionProof=[b64(bytes(32))] * 64), "more than 63"),
    ("checkpoint-not-string", _json(checkpoint=["x"]), "'checkpoint' must be a string"),
    ("checkpoint-unsigned", _json(checkpoint=CHECKPOINT.body()), "'checkpoint': note has no"),
    ("extra-empty", _json(extra=""), "'extra' must be a non-empty"),
    ("extra-not-b64", _json(extra="%%"), "'extra': not standard base64"),
]


@pytest.mark.parametrize(
    ("obj", "message"),
    [pytest.param(obj, msg, id=case) for case, obj, msg in MALFORMED_JSON],
)
def test_malformed_json_rejected_naming_the_field(obj: object, message: str) -> None:
    with pytest.raises(ReceiptError, match=message):
        Receipt.from_json(obj)


# --- malformed text ------------------------------------------------------------------

TEXT = receipt_for(4).to_text()
HEAD, _, TAIL = TEXT.partition("\n\n")

MALFORMED_TEXT = [
    ("wrong-header", TEXT.replace(FORMAT, "c2sp.org/tlog-proof@v2", 1), "line 1 must be"),
    ("no-empty-line", f"{FORMAT}\nindex 0\n", "no empty line"),
    ("checkpoint-glued-to-proof", HEAD + "\n" + TAIL, "line 7 \\(proof hash\\)"),
    ("missing-index", TEXT.replace("index 4\n", ""), "line 2 must be 'index"),
    ("index-leading-zero", TEXT.replace("index 4\n", "index 04\n"), "line 2 \\(index\\)"),
    ("index-negative", TEXT.replace("index 4\n", "index -4\n"), "line 2 \\(index\\)"),
    ("index-two-spaces", TEXT.replace("index 4\n", "index  4\n"), "line 2 \\(index\\)"),
    ("index-no-space", TEXT.replace("index 4\n", "index4\n"), "line 2 must be 'index"),
    ("extra-after-index", TEXT.replace("index 4\n", "index 4\nextra eA==\n"), "line 3"),
    ("empty-extra", TEXT.replace(FORMAT + "\n", FORMAT + "\nextra \n"), "line 2 \\(extra\\)"),
    ("bad-extra", TEXT.replace(FORMAT + "\n", FORMAT + "\nextra ??\n"), "line 2 \\(extra\\)"),
    ("short-hash", TEXT.replace("index 4\n", f"index 4\n{b64(bytes(8))}\n"), "line 3"),
    ("no-checkpoint", HEAD + "\n\n", "no checkpoint"),
    ("bad-checkpoint", HEAD + "\n\n" + CHECKPOINT.body(), "checkpoint: note has no"),
]


@pytest.mark.parametrize(
    ("text", "message"),
    [pytest.param(text, msg, id=case) for case, text, msg in MALFORMED_TEXT],
)
def test_malformed_text_rejected_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(ReceiptError, match=message):
        Receipt.parse_text(text)


def test_text_not_utf8_rejected() -> None:
    with pytest.raises(ReceiptError, match="UTF-8"):
        Receipt.parse_text(TEXT.encode() + b"\xff")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param((-1, (), SIGNED), "out of range", id="negative-index"),
        pytest.param((True, (), SIGNED), "must be an integer", id="bool-index"),
        pytest.param((0, (b"x",), SIGNED), "hash 0 is not 32 bytes", id="short-hash"),
        pytest.param((0, [bytes(32)], SIGNED), "must be a tuple", id="list-proof"),
        pytest.param((0, (), "not a note\n"), "not a signed note", id="bad-note"),
        pytest.param((0, (), SIGNED, b""), "extra data", id="empty-extra"),
    ],
)
def test_receipt_constructor_checks_shape(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ReceiptError, match=message):
        Receipt(*args)
