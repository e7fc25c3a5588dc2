"""Interop with the Digital Bazaar JavaScript reference implementation, both ways.

For each cryptosuite (eddsa-rdfc-2022, eddsa-jcs-2022) and document (the W3C
vc-di-eddsa vector credential, our room-AC label credential with a did:key issuer):

* we sign, ``jsonld-signatures`` + ``@digitalbazaar/data-integrity`` verify;
* the reference signs with a fresh Ed25519 Multikey and its own did:key document,
  we verify with :func:`credentials.dataintegrity.verify`;
* a tampered document is rejected by both.

The JavaScript side is ``tests/interop/interop.mjs``; its packages are pinned by
``tests/interop/package-lock.json`` and installed with ``npm ci`` into
``tests/interop/node_modules`` when missing or stale (the only network use; see
``tests/interop/README.md``). Its document loader serves only the context files
our own loader serves (``credentials.loader.BUNDLED_CONTEXTS`` and the label
context), so nothing is fetched at test time. No node or npm, or no registry for
the first install, is a failure, not a skip.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import credentials
import schemas
from credentials.dataintegrity import did_key_method_resolver, sign, verify
from credentials.didkey import (
    did_key_from_public_key,
    did_key_verification_method_id,
    resolve_did_key,
)
from credentials.errors import SignatureError
from credentials.loader import BUNDLED_CONTEXTS
from credentials.multikey import Ed25519KeyPair
from schemas.vocabulary import LABEL_CONTEXT_URL, context_documents

INTEROP = Path(__file__).parent / "interop"
SCRIPT = INTEROP / "interop.mjs"
LOCKFILE = INTEROP / "package-lock.json"
NODE_MODULES = INTEROP / "node_modules"
STAMP = NODE_MODULES / ".carbonlabel-lock-sha256"
VECTORS = Path(__file__).parent / "vectors" / "vc-di-eddsa"
LABEL_EXAMPLE = Path(schemas.__file__).parent / "examples" / "label-credential.room-ac.json"

NODE_MIN_MAJOR = 18  # every pinned package declares engines.node >=18 (or lower)
NPM_CI_TIMEOUT = 600
NODE_TIMEOUT = 120
SUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
CREATED = datetime(2025, 10, 1, tzinfo=UTC)
NOW = datetime(2026, 1, 1, tzinfo=UTC)

# name -> (unsigned document file, key in it or None, path of a value to tamper with)
DOCUMENTS: dict[str, tuple[Path, str | None, tuple[str, ...]]] = {
    "spec-vector": (
        VECTORS / "eddsa-rdfc-2022.json",
        "unsignedDocument",
        ("credentialSubject", "alumniOf"),
    ),
    "label-room-ac": (
        LABEL_EXAMPLE,
        None,
        ("credentialSubject", "carbonFootprint", "pcfExcludingBiogenicUptake"),
    ),
}
CASES = [pytest.param(suite, name, id=f"{suite}-{name}") for suite in SUITES for name in DOCUMENTS]


# --- the JavaScript side -------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name!r} not found on PATH: the JS interop test needs Node.js >= "
            f"{NODE_MIN_MAJOR} with npm (see tests/interop/README.md)",
            pytrace=False,
        )
    return path


def _install(npm: str) -> None:
    """``npm ci`` from the committed lockfile unless node_modules already matches it."""
    lock_sha256 = hashlib.sha256(LOCKFILE.read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text("ascii").strip() == lock_sha256:
        return
    command = [npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"]
    try:
        proc = subprocess.run(
            command,
            cwd=INTEROP,
            capture_output=True,
            text=True,
            timeout=NPM_CI_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"`{' '.join(command[1:])}` in {INTEROP} took over {NPM_CI_TIMEOUT} s "
            "(is the npm registry reachable?)",
            pytrace=False,
        )
    if proc.returncode != 0:
        pytest.fail(
            f"`npm ci` in {INTEROP} failed (exit {proc.returncode}); the first run needs "
            f"the npm registry (or a warm ~/.npm cache).\n{proc.stderr[-3000:]}",
            pytrace=False,
        )
    STAMP.write_text(lock_sha256 + "\n", "ascii")


@pytest.fixture(scope="session")
def node() -> str:
    """Path of ``node``, after making sure the pinned packages are installed."""
    node = _tool("node")
    npm = _tool("npm")
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout.strip()
    match = re.fullmatch(r"v(\d+)\..*", version)
    if match is None or int(match.group(1)) < NODE_MIN_MAJOR:
        pytest.fail(f"Node.js {version} is too old: need >= {NODE_MIN_MAJOR}", pytrace=False)
    _install(npm)
    return node


@pytest.fixture(scope="session")
def contexts_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """URL -> file map for the script's loader: exactly what credentials.loader serves."""
    label_urls = set(context_documents())
    assert label_urls == {LABEL_CONTEXT_URL}, f"new label contexts to map: {label_urls}"
    bundled = Path(credentials.__file__).parent / "contexts"
    files = {url: bundled / name for url, name in BUNDLED_CONTEXTS.items()}
    files[LABEL_CONTEXT_URL] = Path(schemas.__file__).parent / "contexts" / "gdcl-v1.jsonld"
    for url, path in files.items():
        assert path.is_file(), f"{url}: {path} missing"
    path = tmp_path_factory.mktemp("interop") / "contexts.json"
    path.write_text(json.dumps({url: str(file) for url, file in files.items()}), "utf-8")
    return path


def run_js(
    node: str, contexts: Path, tmp_path: Path, command: str, request: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Run ``interop.mjs command``; its exit code (0 or 1) and JSON output."""
    request_path = tmp_path / f"{command}-request.json"
    request_path.write_text(json.dumps(request, ensure_ascii=False), "utf-8")
    argv = [node, str(SCRIPT), command, str(contexts), str(request_path)]
    proc = subprocess.run(
        argv, cwd=INTEROP, capture_output=True, text=True, timeout=NODE_TIMEOUT, check=False
    )
    if proc.returncode not in (0, 1):
        pytest.fail(f"interop.mjs {command} crashed (exit {proc.returncode}):\n{proc.stderr}")
    output: dict[str, Any] = json.loads(proc.stdout)
    return proc.returncode, output


def js_verify(
    node: str, contexts: Path, tmp_path: Path, suite: str, document: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    return run_js(node, contexts, tmp_path, "verify", {"cryptosuite": suite, "document": document})


def js_sign(node: str, contexts: Path, tmp_path: Path, suite: str, name: str) -> dict[str, Any]:
    """The reference signs ``name`` with a fresh did:key (also its issuer, for the label)."""
    request = {
        "cryptosuite": suite,
        "document": unsigned(name),
        "created": "2025-10-01T00:00:00Z",
        "setIssuer": name == "label-room-ac",
    }
    code, output = run_js(node, contexts, tmp_path, "sign", request)
    assert code == 0, output
    return output


# --- documents and keys ------------------------------------------------------------


def unsigned(name: str) -> dict[str, Any]:
    path, member, _ = DOCUMENTS[name]
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data[member] if member is not None else data


def tampered(name: str, document: dict[str, Any]) -> dict[str, Any]:
    *parents, leaf = DOCUMENTS[name][2]
    forged = copy.deepcopy(document)
    target = forged
    for key in parents:
        target = target[key]
    assert isinstance(target[leaf], str)
    target[leaf] = target[leaf] + " (forged)"
    return forged


def did_key_pair() -> Ed25519KeyPair:
    pair = Ed25519KeyPair.generate()
    did = did_key_from_public_key(pair.public_key)
    return Ed25519KeyPair(
        pair.public_key, pair.private_key, did_key_verification_method_id(did), did
    )


def our_signed(suite: str, name: str) -> dict[str, Any]:
    key = did_key_pair()
    assert key.id is not None
    document = unsigned(name)
    if name == "label-room-ac":
        document["issuer"]["id"] = key.controller
    return sign(document, key, verification_method=key.id, cryptosuite=suite, created=CREATED)


# --- we sign, the reference verifies ---------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
def test_reference_verifies_the_spec_vector(
    node: str, contexts_file: Path, tmp_path: Path, suite: str
) -> None:
    """Harness check: the reference accepts the W3C vector's own signed document."""
    signed = json.loads((VECTORS / f"{suite}.json").read_text("utf-8"))["signedDocument"]
    code, output = js_verify(node, contexts_file, tmp_path, suite, signed)
    assert (code, output) == (0, {"verified": True, "errors": []})


@pytest.mark.parametrize(("suite", "name"), CASES)
def test_reference_verifies_what_we_sign(
    node: str, contexts_file: Path, tmp_path: Path, suite: str, name: str
) -> None:
    code, output = js_verify(node, contexts_file, tmp_path, suite, our_signed(suite, name))
    assert (code, output) == (0, {"verified": True, "errors": []})


@pytest.mark.parametrize(("suite", "name"), CASES)
def test_reference_rejects_what_we_sign_when_tampered(
    node: str, contexts_file: Path, tmp_path: Path, suite: str, name: str
) -> None:
    forged = tampered(name, our_signed(suite, name))
    code, output = js_verify(node, contexts_file, tmp_path, suite, forged)
    assert (code, output) == (1, {"verified": False, "errors": ["Error: Invalid signature."]})


# --- the reference signs, we verify ----------------------------------------------


@pytest.mark.parametrize(("suite", "name"), CASES)
def test_we_verify_what_the_reference_signs(
    node: str, contexts_file: Path, tmp_path: Path, suite: str, name: str
) -> None:
    output = js_sign(node, contexts_file, tmp_path, suite, name)
    signed, did_document = output["signed"], output["didDocument"]
    assert did_document == resolve_did_key(did_document["id"])  # same did:key document
    result = verify(signed, resolve_method=did_key_method_resolver, now=NOW)
    assert result.cryptosuite == suite
    assert result.verification_method.id == output["verificationMethod"]
    assert result.verification_method.controller == did_document["id"]
    expected = unsigned(name)
    if name == "label-room-ac":
        assert signed["issuer"]["id"] == did_document["id"]
        expected["issuer"]["id"] = did_document["id"]
    assert result.document == expected


@pytest.mark.parametrize(("suite", "name"), CASES)
def test_we_reject_what_the_reference_signs_when_tampered(
    node: str, contexts_file: Path, tmp_path: Path, suite: str, name: str
) -> None:
    forged = tampered(name, js_sign(node, contexts_file, tmp_path, suite, name)["signed"])
    with pytest.raises(SignatureError) as excinfo:
        verify(forged, resolve_method=did_key_method_resolver, now=NOW)
    assert excinfo.value.reason == "SIGNATURE_MISMATCH"


# --- the harness is offline ----------------------------------------------------------


def test_reference_loader_refuses_unknown_urls(
    node: str, contexts_file: Path, tmp_path: Path
) -> None:
    """A context we do not bundle is refused by the script's loader, not fetched."""
    signed = our_signed("eddsa-rdfc-2022", "spec-vector")
    signed["@context"] = [*signed["@context"], "https://w3id.org/citizenship/v4rc1"]
    code, output = js_verify(node, contexts_file, tmp_path, "eddsa-rdfc-2022", signed)
    assert code == 1
    assert output["verified"] is False
    refused = "offline document loader: refused https://w3id.org/citizenship/v4rc1"
    assert any(refused in error for error in output["errors"]), output
