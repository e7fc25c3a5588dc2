"""vc-di-eddsa 1.0 test vectors, reproduced byte for byte (tests/vectors/vc-di-eddsa/)."""

from __future__ import annotations

import hashlib
import json
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from credentials.canonical import canonicalize_jcs, canonicalize_rdfc
from credentials.dataintegrity import (
    did_key_method_resolver,
    hash_data,
    sign,
    verify,
)
from credentials.errors import ContextError, ProofVerificationError
from credentials.multikey import Ed25519KeyPair, encode_multibase_base58btc

VECTORS = Path(__file__).parent / "vectors" / "vc-di-eddsa"
SUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text("utf-8"))
    return data


@pytest.fixture(params=SUITES)
def vector(request: pytest.FixtureRequest) -> dict[str, Any]:
    return load(f"{request.param}.json")


def canonical(suite: str, value: dict[str, Any]) -> bytes:
    if suite == "eddsa-rdfc-2022":
        return canonicalize_rdfc(value).encode("utf-8")
    return canonicalize_jcs(value)


def key_pair(vector: dict[str, Any]) -> Ed25519KeyPair:
    return Ed25519KeyPair.from_multibase(
        vector["keyPair"]["publicKeyMultibase"], vector["keyPair"]["secretKeyMultibase"]
    )


def test_canonical_document(vector: dict[str, Any]) -> None:
    out = canonical(vector["cryptosuite"], vector["unsignedDocument"])
    assert out.decode("utf-8") == vector["canonicalDocument"]
    assert hashlib.sha256(out).hexdigest() == vector["canonicalDocumentSha256Hex"]


def test_canonical_proof_config(vector: dict[str, Any]) -> None:
    # proofOptions in the vector files already carry @context (the document's).
    out = canonical(vector["cryptosuite"], vector["proofOptions"])
    assert out.decode("utf-8") == vector["canonicalProofConfig"]
    assert hashlib.sha256(out).hexdigest() == vector["canonicalProofConfigSha256Hex"]


def test_hash_data_signature_and_proof_value(vector: dict[str, Any]) -> None:
    suite = vector["cryptosuite"]
    data = hash_data(
        canonical(suite, vector["proofOptions"]), canonical(suite, vector["unsignedDocument"])
    )
    assert data.hex() == vector["hashDataHex_proofConfigHash_then_docHash"]
    signature = key_pair(vector).sign(data)
    assert signature.hex() == vector["signatureHex"]
    assert encode_multibase_base58btc(signature) == vector["proofValue"]


def test_sign_reproduces_signed_document(vector: dict[str, Any]) -> None:
    signed = sign(
        vector["unsignedDocument"],
        key_pair(vector),
        verification_method=vector["proofOptions"]["verificationMethod"],
        cryptosuite=vector["cryptosuite"],
        created=CREATED,
    )
    assert signed == vector["signedDocument"]
    assert json.dumps(signed) == json.dumps(vector["signedDocument"])  # member order too


def test_verify_signed_document(vector: dict[str, Any]) -> None:
    result = verify(
        vector["signedDocument"],
        resolve_method=did_key_method_resolver,
        now=datetime(2025, 1, 1, tzinfo=UTC),
    )
    assert result.cryptosuite == vector["cryptosuite"]
    assert result.proof_purpose == "assertionMethod"
    assert result.created == CREATED
    assert result.verification_method.id == vector["proofOptions"]["verificationMethod"]
    assert result.document["credentialSubject"] == vector["unsignedDocument"]["credentialSubject"]


class _NoNetwork(socket.socket):
    def connect(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")


def test_employment_vector_context_refused_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The enhanced vector needs https://w3id.org/citizenship/v4rc1, which is not
    bundled: it is refused by name, and nothing touches the network."""
    vector = load("eddsa-rdfc-2022-employment.json")
    monkeypatch.setattr(socket, "socket", _NoNetwork)
    with pytest.raises(ContextError) as excinfo:
        canonicalize_rdfc(vector["unsignedDocument"])
    assert excinfo.value.url == "https://w3id.org/citizenship/v4rc1"
    with pytest.raises(ProofVerificationError) as failure:
        verify(vector["signedDocument"], resolve_method=did_key_method_resolver)
    assert failure.value.reason == "UNKNOWN_CONTEXT"
