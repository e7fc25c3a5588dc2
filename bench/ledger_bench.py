"""The transparency log against pymerkle 7: durable appends, proofs, memory.

Every measured system runs in a subprocess of its own (this module run as
``python -m bench.ledger_bench --system ...``); the parent reads the child's
``ru_maxrss`` from ``wait4`` and never holds a log itself. All systems append the
same entries: realistic ~300-byte JSON log lines generated deterministically
per batch, so the generator never holds the whole log and its cost is kept out
of the timings.

Systems:

``ours-sqlite``        :class:`ledger.store.log.LogStore` on a SQLite file (WAL,
                       ``synchronous=FULL``); one ``integrate`` per batch, which
                       writes entries, hash tiles with their interiors and a signed
                       checkpoint (entry bundles are assembled from entries when served).
``ours-postgres``      the same on PostgreSQL (a fresh schema, dropped afterwards),
                       when ``--postgres-url``/``CARBONLABEL_BENCH_POSTGRES_URL``/
                       ``CARBONLABEL_TEST_POSTGRES_URL`` is set.
``pymerkle-sqlite``    ``pymerkle.SqliteTree`` with its defaults (sha256, security
                       prefixes on, subroot cache threshold 128, 1 GiB capacity;
                       Python sqlite3 defaults: rollback journal, SQLite's default
                       ``synchronous=FULL``); one ``append_entries(batch)`` per batch,
                       i.e. one durable commit per batch, as ours.
``pymerkle-inmemory``  ``pymerkle.InmemoryTree`` (not durable; reference only);
                       ``append_entries(batch)``, which appends leaf by leaf.

Proofs are timed one call at a time on the final tree. *cold*: a new store object
for every proof (``LogStore(engine)`` with an empty tile cache, the engine's
connection pool kept; a new ``SqliteTree(path)`` with an empty subroot cache,
its constructor outside the timing). *warm*: one store object, first exercised
with as many other random requests as are measured. Cold pymerkle proofs read
and hash up to half the tree each, so they are sampled within a time budget.
"""

from __future__ import annotations

import abc
import argparse
import hashlib
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench import TableSpec, fmt

NAME = "ledger"

SYSTEMS = ("ours-sqlite", "ours-postgres", "pymerkle-sqlite", "pymerkle-inmemory")
ORIGIN = "bench.carbonlabel.local/log"
SEED = 20261124
TRACED_BATCHES = 4
"""Batches appended after the timed ones with tracemalloc on (its overhead stays out)."""

SQLITE_APPEND_TARGET = 20_000.0
POSTGRES_APPEND_TARGET = 10_000.0
PROOF_MEDIAN_TARGET_MS = 0.2
PROOF_SPEEDUP_TARGET = 10.0

_BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
_TYPES = ["VerifiableCredential", "ProductCarbonFootprintCredential"]


# -- options --------------------------------------------------------------------


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
        help="comma-separated systems to measure (default: all available)",
    )
    group.add_argument("--batch", type=int, default=4096, help="entries per append batch")
    group.add_argument(
        "--proof-samples", type=int, default=None, help="proofs timed per set (default 2000)"
    )
    group.add_argument(
        "--cold-budget",
        type=float,
        default=None,
        help="seconds per set for cold pymerkle proofs (default 30)",
    )
    group.add_argument(
        "--postgres-url",
        default=os.environ.get("CARBONLABEL_BENCH_POSTGRES_URL")
        or os.environ.get("CARBONLABEL_TEST_POSTGRES_URL")
        or "",
        help="PostgreSQL server for ours-postgres (default: $CARBONLABEL_BENCH_POSTGRES_URL "
        "or $CARBONLABEL_TEST_POSTGRES_URL)",
    )


# -- entries ----------------------------------------------------------------------


def make_batch(first: int, count: int) -> list[bytes]:
    """Entries ``first .. first + count - 1``: the same bytes in every process."""
    rng = random.Random(f"{SEED}/{first}")
    batch = []
    for index in range(first, first + count):
        line = {
            "kind": "issue" if rng.random() < 0.9 else "revoke",
            "credential": f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}",
            "digest": f"sha256:{rng.getrandbits(256):064x}",
            "issuer": f"did:web:issuer-{rng.randrange(500):03d}.labels.example.com",
            "types": _TYPES,
            "gtin": f"0{rng.randrange(10**12):012d}",
            "validFrom": (_BASE_TIME + timedelta(seconds=index * 7)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "statusIndex": index,
        }
        batch.append(json.dumps(line, separators=(",", ":")).encode())
    return batch


def batches(start: int, stop: int, size: int) -> Iterator[tuple[int, int]]:
    for first in range(start, stop, size):
        yield first, min(size, stop - first)


# -- the systems, inside the worker ----------------------------------------------------


class System(abc.ABC):
    """One measured system: append batches, open sessions to prove from, report its root."""

    cold_proofs = True

    @abc.abstractmethod
    def append(self, entries: list[bytes]) -> None: ...

    @abc.abstractmethod
    def root(self) -> bytes: ...

    @abc.abstractmethod
    def session(self) -> Any:
        """A new store object to prove from, with empty caches."""
        ...

    def release(self, session: Any) -> None:  # noqa: B027 - optional hook
        """Give back a proving session (nothing to do by default)."""

    @abc.abstractmethod
    def inclusion(self, session: Any, index: int) -> bytes:
        """The RFC 9162 inclusion proof of 0-based ``index`` in the whole tree, concatenated."""
        ...

    @abc.abstractmethod
    def consistency(self, session: Any, old_size: int) -> object: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the system holds (nothing by default)."""


class Ours(System):
    def __init__(self, url: str) -> None:
        from ledger.checkpoint import Checkpoint, sign_checkpoint
        from ledger.note import NoteSigner
        from ledger.store.engine import make_engine
        from ledger.store.log import LogStore

        signer = NoteSigner.generate(ORIGIN)

        def sign(checkpoint: Checkpoint) -> str:
            return sign_checkpoint(checkpoint, signer)

        self.sign = sign
        self.engine = make_engine(url)
        self.store = LogStore(self.engine)
        self.store.initialise(ORIGIN, sign, datetime.now(UTC))

    def append(self, entries: list[bytes]) -> None:
        self.store.integrate(entries, self.sign, datetime.now(UTC))

    def root(self) -> bytes:
        return bytes(self.store.latest_checkpoint().root)

    def session(self) -> Any:
        return type(self.store)(self.engine)

    def inclusion(self, session: Any, index: int) -> bytes:
        return b"".join(session.inclusion_proof(index))

    def consistency(self, session: Any, old_size: int) -> object:
        return session.consistency_proof(old_size)

    def check(self, index: int, old_size: int) -> None:
        """Verify one inclusion and one consistency proof against the signed roots."""
        from ledger.proof import verify_consistency, verify_inclusion
        from ledger.rfc9162 import hash_leaf

        latest = self.store.latest_checkpoint()
        proof = self.store.inclusion_proof(index)
        leaf_hash = hash_leaf(self.store.entry(index))
        verify_inclusion(index, latest.tree_size, leaf_hash, proof, latest.root)
        old = self.store.checkpoint_at(old_size)
        assert old is not None, f"no checkpoint at {old_size}"
        proof = self.store.consistency_proof(old_size)
        verify_consistency(old_size, latest.tree_size, proof, old.root, latest.root)

    def close(self) -> None:
        self.engine.dispose()


class PymerkleSqlite(System):
    def __init__(self, path: str) -> None:
        import pymerkle

        self._tree_class = pymerkle.SqliteTree
        self.path = path
        self.tree = pymerkle.SqliteTree(path)

    def append(self, entries: list[bytes]) -> None:
        self.tree.append_entries(entries)

    def root(self) -> bytes:
        with self._tree_class(self.path) as tree:
            return bytes(tree.get_root())

    def session(self) -> Any:
        return self._tree_class(self.path)

    def release(self, session: Any) -> None:
        session.close()

    def inclusion(self, session: Any, index: int) -> bytes:
        proof = session.prove_inclusion(index + 1, session.get_size())
        return b"".join(proof.path[1:])  # path[0] is the leaf hash itself

    def consistency(self, session: Any, old_size: int) -> object:
        return session.prove_consistency(old_size, session.get_size())

    def close(self) -> None:
        self.tree.close()


class PymerkleInmemory(PymerkleSqlite):
    cold_proofs = False

    def __init__(self) -> None:
        import pymerkle

        self.tree = pymerkle.InmemoryTree()

    def root(self) -> bytes:
        return bytes(self.tree.get_root())

    def session(self) -> Any:
        return self.tree

    def release(self, session: Any) -> None:
        """The tree object is shared: nothing to give back."""

    def close(self) -> None:
        pass


# -- the worker ---------------------------------------------------------------------


def _hwm_kib() -> int:
    """This process's peak resident set so far (VmHWM), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _percentiles(samples_ns: Sequence[int]) -> dict[str, float]:
    ordered = sorted(samples_ns)
    return {
        "median_ms": statistics.median(ordered) / 1e6,
        "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] / 1e6,
        "mean_ms": statistics.fmean(ordered) / 1e6,
        "max_ms": ordered[-1] / 1e6,
    }


def _time_proofs(
    system: System,
    cold: bool,
    requests: tuple[Sequence[int], Sequence[int]],
    warmup: tuple[Sequence[int], Sequence[int]],
    budget: float | None,
) -> tuple[dict[str, dict[str, Any]], bytes]:
    """Time inclusion then consistency proofs; per-kind statistics and the first proof.

    Cold: a new session (store object) per proof, opened and released untimed.
    Warm: one new session, first given the ``warmup`` requests untimed.
    """
    shared = None if cold else system.session()
    if shared is not None:
        for index in warmup[0]:
            system.inclusion(shared, index)
        for old_size in warmup[1]:
            system.consistency(shared, old_size)
    results: dict[str, dict[str, Any]] = {}
    first_proof = b""
    for kind, arguments in zip(("inclusion", "consistency"), requests, strict=True):
        call = system.inclusion if kind == "inclusion" else system.consistency
        samples: list[int] = []
        deadline = None if budget is None else time.monotonic() + budget
        for argument in arguments:
            session = shared if shared is not None else system.session()
            start = time.perf_counter_ns()
            value = call(session, argument)
            samples.append(time.perf_counter_ns() - start)
            if shared is None:
                system.release(session)
            if isinstance(value, bytes) and not first_proof:
                first_proof = value
            if deadline is not None and time.monotonic() > deadline and len(samples) >= 5:
                break
        results[kind] = {"samples": len(samples), **_percentiles(samples)}
    if shared is not None:
        system.release(shared)
    return results, first_proof


def worker(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger_bench")
    parser.add_argument("--system", choices=SYSTEMS, required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--target", required=True, help="database URL or directory")
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--proof-samples", type=int, required=True)
    parser.add_argument("--cold-budget", type=float, required=True)
    args = parser.parse_args(argv)

    system: System
    if args.system.startswith("ours"):
        system = Ours(args.target)
    elif args.system == "pymerkle-sqlite":
        system = PymerkleSqlite(str(Path(args.target) / "pymerkle.db"))
    else:
        system = PymerkleInmemory()

    # 1. durable appends: only the append calls are timed, never entry generation.
    elapsed_ns = 0
    for first, count in batches(0, args.size, args.batch):
        entries = make_batch(first, count)
        start = time.perf_counter_ns()
        system.append(entries)
        elapsed_ns += time.perf_counter_ns() - start
    hwm_after_timed = _hwm_kib()

    # A few more batches under tracemalloc: the Python heap of steady-state appends.
    tracemalloc.start()
    traced_from = args.size
    size = args.size + TRACED_BATCHES * args.batch
    for first, count in batches(traced_from, size, args.batch):
        entries = make_batch(first, count)
        system.append(entries)
        del entries
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # 2. proofs on the final tree.
    rng = random.Random(f"{SEED}/proofs/{size}")
    samples = args.proof_samples
    indexes = [rng.randrange(size) for _ in range(samples)]
    old_sizes = [rng.randrange(1, size + 1) for _ in range(samples)]
    warmup = (
        [rng.randrange(size) for _ in range(samples)],
        [rng.randrange(1, size + 1) for _ in range(samples)],
    )
    proofs: dict[str, Any] = {}
    first_proof = b""
    for cold in (True, False):
        if cold and not system.cold_proofs:
            continue
        budget = args.cold_budget if cold and isinstance(system, PymerkleSqlite) else None
        stats, proof = _time_proofs(system, cold, (indexes, old_sizes), warmup, budget)
        proofs["cold" if cold else "warm"] = stats
        first_proof = first_proof or proof
    if isinstance(system, Ours):
        system.check(indexes[0], args.size)

    root = system.root()
    system.close()
    disk = None
    if args.system in ("ours-sqlite", "pymerkle-sqlite"):
        directory = Path(args.target.removeprefix("sqlite:///")).parent
        if args.system == "pymerkle-sqlite":
            directory = Path(args.target)
        disk = sum(path.stat().st_size for path in directory.iterdir() if path.is_file())
    result = {
        "system": args.system,
        "size": args.size,
        "final_size": size,
        "batch": args.batch,
        "append_seconds": elapsed_ns / 1e9,
        "append_per_s": args.size / (elapsed_ns / 1e9),
        "hwm_after_append_kib": hwm_after_timed,
        "traced_batches": TRACED_BATCHES,
        "tracemalloc_peak_bytes": peak,
        "tracemalloc_retained_bytes": current,
        "proofs": proofs,
        "proof_of_first_index_sha256": hashlib.sha256(first_proof).hexdigest(),
        "root": root.hex(),
        "disk_bytes": disk,
    }
    args.result.write_text(json.dumps(result, indent=2) + "\n")
    return 0


# -- the parent -----------------------------------------------------------------------


def _pg_admin_url(url: str) -> str:
    from ledger.store.engine import normalise_url

    return normalise_url(url)


def _postgres_server(url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(_pg_admin_url(url))
    try:
        with engine.connect() as conn:
            version = conn.execute(text("show server_version")).scalar_one()
            settings = {
                name: conn.execute(text(f"show {name}")).scalar_one()
                for name in ("fsync", "synchronous_commit", "full_page_writes")
            }
    finally:
        engine.dispose()
    return f"PostgreSQL {version} " + " ".join(f"{k}={v}" for k, v in settings.items())


class _Target:
    """Where a worker keeps its log: a temporary directory, and a schema for PostgreSQL."""

    def __init__(self, system: str, postgres_url: str) -> None:
        self.system = system
        self.postgres_url = postgres_url
        self.schema = ""
        self.directory = ""

    def __enter__(self) -> str:
        self.directory = tempfile.mkdtemp(prefix=f"bench-{self.system}-")
        if self.system == "ours-sqlite":
            return f"sqlite:///{self.directory}/log.db"
        if self.system == "ours-postgres":
            from sqlalchemy import create_engine, text

            self.schema = f"bench_{secrets.token_hex(6)}"
            admin = create_engine(_pg_admin_url(self.postgres_url), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            admin.dispose()
            separator = "&" if "?" in self.postgres_url else "?"
            options = quote(f"-csearch_path={self.schema}")
            return f"{self.postgres_url}{separator}options={options}"
        return self.directory

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
        if self.schema:
            from sqlalchemy import create_engine, text

            admin = create_engine(_pg_admin_url(self.postgres_url), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            admin.dispose()


def _run_worker(system: str, size: int, args: argparse.Namespace) -> dict[str, Any]:
    samples = args.proof_samples or (200 if args.quick else 2000)
    budget = args.cold_budget if args.cold_budget is not None else (5.0 if args.quick else 30.0)
    with _Target(system, args.postgres_url) as target, tempfile.TemporaryDirectory() as scratch:
        result_path = Path(scratch) / "result.json"
        command = [
            sys.executable,
            "-m",
            "bench.ledger_bench",
            f"--system={system}",
            f"--size={size}",
            f"--batch={args.batch}",
            f"--target={target}",
            f"--result={result_path}",
            f"--proof-samples={samples}",
            f"--cold-budget={budget}",
        ]
        root = Path(__file__).resolve().parent.parent
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
        }
        started = time.monotonic()
        child = subprocess.Popen(command, cwd=root, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise RuntimeError(f"{system} at {size:,} failed with exit code {child.returncode}")
        result: dict[str, Any] = json.loads(result_path.read_text())
    result["maxrss_kib"] = usage.ru_maxrss  # Linux: KiB
    result["wall_seconds"] = time.monotonic() - started
    return result


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    from rich.console import Console

    console = Console(stderr=True)
    sizes = args.sizes or ([10_000] if args.quick else [100_000, 1_000_000])
    wanted = [name.strip() for name in args.systems.split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(SYSTEMS))
    if unknown:
        raise SystemExit(f"unknown systems: {', '.join(unknown)} (known: {', '.join(SYSTEMS)})")
    server = ""
    if "ours-postgres" in wanted:
        if args.postgres_url:
            server = _postgres_server(args.postgres_url)
        else:
            console.print("ours-postgres skipped: no PostgreSQL URL configured")
            wanted.remove("ours-postgres")

    rows: list[dict[str, Any]] = []
    for size in sizes:
        for system in wanted:
            console.print(f"[bold]{system}[/] at {size:,} entries …")
            result = _run_worker(system, size, args)
            console.print(
                f"  {result['append_per_s']:,.0f} entries/s, "
                f"maxrss {result['maxrss_kib'] / 1024:,.0f} MiB, "
                f"{result['wall_seconds']:,.0f} s in all"
            )
            rows += _rows(result, server if system == "ours-postgres" else "")
    rows += _cross_checks(rows)
    rows += _targets(rows)
    return rows


# -- rows, targets, tables ---------------------------------------------------------------


def _rows(result: dict[str, Any], server: str) -> list[dict[str, Any]]:
    system, size = result["system"], result["size"]
    rows: list[dict[str, Any]] = [
        {
            "kind": "append",
            "system": system,
            "size": size,
            "entries_per_s": result["append_per_s"],
            "seconds": result["append_seconds"],
            "batch": result["batch"],
            "disk_bytes": result["disk_bytes"],
            "root": result["root"],
            "server": server or None,
        },
        {
            "kind": "memory",
            "system": system,
            "size": size,
            "final_size": result["final_size"],
            "maxrss_mib": result["maxrss_kib"] / 1024,
            "hwm_after_append_mib": result["hwm_after_append_kib"] / 1024,
            "tracemalloc_peak_mib": result["tracemalloc_peak_bytes"] / 2**20,
            "tracemalloc_retained_mib": result["tracemalloc_retained_bytes"] / 2**20,
            "traced_entries": result["traced_batches"] * result["batch"],
        },
    ]
    for cache, kinds in result["proofs"].items():
        for proof, stats in kinds.items():
            rows.append(
                {
                    "kind": "proof",
                    "system": system,
                    "size": size,
                    "tree_size": result["final_size"],
                    "proof": proof,
                    "cache": cache,
                    **stats,
                    "first_inclusion_proof_sha256": result["proof_of_first_index_sha256"],
                }
            )
    return rows


def _cross_checks(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every system must have built the same tree and the same first inclusion proof."""
    checks = []
    for size in sorted({row["size"] for row in rows if row["kind"] == "append"}):
        roots = {
            row["system"]: row["root"]
            for row in rows
            if row["kind"] == "append" and row["size"] == size
        }
        proofs = {
            row["system"]: row["first_inclusion_proof_sha256"]
            for row in rows
            if row["kind"] == "proof" and row["size"] == size
        }
        checks.append(
            {
                "kind": "check",
                "size": size,
                "same_root": len(set(roots.values())) == 1,
                "same_inclusion_proof": len(set(proofs.values())) <= 1,
                "systems": ", ".join(roots),
            }
        )
    return checks


def _find(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    for row in rows:
        if all(row.get(key) == value for key, value in match.items()):
            return row
    return None


def _target(
    name: str, measured: float, target: float, higher_is_better: bool, unit: str
) -> dict[str, Any]:
    met = measured >= target if higher_is_better else measured <= target
    ratio = measured / target if higher_is_better else target / measured
    return {
        "kind": "target",
        "target": name,
        "goal": f"{'≥' if higher_is_better else '≤'} {target:,.4g} {unit}",
        "measured": f"{measured:,.4g} {unit}",
        "met": met,
        "margin": f"{ratio:.2f}× the goal"
        if met
        else f"{ratio:.2f}× (short by {(1 - ratio) * 100:.0f} %)",
    }


def _targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    targets = []
    appends = [row for row in rows if row["kind"] == "append"]
    for row in appends:
        size = row["size"]
        if row["system"] == "ours-sqlite":
            targets.append(
                _target(
                    f"append, SQLite, {size:,}",
                    row["entries_per_s"],
                    SQLITE_APPEND_TARGET,
                    True,
                    "entries/s",
                )
            )
        if row["system"] == "ours-postgres":
            targets.append(
                _target(
                    f"append, PostgreSQL, {size:,}",
                    row["entries_per_s"],
                    POSTGRES_APPEND_TARGET,
                    True,
                    "entries/s",
                )
            )
        if row["system"].startswith("ours"):
            for other in ("pymerkle-sqlite", "pymerkle-inmemory"):
                theirs = _find(appends, system=other, size=size)
                if theirs is not None:
                    targets.append(
                        _target(
                            f"append {row['system']} vs {other}, {size:,}",
                            row["entries_per_s"] / theirs["entries_per_s"],
                            1.0,
                            True,
                            "× theirs",
                        )
                    )
    proofs = [row for row in rows if row["kind"] == "proof"]
    largest = max((row["size"] for row in proofs), default=None)
    for row in proofs:
        if not row["system"].startswith("ours") or row["size"] != largest:
            continue
        label = f"{row['proof']} {row['cache']}, {row['system']}, {row['size']:,}"
        targets.append(
            _target(f"median {label}", row["median_ms"], PROOF_MEDIAN_TARGET_MS, False, "ms")
        )
        theirs = _find(
            proofs,
            system="pymerkle-sqlite",
            size=row["size"],
            proof=row["proof"],
            cache=row["cache"],
        )
        if theirs is not None:
            targets.append(
                _target(
                    f"speed-up vs pymerkle-sqlite, {label}",
                    theirs["median_ms"] / row["median_ms"],
                    PROOF_SPEEDUP_TARGET,
                    True,
                    "×",
                )
            )
    return targets


def _fmt(value: Any, digits: int = 3) -> str:
    return fmt(value, digits)


def tables(rows: list[dict[str, Any]]) -> list[TableSpec]:
    """Systems side by side: appends, proofs, memory, cross-checks and targets."""
    specs = []
    appends = [row for row in rows if row["kind"] == "append"]
    specs.append(
        TableSpec(
            "Durable append (batches of 4096; ours also writes tiles, interiors, checkpoints)",
            ["system", "entries", "entries/s", "seconds", "on disk (MiB)"],
            [
                [
                    row["system"],
                    _fmt(row["size"]),
                    _fmt(row["entries_per_s"]),
                    _fmt(row["seconds"], 1),
                    _fmt(None if row["disk_bytes"] is None else row["disk_bytes"] / 2**20, 0),
                ]
                for row in appends
            ],
        )
    )
    proofs = [row for row in rows if row["kind"] == "proof"]
    specs.append(
        TableSpec(
            "Proof generation (one call, ms)",
            ["system", "tree size", "proof", "cache", "samples", "median", "p95", "mean"],
            [
                [
                    row["system"],
                    _fmt(row["tree_size"]),
                    row["proof"],
                    row["cache"],
                    _fmt(row["samples"]),
                    _fmt(row["median_ms"]),
                    _fmt(row["p95_ms"]),
                    _fmt(row["mean_ms"]),
                ]
                for row in proofs
            ],
        )
    )
    memory = [row for row in rows if row["kind"] == "memory"]
    specs.append(
        TableSpec(
            "Memory (MiB): peak RSS of the child process; tracemalloc over "
            f"{TRACED_BATCHES} extra batches",
            [
                "system",
                "entries",
                "peak RSS (whole run)",
                "peak RSS after appends",
                "tracemalloc peak",
                "tracemalloc retained",
            ],
            [
                [
                    row["system"],
                    _fmt(row["size"]),
                    _fmt(row["maxrss_mib"], 0),
                    _fmt(row["hwm_after_append_mib"], 0),
                    _fmt(row["tracemalloc_peak_mib"], 1),
                    _fmt(row["tracemalloc_retained_mib"], 1),
                ]
                for row in memory
            ],
        )
    )
    checks = [row for row in rows if row["kind"] == "check"]
    specs.append(
        TableSpec(
            "Cross-checks (same entries → same RFC 9162 root and proofs)",
            ["entries", "same root", "same first inclusion proof", "systems"],
            [
                [
                    _fmt(row["size"]),
                    _fmt(row["same_root"]),
                    _fmt(row["same_inclusion_proof"]),
                    row["systems"],
                ]
                for row in checks
            ],
        )
    )
    targets = [row for row in rows if row["kind"] == "target"]
    specs.append(
        TableSpec(
            "Targets",
            ["target", "goal", "measured", "met", "margin"],
            [
                [
                    row["target"],
                    row["goal"],
                    row["measured"],
                    "met" if row["met"] else "NOT met",
                    row["margin"],
                ]
                for row in targets
            ],
        )
    )
    return specs


if __name__ == "__main__":
    sys.exit(worker(sys.argv[1:]))
