"""End-to-end label issuance through :class:`issuer.service.IssuerService`.

A batch of ``--iss-labels`` label requests (default 10,000; ``--quick`` 1,000),
cycled from the 128 rows of ``examples/labels.csv``, is issued into a fresh
deployment: a SQLite file in a temporary data dir, and a fresh PostgreSQL schema
(dropped afterwards) when ``--iss-postgres-url``/``CARBONLABEL_BENCH_POSTGRES_URL``/
``CARBONLABEL_TEST_POSTGRES_URL`` is set, for each cryptosuite.

Throughput: ``--iss-workers`` (default ``os.cpu_count()``) worker PROCESSES
(this module run as ``python -m bench.issuance_bench --worker ...``), each with
its own :class:`app.runtime.Runtime` on the same database, each issuing its
share of the batch from a pool of ``--iss-threads`` threads (16, as
``carbonlabel issue batch``) so its sequencer batches (default settings:
256 entries, 10 ms). Every worker first issues ``WARMUP`` labels untimed (schema
and context loading, key decryption, the first status lists), reports ready, and
starts on the parent's "go". labels/s = batch / (last worker's end − first
worker's start); latency is one ``issue_label`` call, start to return, in its
thread (what a client with 16 requests in flight would see).

Modes (``--iss-mode``, default both): ``per-request`` is the above;
``batch`` has each worker issue its share from one thread as ``carbonlabel issue
batch`` does: ``IssuerService.issue_label_batches`` with ``BATCH_CHUNK`` (256)
labels a batch, each batch signed while the one before commits (``POST
/labels/batch`` takes one batch of up to 1,000); a label's latency is its
batch's, from the start of its preparation to its results.

Stage shares: one process, same thread pool, on SQLite, with timers wrapped
around the stages (this module patches the names at run time; no other file is
touched). For each stage it records wall time and thread CPU time
(``time.thread_time``); shares are of the process's CPU time (``os.times``) and
of the summed per-label wall latency.

After every run the parent checks the database: as many credentials as
issued, distinct label numbers, log size = credentials + rules, and a sample of
credentials whose Data Integrity proof and log receipt verify.

Label numbers and status positions are reserved in blocks by the project's own
``issuer.allocate.Allocator`` (an earlier what-if option of this bench measured
that change before it was made).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench import TableSpec

NAME = "issuance"

ROOT = Path(__file__).resolve().parent.parent
LABELS_CSV = ROOT / "examples" / "labels.csv"
CRYPTOSUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
MODES = ("per-request", "batch")
BATCH_CHUNK = 256
BACKENDS = ("sqlite", "postgres")
TARGETS = {"eddsa-rdfc-2022": 500.0, "eddsa-jcs-2022": 2_000.0}
"""Issue targets: labels/s on SQLite, 2 cores."""
PASSPHRASE = "bench-issuance-passphrase"
ORG_SLUG = "bench-issuer"
ORG_NAME = "碳标签基准测试签发机构 (bench)"
ORG_USCC = "12440000MB2C401574"
WARMUP = 4
VERIFY_SAMPLE = 25
SEED = 20261124


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--iss-labels", type=int, default=None, help="labels per run (default 10000; quick 1000)"
    )
    group.add_argument(
        "--iss-workers",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default os.cpu_count())",
    )
    group.add_argument("--iss-threads", type=int, default=16, help="threads per worker")
    group.add_argument(
        "--iss-suites", default=",".join(CRYPTOSUITES), help="comma-separated cryptosuites"
    )
    group.add_argument(
        "--iss-backends", default=",".join(BACKENDS), help="comma-separated: sqlite,postgres"
    )
    group.add_argument(
        "--iss-mode",
        choices=[*MODES, "both"],
        default="both",
        help="per-request (issue_label from a thread pool), batch (issue_labels in chunks "
        f"of {BATCH_CHUNK}) or both (default)",
    )
    group.add_argument(
        "--iss-profile-labels",
        type=int,
        default=None,
        help="labels in the single-process stage profile (default 1000; quick 300; 0 skips)",
    )
    group.add_argument(
        "--iss-postgres-url",
        default=os.environ.get("CARBONLABEL_BENCH_POSTGRES_URL")
        or os.environ.get("CARBONLABEL_TEST_POSTGRES_URL")
        or "",
        help="PostgreSQL server (default: $CARBONLABEL_BENCH_POSTGRES_URL "
        "or $CARBONLABEL_TEST_POSTGRES_URL)",
    )


# -- the deployment ------------------------------------------------------------------


def _bare_app_package() -> None:
    """Make ``app.runtime``/``app.settings`` importable without ``app/__init__``.

    The package's ``__init__`` imports the web app and the CLI, which the bench
    does not use (and which may not import while other work is in progress);
    ``Runtime`` itself needs only the ledger, credentials and issuer packages.
    """
    if "app" not in sys.modules:
        package = types.ModuleType("app")
        package.__path__ = [str(ROOT / "app")]
        sys.modules["app"] = package


def _settings(data_dir: str, database_url: str | None, cryptosuite: str) -> Any:
    _bare_app_package()
    from app.settings import Settings

    return Settings(
        data_dir=Path(data_dir),
        database_url=database_url,
        keystore_passphrase=PASSPHRASE,
        cryptosuite=cryptosuite,
    )


def load_requests() -> list[dict[str, Any]]:
    """The LabelRequests of examples/labels.csv (all must be good)."""
    from issuer.batchfile import read_batch

    rows = list(read_batch(LABELS_CSV))
    bad = [row for row in rows if row.request is None]
    if bad:
        raise RuntimeError(f"{LABELS_CSV}: bad rows {[(r.line, r.errors) for r in bad[:3]]}")
    return [row.request for row in rows if row.request is not None]


def _setup(data_dir: str, database_url: str | None, cryptosuite: str) -> None:
    """A fresh deployment: log key, store, issuer tables, one issuer for every category."""
    _bare_app_package()
    from app.runtime import Runtime

    categories = sorted({r["product"]["productCategory"] for r in load_requests()})
    runtime = Runtime(_settings(data_dir, database_url, cryptosuite))
    try:
        now = datetime.now(UTC)
        runtime.init_log(now)
        runtime.directory.add_org(
            slug=ORG_SLUG,
            name=ORG_NAME,
            uscc=ORG_USCC,
            credential_types=["CarbonLabelCredential"],
            product_categories=categories,
            now=now,
        )
    finally:
        runtime.close()


def _pg_admin_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@contextmanager
def _target(backend: str, postgres_url: str) -> Iterator[tuple[str, str | None]]:
    """A temporary data dir and, for PostgreSQL, a fresh schema (dropped afterwards)."""
    with tempfile.TemporaryDirectory(prefix="issuance-bench-") as data_dir:
        if backend != "postgres":
            yield data_dir, None
            return
        from sqlalchemy import create_engine, text

        schema = f"bench_{secrets.token_hex(6)}"
        admin = create_engine(_pg_admin_url(postgres_url), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            separator = "&" if "?" in postgres_url else "?"
            yield data_dir, f"{postgres_url}{separator}options={quote(f'-csearch_path={schema}')}"
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


# -- the worker -------------------------------------------------------------------------


def _percentiles_ms(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": pick(0.95),
        "p99_ms": pick(0.99),
        "max_ms": ordered[-1] * 1000,
    }


def _issue_all(
    runtime: Any, principal: Any, requests: Sequence[dict[str, Any]], threads: int
) -> tuple[list[float], list[Any]]:
    """Issue every request from a thread pool; per-label latencies (s) and results."""
    latencies: list[float] = [0.0] * len(requests)

    def one(position: int) -> Any:
        start = time.perf_counter()
        issued = runtime.issuer.issue_label(principal, requests[position])
        latencies[position] = time.perf_counter() - start
        return issued

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(one, range(len(requests))))
    return latencies, results


def _issue_batches(
    runtime: Any, principal: Any, requests: Sequence[dict[str, Any]]
) -> tuple[list[float], list[Any]]:
    """Issue every request as ``carbonlabel issue batch`` does: ``issue_label_batches`` with
    BATCH_CHUNK labels a batch, the next batch signed while the last commits. Per-label
    latencies (s) are their batch's, from the start of its preparation to its results.
    Raises if a label was not issued."""
    from issuer.errors import IssuerError

    started: list[float] = []

    def batches() -> Iterator[tuple[Sequence[dict[str, Any]], None]]:
        for first in range(0, len(requests), BATCH_CHUNK):
            started.append(time.perf_counter())
            yield requests[first : first + BATCH_CHUNK], None

    latencies: list[float] = []
    results: list[Any] = []
    for number, issued in enumerate(runtime.issuer.issue_label_batches(principal, batches())):
        latencies += [time.perf_counter() - started[number]] * len(issued)
        failed = [r for r in issued if isinstance(r, IssuerError)]
        if failed:
            raise RuntimeError(f"{len(failed)} labels of a batch failed: {failed[0]!r}")
        results += issued
    return latencies, results


def _issue(
    mode: str, runtime: Any, principal: Any, requests: Sequence[dict[str, Any]], threads: int
) -> tuple[list[float], list[Any]]:
    if mode == "batch":
        return _issue_batches(runtime, principal, requests)
    return _issue_all(runtime, principal, requests, threads)


def _open(spec: dict[str, Any]) -> tuple[Any, Any, list[dict[str, Any]]]:
    _bare_app_package()
    from app.runtime import Runtime
    from issuer.directory import Principal

    runtime = Runtime(_settings(spec["data_dir"], spec["database_url"], spec["cryptosuite"]))
    principal = Principal(runtime.directory.org(ORG_SLUG), frozenset({"issue"}), "bench")
    pool = load_requests()
    requests = [pool[i % len(pool)] for i in range(spec["first"], spec["first"] + spec["count"])]
    return runtime, principal, requests


def worker(argv: list[str]) -> int:
    """One throughput worker: set up, warm up, say ready, wait for go, issue, report JSON."""
    spec = json.loads(argv[0])
    started = time.monotonic()
    runtime, principal, requests = _open(spec)
    return _work(spec, runtime, principal, requests, started)


def _work(
    spec: dict[str, Any],
    runtime: Any,
    principal: Any,
    requests: list[dict[str, Any]],
    started: float,
) -> int:
    mode = spec.get("mode", "per-request")
    try:
        _issue(mode, runtime, principal, requests[:WARMUP], min(WARMUP, spec["threads"]))
        if mode == "batch":  # as `carbonlabel issue batch` does after its first batch
            from app.runtime import freeze_loaded_objects

            freeze_loaded_objects()
        print(json.dumps({"ready": time.monotonic() - started}), flush=True)
        if sys.stdin.readline().strip() != "go":
            return 1
        cpu0 = os.times()
        t0 = time.monotonic()
        latencies, _ = _issue(mode, runtime, principal, requests, spec["threads"])
        t1 = time.monotonic()
        cpu1 = os.times()
    finally:
        runtime.close()
    print(
        json.dumps(
            {
                "start": t0,
                "end": t1,
                "latencies": latencies,
                "cpu_s": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
            }
        ),
        flush=True,
    )
    return 0


def _throughput(
    data_dir: str,
    database_url: str | None,
    cryptosuite: str,
    total: int,
    args: argparse.Namespace,
    mode: str = "per-request",
) -> dict[str, Any]:
    """Run the worker processes on one deployment in ``mode``; merged figures."""
    workers = max(1, args.iss_workers)
    share, extra = divmod(total, workers)
    procs = []
    first = 0
    for n in range(workers):
        count = share + (1 if n < extra else 0)
        spec = {
            "data_dir": data_dir,
            "database_url": database_url,
            "cryptosuite": cryptosuite,
            "first": first,
            "count": count,
            "threads": args.iss_threads,
            "mode": mode,
        }
        first += count
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "bench.issuance_bench", "--worker", json.dumps(spec)],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    ready = []
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {proc.pid} died during setup (exit {proc.wait()})")
        ready.append(json.loads(line)["ready"])
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    load_before = os.getloadavg()[0]
    reports = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"worker {proc.pid} failed (exit {proc.returncode})")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    elapsed = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    latencies = [s for r in reports for s in r["latencies"]]
    return {
        "mode": mode,
        "workers": workers,
        "threads": 1 if mode == "batch" else args.iss_threads,
        "labels": total,
        "seconds": elapsed,
        "labels_per_s": total / elapsed,
        **_percentiles_ms(latencies),
        "cpu_ms_per_label": 1000 * sum(r["cpu_s"] for r in reports) / total,
        "setup_s": max(ready),
        "load1_start": load_before,
        "load1_end": os.getloadavg()[0],
    }


# -- checks --------------------------------------------------------------------------------


def _check(data_dir: str, database_url: str | None, cryptosuite: str, expected: int) -> list[str]:
    """What is wrong with the deployment after a run (empty: nothing)."""
    from sqlalchemy import func, select

    _bare_app_package()
    from app.runtime import Runtime
    from credentials.dataintegrity import verification_method_from_document, verify
    from issuer.store.tables import issued_credentials
    from ledger.receipt import Receipt, verify_receipt
    from schemas.logentry import entry_bytes

    problems: list[str] = []
    runtime = Runtime(_settings(data_dir, database_url, cryptosuite))
    try:
        with runtime.engine.connect() as conn:
            count, numbers = conn.execute(
                select(func.count(), func.count(func.distinct(issued_credentials.c.label_number)))
            ).one()
            ids = list(conn.execute(select(issued_credentials.c.credential_id)).scalars())
        size = runtime.store.latest_checkpoint().tree_size
        if count != expected:
            problems.append(f"{count} credentials stored, {expected} issued")
        if numbers != count:
            problems.append(f"{count - numbers} duplicate label numbers")
        if size != count:
            problems.append(f"log size {size} != {count} credentials")
        did_document = runtime.did_document(ORG_SLUG)

        def resolve(method_id: str) -> Any:
            return verification_method_from_document(did_document, method_id)

        for credential_id in random.Random(SEED).sample(ids, min(VERIFY_SAMPLE, len(ids))):
            issued = runtime.issuer.issued(credential_id)
            verify(issued.credential, resolve_method=resolve)
            used = issued.credential["proof"]["cryptosuite"]
            if used != cryptosuite:
                problems.append(f"{credential_id}: signed with {used}, not {cryptosuite}")
            verify_receipt(
                Receipt.from_json(issued.receipt), entry_bytes(issued.entry), runtime.log_verifier
            )
    finally:
        runtime.close()
    return problems


# -- the stage profile ----------------------------------------------------------------------

STAGES = (
    ("total", "issue_label (whole call)"),
    ("validate", "request validation (LabelRequest schema)"),
    ("number", "label-number allocation (DB write txn)"),
    ("status", "status-index allocation (DB write txn)"),
    ("build", "build credential (incl. schema validation)"),
    ("build.validate", "  of which schema validation (request again + credential)"),
    ("sign", "sign (Data Integrity proof, and the signed document's JCS)"),
    ("sign.canon", "  of which canonicalization (document + proof config)"),
    ("sign.ed25519", "  of which Ed25519"),
    ("entry", "log entry and store row (digest, entry bytes, row JSON)"),
    ("append", "log commit (sequencer wait)"),
    ("receipt", "receipt generation"),
    ("integrate", "sequencer thread: integrate (entries, tiles, checkpoint, rows)"),
)


class _Timers:
    """Wall and thread-CPU seconds per stage, from any thread."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def wrap(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            wall0, cpu0 = time.perf_counter(), time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
                with self._lock:
                    self.wall[stage] = self.wall.get(stage, 0.0) + wall
                    self.cpu[stage] = self.cpu.get(stage, 0.0) + cpu
                    self.calls[stage] = self.calls.get(stage, 0) + 1

        return timed


@contextmanager
def _instrumented(timers: _Timers) -> Iterator[None]:
    """Wrap the stages of issue_label where the service looks them up (restored after)."""
    import credentials.dataintegrity as dataintegrity
    import issuer.allocate as allocate
    import issuer.build as build
    import issuer.service as service
    from credentials.multikey import Ed25519KeyPair
    from ledger.sequencer import Sequencer
    from ledger.store.log import LogStore

    patches: list[tuple[Any, str, str]] = [
        (service.IssuerService, "issue_label", "total"),
        (service, "validate", "validate"),
        (allocate.Allocator, "label_sequence", "number"),
        (service.IssuerService, "_allocate", "status"),
        (build, "build_label_credential", "build"),
        (build, "validate", "build.validate"),
        (service, "sign_serialized", "sign"),
        (dataintegrity, "_canonical", "sign.canon"),
        (dataintegrity, "JcsMembers", "sign.canon"),
        (Ed25519KeyPair, "sign", "sign.ed25519"),
        (service.IssuerService, "_pending", "entry"),
        (Sequencer, "append", "append"),
        (LogStore, "receipt", "receipt"),
        (Sequencer, "_commit", "integrate"),
    ]
    saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in patches]
    try:
        for owner, name, stage in patches:
            setattr(owner, name, timers.wrap(stage, getattr(owner, name)))
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def _profile(cryptosuite: str, labels: int, threads: int) -> list[dict[str, Any]]:
    """Stage shares of a single-process issuance of ``labels`` labels on SQLite."""
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="issuance-profile-") as data_dir:
        _setup(data_dir, None, cryptosuite)
        spec = {
            "data_dir": data_dir,
            "database_url": None,
            "cryptosuite": cryptosuite,
            "first": 0,
            "count": labels + WARMUP,
        }
        runtime, principal, requests = _open(spec)
        try:
            _issue_all(runtime, principal, requests[:WARMUP], WARMUP)
            timers = _Timers()
            with _instrumented(timers):
                cpu0, t0 = os.times(), time.perf_counter()
                latencies, _ = _issue_all(runtime, principal, requests[WARMUP:], threads)
                t1, cpu1 = time.perf_counter(), os.times()
        finally:
            runtime.close()
    process_cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    wall_sum = sum(latencies)
    accounted = ("validate", "number", "status", "build", "sign", "entry", "append", "receipt")
    for stage, label in STAGES:
        wall = timers.wall.get(stage, 0.0)
        cpu = timers.cpu.get(stage, 0.0)
        rows.append(
            {
                "kind": "stages",
                "cryptosuite": cryptosuite,
                "stage": label,
                "calls": timers.calls.get(stage, 0),
                "wall_ms_per_label": 1000 * wall / labels,
                "wall_share": wall / wall_sum,
                "cpu_ms_per_label": 1000 * cpu / labels,
                "cpu_share": cpu / process_cpu,
            }
        )
    rest_wall = timers.wall["total"] - sum(timers.wall.get(s, 0.0) for s in accounted)
    rest_cpu = (
        process_cpu
        - sum(timers.cpu.get(s, 0.0) for s in accounted)
        - timers.cpu.get("integrate", 0.0)
    )
    rows.append(
        {
            "kind": "stages",
            "cryptosuite": cryptosuite,
            "stage": "rest (process CPU not in a stage above; wall: rest of issue_label)",
            "calls": None,
            "wall_ms_per_label": 1000 * rest_wall / labels,
            "wall_share": rest_wall / wall_sum,
            "cpu_ms_per_label": 1000 * rest_cpu / labels,
            "cpu_share": rest_cpu / process_cpu,
        }
    )
    rows.append(
        {
            "kind": "stages",
            "cryptosuite": cryptosuite,
            "stage": f"process: {labels} labels in {t1 - t0:.2f} s = {labels / (t1 - t0):.0f}/s, "
            f"CPU {process_cpu:.2f} s",
            "calls": None,
            "wall_ms_per_label": 1000 * wall_sum / labels,
            "wall_share": 1.0,
            "cpu_ms_per_label": 1000 * process_cpu / labels,
            "cpu_share": 1.0,
        }
    )
    return rows


# -- the suite ------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    from rich.console import Console

    console = Console(stderr=True)
    total = args.iss_labels or (1_000 if args.quick else 10_000)
    profile_labels = args.iss_profile_labels
    if profile_labels is None:
        profile_labels = 300 if args.quick else 1_000
    suites = [s for s in args.iss_suites.split(",") if s]
    backends = [b for b in args.iss_backends.split(",") if b]
    if "postgres" in backends and not args.iss_postgres_url:
        console.print("postgres skipped: no PostgreSQL URL configured")
        backends.remove("postgres")
    modes = list(MODES) if args.iss_mode == "both" else [args.iss_mode]
    rows: list[dict[str, Any]] = []
    for backend in backends:
        for cryptosuite in suites:
            for mode in modes:
                console.print(f"{backend} {cryptosuite} {mode}: {total} labels ...")
                rows.append(_throughput_row(backend, cryptosuite, mode, total, args))
    if profile_labels:
        for cryptosuite in suites:
            console.print(f"stage profile {cryptosuite}: {profile_labels} labels, 1 process ...")
            rows += _profile(cryptosuite, profile_labels, args.iss_threads)
    return rows


def _throughput_row(
    backend: str, cryptosuite: str, mode: str, total: int, args: argparse.Namespace
) -> dict[str, Any]:
    """One throughput run on a fresh deployment, with its post-run checks."""
    with _target(backend, args.iss_postgres_url) as (data_dir, database_url):
        _setup(data_dir, database_url, cryptosuite)
        result = _throughput(data_dir, database_url, cryptosuite, total, args, mode)
        expected = total + WARMUP * result["workers"]
        problems = _check(data_dir, database_url, cryptosuite, expected)
    target = TARGETS[cryptosuite] if backend == "sqlite" else None
    return {
        "kind": "throughput",
        "backend": backend,
        "cryptosuite": cryptosuite,
        **result,
        "target_per_s": target,
        "met": None if target is None else result["labels_per_s"] >= target,
        "checks": "; ".join(problems) or "ok",
    }


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def tables(rows: list[dict[str, Any]]) -> list[TableSpec]:
    specs = []
    throughput = [r for r in rows if r["kind"] == "throughput"]
    if throughput:
        columns = [
            "backend",
            "cryptosuite",
            "mode",
            "workers×threads",
            "labels",
            "s",
            "labels/s",
            "target",
            "met (margin)",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "CPU ms/label",
            "load1 start→end",
            "checks",
        ]
        body = []
        for r in throughput:
            target = r["target_per_s"]
            met = "" if target is None else f"{_fmt(r['met'])} ({r['labels_per_s'] / target:.0%})"
            body.append(
                [
                    r["backend"],
                    r["cryptosuite"],
                    r.get("mode", "per-request"),
                    f"{r['workers']}×{r['threads']}",
                    _fmt(r["labels"]),
                    _fmt(r["seconds"], 2),
                    _fmt(r["labels_per_s"], 0),
                    _fmt(target, 0),
                    met,
                    _fmt(r["p50_ms"]),
                    _fmt(r["p95_ms"]),
                    _fmt(r["p99_ms"]),
                    _fmt(r["cpu_ms_per_label"], 2),
                    f"{r['load1_start']:.2f}→{r['load1_end']:.2f}",
                    r["checks"],
                ]
            )
        specs.append(TableSpec("issuance: end-to-end throughput", columns, body))
    for suite in CRYPTOSUITES:
        stages = [r for r in rows if r["kind"] == "stages" and r["cryptosuite"] == suite]
        if not stages:
            continue
        columns = ["stage", "calls", "wall ms/label", "wall share", "CPU ms/label", "CPU share"]
        body = [
            [
                r["stage"],
                _fmt(r["calls"]),
                _fmt(r["wall_ms_per_label"], 3),
                f"{r['wall_share']:.1%}",
                _fmt(r["cpu_ms_per_label"], 3),
                f"{r['cpu_share']:.1%}",
            ]
            for r in stages
        ]
        specs.append(TableSpec(f"issuance: stage profile, {suite}, 1 process", columns, body))
    return specs


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["--worker"]:
        return worker(arguments[1:])
    from bench.__main__ import main as bench_main

    return bench_main([NAME, *arguments])


if __name__ == "__main__":
    sys.exit(main())
