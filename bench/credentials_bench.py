"""Data Integrity EdDSA proofs: sign/s and verify/s per core, against the JS reference.

Every measurement runs in a process of its own (this module run as ``python -m
bench.credentials_bench --worker ...``) pinned to one CPU (``--cred-cpu``, default
0), warmed up first, then timed in rounds of ``--cred-seconds``; a row gives the
median and best round. Measured, for ``eddsa-rdfc-2022`` and ``eddsa-jcs-2022``
on two documents:

``spec``   the unsigned credential of the W3C vc-di-eddsa test vectors
           (``tests/vectors/vc-di-eddsa/eddsa-rdfc-2022.json``; the jcs vector
           holds the same credential)
``label``  the realistic CarbonLabelCredential
           ``schemas/examples/label-credential.room-ac.json`` (UNTP DCC + gdcl
           contexts; 7.6 KB as compact JSON, 152 quads, 17 blank nodes)

operations:

``sign``            :func:`credentials.dataintegrity.sign` (canonicalize, hash, Ed25519)
``verify``          :func:`credentials.dataintegrity.verify` with
                    :func:`~credentials.dataintegrity.did_key_method_resolver`
``canonicalize``    one canonicalization of the unsigned document (RDFC-1.0 in safe
                    mode, or JCS); a proof needs two (document and proof config)
``ed25519-verify``  ``cryptography``'s raw Ed25519 verify of a 64-byte hashData:
                    the physical limit of any verify

All signatures use the vector's key and ``created``, so signing the spec
credential must reproduce the vector's ``proofValue`` (checked, a row of its own).

The JavaScript reference (Digital Bazaar ``jsonld-signatures`` +
``@digitalbazaar/data-integrity`` + the two EdDSA cryptosuites) is timed too when
``--cred-js`` names a directory with those packages installed and a
``verify-bench.mjs`` (kept outside the repository; see RESULTS-credentials.md). It
verifies the very credentials signed here, single-threaded on the same pinned
CPU, with an offline document loader serving the same context documents.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import TableSpec

NAME = "credentials"

ROOT = Path(__file__).resolve().parent.parent
SPEC_VECTORS = {
    "eddsa-rdfc-2022": ROOT / "tests/vectors/vc-di-eddsa/eddsa-rdfc-2022.json",
    "eddsa-jcs-2022": ROOT / "tests/vectors/vc-di-eddsa/eddsa-jcs-2022.json",
}
LABEL_CREDENTIAL = ROOT / "schemas/examples/label-credential.room-ac.json"
CRYPTOSUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
DOCUMENTS = ("spec", "label")
OPERATIONS = ("sign", "verify", "canonicalize")
VERIFY_TARGETS = {"eddsa-jcs-2022": 4_000.0, "eddsa-rdfc-2022": 600.0}
"""Issue targets: verifications per second on one core."""
QUOTED_JS = {"eddsa-rdfc-2022": 600.0, "eddsa-jcs-2022": 2_000.0}
"""JS reference figures quoted in the issue, used only when the JS run is skipped."""
LABEL_CREATED = datetime(2025, 10, 1, tzinfo=UTC)
VERIFY_NOW = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_JS_DIR = os.environ.get("CARBONLABEL_BENCH_JSREF", "/tmp/jsref")
JS_SCRIPT = "verify-bench.mjs"


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--cred-seconds", type=float, default=None, help="seconds per timed round (default 2)"
    )
    group.add_argument("--cred-rounds", type=int, default=None, help="timed rounds (default 5)")
    group.add_argument("--cred-cpu", type=int, default=0, help="CPU every worker is pinned to")
    group.add_argument(
        "--cred-js",
        default=DEFAULT_JS_DIR,
        help=f"directory with the JS reference and {JS_SCRIPT} ('' to skip; "
        f"default $CARBONLABEL_BENCH_JSREF or {DEFAULT_JS_DIR})",
    )


# -- fixture: the documents, signed once by the parent ------------------------------------


def _spec_vector(cryptosuite: str) -> dict[str, Any]:
    vector: dict[str, Any] = json.loads(SPEC_VECTORS[cryptosuite].read_text())
    return vector


def build_fixture() -> dict[str, Any]:
    """Unsigned and signed documents, the key, and what the JS loader must serve."""
    from credentials.dataintegrity import did_key_method_resolver, sign, verify
    from credentials.didkey import resolve_did_key
    from credentials.loader import BUNDLED_CONTEXTS, document_loader
    from credentials.multikey import Ed25519KeyPair
    from schemas.vocabulary import context_documents

    vectors = {suite: _spec_vector(suite) for suite in CRYPTOSUITES}
    rdfc = vectors["eddsa-rdfc-2022"]
    key = Ed25519KeyPair.from_multibase(
        rdfc["keyPair"]["publicKeyMultibase"], rdfc["keyPair"]["secretKeyMultibase"]
    )
    method = rdfc["proofOptions"]["verificationMethod"]
    spec_created = datetime.fromisoformat(rdfc["proofOptions"]["created"])
    label = {k: v for k, v in json.loads(LABEL_CREDENTIAL.read_text()).items() if k != "proof"}
    documents = {"spec": rdfc["unsignedDocument"], "label": label}
    signed: dict[str, dict[str, Any]] = {}
    checks: list[dict[str, Any]] = []
    for document_name, document in documents.items():
        created = spec_created if document_name == "spec" else LABEL_CREATED
        for suite in CRYPTOSUITES:
            signed_document = sign(
                document, key, verification_method=method, cryptosuite=suite, created=created
            )
            verify(signed_document, resolve_method=did_key_method_resolver, now=VERIFY_NOW)
            signed[f"{document_name}/{suite}"] = signed_document
            if document_name == "spec":
                checks.append(
                    {
                        "kind": "check",
                        "check": f"sign(spec, {suite}) reproduces the vector's proofValue",
                        "ok": signed_document["proof"]["proofValue"]
                        == vectors[suite]["signedDocument"]["proof"]["proofValue"],
                    }
                )
    urls = [*BUNDLED_CONTEXTS, *context_documents()]
    did = method.split("#", 1)[0]
    return {
        "key": {
            "publicKeyMultibase": rdfc["keyPair"]["publicKeyMultibase"],
            "secretKeyMultibase": rdfc["keyPair"]["secretKeyMultibase"],
            "verificationMethod": method,
        },
        "created": {"spec": spec_created.isoformat(), "label": LABEL_CREATED.isoformat()},
        "documents": documents,
        "signed": signed,
        "checks": checks,
        "contexts": {url: document_loader(url)["document"] for url in urls},
        "did_documents": {did: resolve_did_key(did)},
        "sizes": {name: len(json.dumps(doc).encode()) for name, doc in documents.items()},
    }


# -- the worker: one measurement, one pinned process ------------------------------------


def _operation(fixture: dict[str, Any], op: str, suite: str, doc: str) -> Callable[[], object]:
    """A zero-argument callable doing one ``op`` (raises if it does not succeed)."""
    from credentials.canonical import canonicalize_jcs, canonicalize_rdfc
    from credentials.dataintegrity import did_key_method_resolver, sign, verify
    from credentials.multikey import Ed25519KeyPair

    key_info = fixture["key"]
    key = Ed25519KeyPair.from_multibase(
        key_info["publicKeyMultibase"], key_info["secretKeyMultibase"]
    )
    if op == "ed25519-verify":
        data = bytes(range(64))  # hashData is two SHA-256 digests
        signature = key.sign(data)
        public_key = key.public_key
        return lambda: public_key.verify(signature, data)
    if op == "ed25519-sign":
        data = bytes(range(64))
        return lambda: key.sign(data)
    document = fixture["documents"][doc]
    if op == "canonicalize":
        if suite == "eddsa-rdfc-2022":
            return lambda: canonicalize_rdfc(document)
        return lambda: canonicalize_jcs(document)
    if op == "sign":
        created = datetime.fromisoformat(fixture["created"][doc])
        method = key_info["verificationMethod"]
        return lambda: sign(
            document, key, verification_method=method, cryptosuite=suite, created=created
        )
    if op == "verify":
        signed = fixture["signed"][f"{doc}/{suite}"]
        return lambda: verify(signed, resolve_method=did_key_method_resolver, now=VERIFY_NOW)
    raise ValueError(f"unknown operation {op!r}")


def _time_rounds(
    call: Callable[[], object], warmup: float, seconds: float, rounds: int
) -> list[dict[str, float]]:
    def run_for(budget: float) -> dict[str, float]:
        count = 0
        start = time.perf_counter()
        stop = start + budget
        now = start
        while now < stop:
            call()
            count += 1
            now = time.perf_counter()
        return {"count": count, "seconds": now - start}

    run_for(warmup)
    return [run_for(seconds) for _ in range(rounds)]


def worker(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.credentials_bench --worker")
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--op", required=True)
    parser.add_argument("--suite", default="")
    parser.add_argument("--doc", default="")
    parser.add_argument("--fixture", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--cpu", type=int, default=0)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--rounds", type=int, required=True)
    parser.add_argument("--warmup", type=float, required=True)
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {args.cpu})
    fixture = json.loads(args.fixture.read_text())
    call = _operation(fixture, args.op, args.suite, args.doc)
    result = {
        "rounds": _time_rounds(call, args.warmup, args.seconds, args.rounds),
        "loadavg": os.getloadavg()[0],
    }
    args.result.write_text(json.dumps(result))
    return 0


# -- the parent ----------------------------------------------------------------------------


def _summary(rounds: list[dict[str, float]]) -> dict[str, Any]:
    rates = [r["count"] / r["seconds"] for r in rounds]
    median = statistics.median(rates)
    return {
        "ops_per_s": median,
        "best_ops_per_s": max(rates),
        "ms_per_op": 1000.0 / median,
        "spread_pct": (max(rates) - min(rates)) / median * 100.0,
        "ops_timed": int(sum(r["count"] for r in rounds)),
    }


def _python_worker(
    fixture_path: Path, op: str, suite: str, doc: str, timing: dict[str, Any]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        result_path = Path(scratch) / "result.json"
        command = [
            sys.executable,
            "-m",
            "bench.credentials_bench",
            "--worker",
            f"--op={op}",
            f"--suite={suite}",
            f"--doc={doc}",
            f"--fixture={fixture_path}",
            f"--result={result_path}",
            f"--cpu={timing['cpu']}",
            f"--seconds={timing['seconds']}",
            f"--rounds={timing['rounds']}",
            f"--warmup={timing['warmup']}",
        ]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        subprocess.run(command, cwd=ROOT, env=env, check=True)
        result: dict[str, Any] = json.loads(result_path.read_text())
    return result


def _js_available(js_dir: str) -> str | None:
    """Why the JS reference cannot run, or None if it can."""
    if not js_dir:
        return "disabled (--cred-js '')"
    if shutil.which("node") is None:
        return "node not installed"
    if not (Path(js_dir) / JS_SCRIPT).is_file():
        return f"no {JS_SCRIPT} in {js_dir}"
    if not (Path(js_dir) / "node_modules/@digitalbazaar/data-integrity").is_dir():
        return f"reference packages not installed in {js_dir}"
    return None


def _js_run(js_dir: str, fixture: dict[str, Any], timing: dict[str, Any]) -> dict[str, Any]:
    cases = [
        {
            "name": f"{doc}/{suite}",
            "cryptosuite": suite,
            "signed": fixture["signed"][f"{doc}/{suite}"],
        }
        for doc in DOCUMENTS
        for suite in CRYPTOSUITES
    ]
    with tempfile.TemporaryDirectory() as scratch:
        fixture_path = Path(scratch) / "fixture.json"
        result_path = Path(scratch) / "result.json"
        fixture_path.write_text(
            json.dumps(
                {
                    "contexts": fixture["contexts"],
                    "did_documents": fixture["did_documents"],
                    "cases": cases,
                    "seconds": timing["seconds"],
                    "rounds": timing["rounds"],
                    "warmup_seconds": timing["warmup"],
                }
            )
        )
        cpu = timing["cpu"]
        subprocess.run(
            ["node", JS_SCRIPT, str(fixture_path), str(result_path)],
            cwd=js_dir,
            check=True,
            preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
        )
        result: dict[str, Any] = json.loads(result_path.read_text())
    return result


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    from rich.console import Console

    console = Console(stderr=True)
    timing = {
        "cpu": args.cred_cpu,
        "seconds": args.cred_seconds or (0.3 if args.quick else 2.0),
        "rounds": args.cred_rounds or (2 if args.quick else 5),
        "warmup": 0.2 if args.quick else 1.0,
    }
    fixture = build_fixture()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        fixture_path = Path(scratch) / "fixture.json"
        fixture_path.write_text(json.dumps(fixture))
        jobs = [("ed25519-verify", "", ""), ("ed25519-sign", "", "")]
        jobs += [
            (op, suite, doc) for doc in DOCUMENTS for suite in CRYPTOSUITES for op in OPERATIONS
        ]
        for op, suite, doc in jobs:
            console.print(f"python {op} {suite} {doc} …")
            result = _python_worker(fixture_path, op, suite, doc, timing)
            rows.append(
                {
                    "kind": "python",
                    "implementation": "python",
                    "operation": op,
                    "cryptosuite": suite or None,
                    "document": doc or None,
                    "document_bytes": fixture["sizes"].get(doc),
                    **_summary(result["rounds"]),
                    "loadavg": result["loadavg"],
                }
            )
    why_not = _js_available(args.cred_js)
    js: dict[str, Any] | None = None
    if why_not is None:
        console.print("javascript reference verify …")
        js = _js_run(args.cred_js, fixture, timing)
        for case in js["results"]:
            doc, suite = case["name"].split("/")
            rows.append(
                {
                    "kind": "js",
                    "implementation": f"js (node {js['node']})",
                    "operation": "verify",
                    "cryptosuite": suite,
                    "document": doc,
                    "document_bytes": fixture["sizes"][doc],
                    **_summary(case["rounds"]),
                    "packages": js["packages"],
                }
            )
    else:
        console.print(f"javascript reference skipped: {why_not}")
    rows += fixture["checks"]
    rows += _targets(rows, quoted_js=js is None)
    return rows


# -- targets and tables --------------------------------------------------------------------


def _find(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    for row in rows:
        if all(row.get(key) == value for key, value in match.items()):
            return row
    return None


def _targets(rows: list[dict[str, Any]], *, quoted_js: bool) -> list[dict[str, Any]]:
    targets = []
    for doc in DOCUMENTS:
        for suite in CRYPTOSUITES:
            ours = _find(rows, kind="python", operation="verify", cryptosuite=suite, document=doc)
            if ours is None:
                continue
            goal = VERIFY_TARGETS[suite]
            measured = ours["ops_per_s"]
            js = _find(rows, kind="js", cryptosuite=suite, document=doc)
            peer = js["ops_per_s"] if js is not None else QUOTED_JS[suite]
            source = "quoted" if js is None else "measured"
            targets.append(
                {
                    "kind": "target",
                    "target": f"verify {suite}, {doc} credential",
                    "goal": f"≥ {goal:,.0f}/s",
                    "measured": f"{measured:,.0f}/s",
                    "met": measured >= goal,
                    "margin": f"{measured / goal:.2f}× the goal",
                    "vs_js": f"{measured / peer:.2f}× js ({source})",
                }
            )
    return targets


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def tables(rows: list[dict[str, Any]]) -> list[TableSpec]:
    """Python and JS side by side, raw Ed25519, the vector check and the targets."""
    timed = [row for row in rows if row["kind"] in ("python", "js")]
    specs = [
        TableSpec(
            "Throughput on one pinned core (median of rounds)",
            [
                "impl",
                "operation",
                "cryptosuite",
                "document",
                "ops/s",
                "best ops/s",
                "ms/op",
                "spread %",
            ],
            [
                [
                    row["implementation"],
                    row["operation"],
                    _fmt(row["cryptosuite"]),
                    _fmt(row["document"]),
                    _fmt(row["ops_per_s"]),
                    _fmt(row["best_ops_per_s"]),
                    _fmt(row["ms_per_op"]),
                    _fmt(row["spread_pct"], 1),
                ]
                for row in timed
            ],
        )
    ]
    verify_rows = []
    for doc in DOCUMENTS:
        for suite in CRYPTOSUITES:
            ours = _find(rows, kind="python", operation="verify", cryptosuite=suite, document=doc)
            theirs = _find(rows, kind="js", cryptosuite=suite, document=doc)
            if ours is None:
                continue
            verify_rows.append(
                [
                    suite,
                    doc,
                    _fmt(ours["ops_per_s"]),
                    _fmt(None if theirs is None else theirs["ops_per_s"]),
                    _fmt(None if theirs is None else ours["ops_per_s"] / theirs["ops_per_s"], 2),
                ]
            )
    specs.append(
        TableSpec(
            "Verify/s, Python vs JS reference (same signed credentials)",
            ["cryptosuite", "document", "python/s", "js/s", "python ÷ js"],
            verify_rows,
        )
    )
    checks = [row for row in rows if row["kind"] == "check"]
    specs.append(
        TableSpec(
            "Checks",
            ["check", "ok"],
            [[row["check"], "yes" if row["ok"] else "NO"] for row in checks],
        )
    )
    targets = [row for row in rows if row["kind"] == "target"]
    specs.append(
        TableSpec(
            "Targets (issue)",
            ["target", "goal", "measured", "met", "margin", "vs js"],
            [
                [
                    row["target"],
                    row["goal"],
                    row["measured"],
                    "met" if row["met"] else "NOT met",
                    row["margin"],
                    row["vs_js"],
                ]
                for row in targets
            ],
        )
    )
    return specs


def main(argv: list[str] | None = None) -> int:
    """``--worker ...`` runs one measurement; anything else runs this suite via bench."""
    arguments = sys.argv[1:] if argv is None else argv
    if "--worker" in arguments:
        return worker(arguments)
    from bench.__main__ import main as bench_main

    return bench_main([NAME, *arguments])


if __name__ == "__main__":
    sys.exit(main())
