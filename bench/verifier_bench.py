"""Verifier throughput: the library, VC-API verify and the consumer scan page under wrk.

For each cryptosuite (``CARBONLABEL_CRYPTOSUITE`` of the issuing deployment) and
each store of ``--ver-stores`` (``sqlite,postgres``) a fresh deployment is seeded
by ``carbonlabel log init`` + ``carbonlabel demo`` (128 labels, 64 graded,
``public_url`` on the port the server will use): ``sqlite`` is the default
store, a file in a temporary data dir; ``postgres`` is a fresh schema (dropped
afterwards) on ``--ver-postgres-url`` (``$CARBONLABEL_BENCH_POSTGRES_URL``, else
``$CARBONLABEL_TEST_POSTGRES_URL``, else the local test server), reached through
``?options=-csearch_path=<schema>`` as the tests do; an unreachable server skips
that store with a row saying so. The server processes run as deployed, with the
status-freshness mechanism on (every worker reads the status-list generation at
most every ``STATUS_POLL_INTERVAL``, app/verifying.py). Then:

``library``  in one process pinned to ``--ver-cpu`` (this module run as ``python
             -m bench.verifier_bench --worker ...``), back-to-back calls, timed in
             rounds of ``--ver-lib-seconds`` after a warm-up; the median round:

             - ``pipeline``: :func:`verifier.pipeline.verify_credential` on a label
               bundle and on a grade bundle, with the deployment's context (its
               resolvers cache status-list documents, DID methods, rules and
               labels; the pipeline itself checks every proof on every call:
               label or grade + two status lists);
             - ``service``: :meth:`VerifierService.verify` on the same bundles (the
               verification memo answers repeats);
             - ``scan``: :meth:`VerifierService.scan` of one label (label record
               lookup, both verifications, copy rules, queued recording).

``http``     the app served for real: ``uvicorn`` with ``--factory
             app.main:create_app_from_env`` and ``--ver-workers`` (2) worker
             processes on 127.0.0.1 and a free port, started by this module
             (``--serve``) on a listening socket created with ``IPPROTO_TCP`` — the
             stock ``uvicorn --workers N`` leaves ``proto`` 0, asyncio then never
             sets ``TCP_NODELAY`` and every keep-alive response waits ~40 ms for a
             delayed ACK (uvicorn issue #3149); ``--ver-stock`` also measures the
             stock command for comparison. ``wrk`` (one thread,
             ``--ver-connections`` connections) runs ``--ver-warmup`` s untimed
             (repeated, up to 4 times, while its p99 is above 250 ms: the first
             scan of each label in each worker runs the whole pipeline), then
             ``--ver-seconds`` s timed, on:

             - ``GET /scan/{label}?gtin=…&lang=en`` cycling over every demo label;
             - ``GET /01/{gtin}`` (the 307 to the scan page) cycling likewise;
             - ``POST /credentials/verify`` with one label bundle, and one grade
               bundle.

             Latency percentiles come from wrk's own histogram (a Lua ``done``
             hook). The server is stopped with SIGTERM (its lifespan writes the
             queued scans), then the scans table is counted: every answered scan
             must be there.

``--ver-scan-only`` keeps just the scan page (no library rounds, no other
request), for the issue-10 check of the scan-page target on both stores.

Load averages are recorded before and after every timed run: the machine is
shared, and wrk runs on the same two cores as the server.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench import TableSpec, fmt

NAME = "verifier"

ROOT = Path(__file__).resolve().parent.parent
CRYPTOSUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
STORES = ("sqlite", "postgres")
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
PASSPHRASE = "bench-verifier-passphrase"
JS_QUOTED = {"eddsa-rdfc-2022": 600.0, "eddsa-jcs-2022": 2_000.0}
"""The issue's single-core figures of the JavaScript reference (verifications/s)."""
JS_LABEL = {"eddsa-rdfc-2022": 14.8, "eddsa-jcs-2022": 3_170.0}
"""The JS reference verifying our 7.6 KB label credential (bench/RESULTS-credentials.md)."""
SCAN_RPS_TARGET = 1_500.0
"""Issue 10: with the status-freshness mechanism on (issue 5 asked for 1,000)."""
SCAN_P95_TARGET_MS = 50.0
WARM_P99_US = 250_000
"""A warm-up is repeated (up to 4 times) while its p99 is above this: cold verifications."""


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--ver-seconds", type=float, default=None, help="timed wrk run (15 s)")
    group.add_argument(
        "--ver-warmup",
        type=float,
        default=None,
        help="untimed wrk run before each timed one (20 s: long enough for both workers "
        "to verify every demo label once, cold)",
    )
    group.add_argument("--ver-connections", type=int, default=16, help="wrk connections (16)")
    group.add_argument("--ver-workers", type=int, default=2, help="server worker processes (2)")
    group.add_argument(
        "--ver-lib-seconds", type=float, default=None, help="library round length (2 s)"
    )
    group.add_argument("--ver-cpu", type=int, default=0, help="CPU the library worker is pinned to")
    group.add_argument(
        "--ver-suites", default=",".join(CRYPTOSUITES), help="cryptosuites (comma-separated)"
    )
    group.add_argument(
        "--ver-stores", default=",".join(STORES), help="stores (comma-separated: sqlite,postgres)"
    )
    group.add_argument(
        "--ver-postgres-url",
        default=os.environ.get("CARBONLABEL_BENCH_POSTGRES_URL")
        or os.environ.get("CARBONLABEL_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES_URL,
        help="PostgreSQL server for the postgres store; each deployment gets a fresh schema "
        f"(default: $CARBONLABEL_BENCH_POSTGRES_URL, $CARBONLABEL_TEST_POSTGRES_URL or "
        f"{DEFAULT_POSTGRES_URL})",
    )
    group.add_argument(
        "--ver-scan-only",
        action="store_true",
        help="only the scan page under wrk (no library rounds, no other request)",
    )
    group.add_argument(
        "--ver-fast-io",
        default="",
        help="a directory holding httptools and uvloop (not project dependencies): also run "
        "the scan page with it on the server's PYTHONPATH (uvicorn then picks them)",
    )
    group.add_argument(
        "--ver-stock",
        action="store_true",
        help="also run the scan page under the stock `uvicorn --workers N` command",
    )


# -- a deployment --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _environment(
    data_dir: Path, suite: str, port: int, database_url: str | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONLABEL_")}
    if database_url:
        env["CARBONLABEL_DATABASE_URL"] = database_url
    env.update(
        {
            "CARBONLABEL_DATA_DIR": str(data_dir),
            "CARBONLABEL_KEYSTORE_PASSPHRASE": PASSPHRASE,
            "CARBONLABEL_CRYPTOSUITE": suite,
            "CARBONLABEL_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "CARBONLABEL_RATE_LIMIT_PER_MINUTE": "1000000000",
            "CARBONLABEL_SCAN_SALT": "bench-verifier-salt",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
    )
    return env


def _carbonlabel(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-c", "import sys; from app.cli import run; sys.exit(run())", *args]
    done = subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return done.stdout


def seed(data_dir: Path, suite: str, port: int, database_url: str | None = None) -> dict[str, Any]:
    """``carbonlabel log init`` + ``carbonlabel demo --json`` into ``data_dir`` (and
    ``database_url`` when given; default: SQLite in ``data_dir``)."""
    env = _environment(data_dir, suite, port, database_url)
    _carbonlabel(env, "log", "init")
    demo: dict[str, Any] = json.loads(_carbonlabel(env, "demo", "--json"))
    return {"env": env, "labels": demo["labels"]}


def _driver_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def postgres_reachable(url: str) -> str | None:
    """None if the PostgreSQL server at ``url`` answers, else why not (one line)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(_driver_url(url), pool_pre_ping=False)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # any failure to connect skips the store, with the reason
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()
    return None


@contextmanager
def store_url(store: str, postgres_url: str) -> Iterator[str | None]:
    """The database URL of a fresh deployment on ``store``: None (SQLite in the data
    dir) or a new PostgreSQL schema on ``postgres_url``, dropped when the block ends."""
    if store == "sqlite":
        yield None
        return
    import secrets

    from sqlalchemy import create_engine, text

    schema = f"bench_{secrets.token_hex(6)}"
    admin = create_engine(_driver_url(postgres_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in postgres_url else "?"
        yield f"{postgres_url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# -- the library, in a pinned process --------------------------------------------------------


def _rounds(call: Callable[[], object], warmup: float, seconds: float, rounds: int) -> list[float]:
    def run_for(budget: float) -> float:
        count = 0
        start = time.perf_counter()
        stop = start + budget
        now = start
        while now < stop:
            call()
            count += 1
            now = time.perf_counter()
        return count / (now - start)

    run_for(warmup)
    return [run_for(seconds) for _ in range(rounds)]


def worker(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.verifier_bench --worker")
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--cpu", type=int, default=0)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--rounds", type=int, required=True)
    parser.add_argument("--warmup", type=float, required=True)
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {args.cpu})

    from app.runtime import Runtime
    from app.settings import load_settings
    from app.verifying import Verifying
    from verifier.pipeline import verify_credential
    from verifier.result import Verdict

    runtime = Runtime(load_settings())
    verifying = Verifying(runtime)
    service = verifying.service
    numbers = [json.loads(line)["number"] for line in sys.stdin.read().splitlines() if line]
    record = next(
        r for r in (service.labels.by_number(n) for n in numbers) if r is not None and r.grades
    )
    label_bundle = dict(record.bundle)
    grade_bundle = dict(record.grades[-1])
    cases: dict[str, Callable[[], object]] = {}
    for name, bundle in (("label", label_bundle), ("grade", grade_bundle)):
        credential = dict(bundle["verifiableCredential"])
        first = verify_credential(credential, bundle=bundle, ctx=verifying.context())
        if first.verdict is not Verdict.GENUINE:
            raise SystemExit(f"the {name} bundle does not verify as genuine: {first}")

        def pipeline(c: dict[str, Any] = credential, b: dict[str, Any] = bundle) -> object:
            return verify_credential(c, bundle=b, ctx=verifying.context())

        def memoized(c: dict[str, Any] = credential, b: dict[str, Any] = bundle) -> object:
            return service.verify(c, b)

        cases[f"pipeline/{name}"] = pipeline
        cases[f"service/{name}"] = memoized

    def scan() -> object:
        found = service.labels.by_number(record.label_number)
        assert found is not None
        return service.scan(found, serial=None, gtin=None, region=None, client="bench|lib")

    cases["scan/label"] = scan
    results = {
        name: {
            "rates": _rounds(call, args.warmup, args.seconds, args.rounds),
            "loadavg": os.getloadavg()[0],
        }
        for name, call in cases.items()
    }
    service.close()
    runtime.close()
    args.result.write_text(json.dumps(results))
    return 0


def _library(deployment: dict[str, Any], timing: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        result = Path(scratch) / "result.json"
        command = [
            sys.executable,
            "-m",
            "bench.verifier_bench",
            "--worker",
            f"--result={result}",
            f"--cpu={timing['cpu']}",
            f"--seconds={timing['lib_seconds']}",
            f"--rounds={timing['lib_rounds']}",
            f"--warmup={timing['lib_warmup']}",
        ]
        labels = "".join(json.dumps(label) + "\n" for label in deployment["labels"])
        subprocess.run(
            command, cwd=ROOT, env=deployment["env"], input=labels, text=True, check=True
        )
        loaded: dict[str, Any] = json.loads(result.read_text())
    return loaded


# -- the server --------------------------------------------------------------------------------


def serve(argv: list[str]) -> int:
    """Run the app with N workers on a listening socket that asyncio recognises as TCP."""
    parser = argparse.ArgumentParser(prog="python -m bench.verifier_bench --serve")
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        "app.main:create_app_from_env",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
    )
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.set_inheritable(True)
    Multiprocess(config, sockets=[listener]).run()
    return 0


@contextmanager
def server(env: dict[str, str], port: int, workers: int, stock: bool) -> Iterator[None]:
    """The app on 127.0.0.1:``port`` until the block ends; stopped with SIGTERM, and
    killed (its own process group only) if it has not stopped after 30 s."""
    if stock:
        command = [
            str(Path(sys.executable).parent / "uvicorn"),
            "--factory",
            "app.main:create_app_from_env",
            "--host=127.0.0.1",
            f"--port={port}",
            f"--workers={workers}",
            "--log-level=warning",
            "--no-access-log",
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "bench.verifier_bench",
            "--serve",
            f"--port={port}",
            f"--workers={workers}",
        ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start (exit {process.poll()})")
            time.sleep(0.3)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# -- wrk --------------------------------------------------------------------------------------

_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,' ..
    '"p50":%d,"p90":%d,"p95":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max))
end
"""


def _lua_string(text: str) -> str:
    level = "=" * 4
    while f"]{level}]" in text:
        level += "="
    return f"[{level}[{text}]{level}]"


def get_script(paths: Sequence[str]) -> str:
    listed = ",\n".join(_lua_string(p) for p in paths)
    return (
        f"local paths = {{\n{listed}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n"
        "  return wrk.format(nil, paths[(i % #paths) + 1])\nend\n" + _DONE
    )


def post_script(path: str, body: str) -> str:
    return (
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {_lua_string(body)}\n"
        f"request = function()\n  return wrk.format(nil, {_lua_string(path)})\nend\n" + _DONE
    )


def wrk(port: int, script: str, seconds: float, connections: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "script.lua"
        path.write_text(script)
        load_before = os.getloadavg()[0]
        done = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout=10s",
                "-s",
                str(path),
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRKJSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRKJSON "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["load1_before"] = load_before
    result["load1_after"] = os.getloadavg()[0]
    return result


def _scan_paths(labels: Sequence[dict[str, Any]]) -> list[str]:
    paths = []
    for label in labels:
        gtin = label["uri"].split("/01/")[1][:14]
        paths.append(f"/scan/{label['number']}?gtin={gtin}&lang=en")
    return paths


def _link_paths(labels: Sequence[dict[str, Any]]) -> list[str]:
    return ["/01/" + label["uri"].split("/01/")[1] for label in labels]


def _bundle_body(port: int, number: str, grade: bool) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/labels/{number}", timeout=10) as r:
        document = json.loads(r.read())
    bundle = document
    if grade:
        grades = document.get("grades") or []
        if not grades:
            raise RuntimeError(f"label {number} has no grade")
        bundle = grades[-1]
    return json.dumps(
        {
            "verifiableCredential": bundle["verifiableCredential"],
            "logEntry": bundle["logEntry"],
            "receipt": bundle["receipt"],
        },
        ensure_ascii=False,
    )


def _count(env: dict[str, str], table: str) -> int:
    database_url = env.get("CARBONLABEL_DATABASE_URL")
    if not database_url:
        with sqlite3.connect(Path(env["CARBONLABEL_DATA_DIR"]) / "carbonlabel.db") as conn:
            count: int = conn.execute(f"select count(*) from {table}").fetchone()[0]
        return count
    from sqlalchemy import create_engine, text

    engine = create_engine(_driver_url(database_url))
    try:
        with engine.connect() as db:
            count = int(db.execute(text(f"select count(*) from {table}")).scalar_one())
    finally:
        engine.dispose()
    return count


def store_of(env: dict[str, str]) -> str:
    return "postgres" if env.get("CARBONLABEL_DATABASE_URL") else "sqlite"


def _http(
    deployment: dict[str, Any],
    suite: str,
    timing: dict[str, Any],
    stock: bool = False,
    fast_io: str = "",
    scan_only: bool = False,
) -> list[dict[str, Any]]:
    env, labels = dict(deployment["env"]), deployment["labels"]
    port = int(env["CARBONLABEL_PUBLIC_URL"].rsplit(":", 1)[1])
    store = store_of(env)
    server_name = "stock uvicorn" if stock else "uvicorn, TCP_NODELAY"
    if fast_io:
        env["PYTHONPATH"] = os.pathsep.join([fast_io, env["PYTHONPATH"]])
        server_name += " + httptools/uvloop"
    scans_before = _count(env, "verifier_scans")
    rows: list[dict[str, Any]] = []
    answered_scans = 0
    with server(env, port, timing["workers"], stock):
        runs: list[tuple[str, str]] = [("GET /scan/{label}", get_script(_scan_paths(labels)))]
        if not stock and not fast_io and not scan_only:
            runs.append(("GET /01/{gtin} (307)", get_script(_link_paths(labels))))
            graded = _graded_number(port, labels)
            for name, grade in (("label", False), ("grade", True)):
                body = _bundle_body(port, graded, grade)
                runs.append(
                    (f"POST /credentials/verify ({name})", post_script("/credentials/verify", body))
                )
        for name, script in runs:
            warmups: list[dict[str, Any]] = []
            while len(warmups) < 4:  # until a warm-up has no cold verification left in it
                warmups.append(wrk(port, script, timing["warmup"], timing["connections"]))
                if warmups[-1]["p99"] <= WARM_P99_US:
                    break
            timed = wrk(port, script, timing["seconds"], timing["connections"])
            if name.startswith("GET /scan"):
                answered_scans += sum(w["requests"] for w in warmups) + timed["requests"]
            rows.append(
                {
                    "kind": "http",
                    "cryptosuite": suite,
                    "store": store,
                    "server": server_name,
                    "request": name,
                    "connections": timing["connections"],
                    "seconds": timing["seconds"],
                    "warmups": len(warmups),
                    "requests": timed["requests"],
                    "rps": timed["rps"],
                    "p50_ms": timed["p50"] / 1000,
                    "p90_ms": timed["p90"] / 1000,
                    "p95_ms": timed["p95"] / 1000,
                    "p99_ms": timed["p99"] / 1000,
                    "max_ms": timed["max"] / 1000,
                    "errors": timed["status_errors"] + timed["socket_errors"],
                    "load1_before": timed["load1_before"],
                    "load1_after": timed["load1_after"],
                }
            )
    recorded = _count(env, "verifier_scans") - scans_before
    rows.append(
        {
            "kind": "check",
            "check": f"{suite}, {store}, {server_name}: every answered scan is recorded "
            "after shutdown "
            f"({recorded:,} rows ≥ {answered_scans:,} responses counted by wrk)",
            "ok": recorded >= answered_scans,
        }
    )
    return rows


def _graded_number(port: int, labels: Sequence[dict[str, Any]]) -> str:
    for label in labels:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/labels/{label['number']}", timeout=10
        ) as r:
            if json.loads(r.read()).get("grades"):
                return str(label["number"])
    raise RuntimeError("no demo label has a grade")


# -- the parent -------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    from rich.console import Console

    console = Console(stderr=True)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    timing = {
        "cpu": args.ver_cpu,
        "lib_seconds": args.ver_lib_seconds or (0.5 if args.quick else 2.0),
        "lib_rounds": 2 if args.quick else 5,
        "lib_warmup": 0.3 if args.quick else 1.0,
        "seconds": args.ver_seconds or (3.0 if args.quick else 15.0),
        "warmup": args.ver_warmup or (2.0 if args.quick else 20.0),
        "connections": args.ver_connections,
        "workers": args.ver_workers,
    }
    suites = [s.strip() for s in args.ver_suites.split(",") if s.strip()]
    stores = [s.strip() for s in args.ver_stores.split(",") if s.strip()]
    unknown = sorted(set(stores) - set(STORES))
    if unknown:
        raise SystemExit(f"unknown store(s) {', '.join(unknown)}: choose from {', '.join(STORES)}")
    rows: list[dict[str, Any]] = []
    if "postgres" in stores:
        why = postgres_reachable(args.ver_postgres_url)
        if why is not None:
            console.print(f"postgres skipped: {args.ver_postgres_url} is unreachable ({why})")
            rows.append(
                {
                    "kind": "check",
                    "check": f"postgres store skipped: {args.ver_postgres_url} unreachable ({why})",
                    "ok": False,
                }
            )
            stores.remove("postgres")
    for suite in suites:
        for store in stores:
            rows += _deployment_rows(args, timing, suite, store, console)
    rows += _targets(rows)
    return rows


def _deployment_rows(
    args: argparse.Namespace, timing: dict[str, Any], suite: str, store: str, console: Any
) -> list[dict[str, Any]]:
    """Every measurement on one fresh deployment (``suite`` on ``store``)."""
    rows: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="carbonlabel-verifier-bench-") as scratch,
        store_url(store, args.ver_postgres_url) as database_url,
    ):
        port = _free_port()
        console.print(f"{suite}, {store}: seeding the demo deployment (port {port}) …")
        deployment = seed(Path(scratch), suite, port, database_url)
        if not args.ver_scan_only:
            console.print(f"{suite}, {store}: library, pinned to CPU {timing['cpu']} …")
            for case, result in _library(deployment, timing).items():
                rates = result["rates"]
                rows.append(
                    {
                        "kind": "library",
                        "cryptosuite": suite,
                        "store": store,
                        "case": case,
                        "ops_per_s": statistics.median(rates),
                        "best_ops_per_s": max(rates),
                        "ms_per_op": 1000 / statistics.median(rates),
                        "loadavg": result["loadavg"],
                    }
                )
        console.print(f"{suite}, {store}: HTTP under wrk …")
        rows += _http(deployment, suite, timing, scan_only=args.ver_scan_only)
        if args.ver_fast_io:
            console.print(f"{suite}, {store}: scan page with httptools/uvloop …")
            rows += _http(deployment, suite, timing, fast_io=args.ver_fast_io)
        if args.ver_stock:
            console.print(f"{suite}, {store}: scan page under the stock uvicorn command …")
            rows += _http(deployment, suite, timing, stock=True)
    return rows


def _find(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    return next((r for r in rows if all(r.get(k) == v for k, v in match.items())), None)


def _targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    targets = []
    for suite in CRYPTOSUITES:
        peer = JS_QUOTED[suite]
        for case, label in (
            ("pipeline/label", "library pipeline, label bundle, every proof checked"),
            ("service/label", "library VerifierService.verify, label bundle (memo)"),
        ):
            row = _find(rows, kind="library", cryptosuite=suite, store="sqlite", case=case)
            if row is None:
                continue
            measured = row["ops_per_s"]
            targets.append(
                {
                    "kind": "target",
                    "target": f"{label}, {suite}, 1 core",
                    "goal": f"≥ {peer:,.0f}/s (JS, quoted)",
                    "measured": f"{measured:,.0f}/s",
                    "met": measured >= peer,
                    "margin": f"{measured / peer:.2f}× the goal; "
                    f"{measured / JS_LABEL[suite]:.1f}× JS on this label",
                }
            )
        for request in ("POST /credentials/verify (label)",):
            row = _find(rows, kind="http", cryptosuite=suite, store="sqlite", request=request)
            if row is None:
                continue
            per_core = row["rps"] / 2
            targets.append(
                {
                    "kind": "target",
                    "target": f"HTTP {request}, {suite}, per core (2 workers + wrk on 2 cores)",
                    "goal": f"≥ {peer:,.0f}/s per core",
                    "measured": f"{per_core:,.0f}/s per core ({row['rps']:,.0f}/s)",
                    "met": per_core >= peer,
                    "margin": f"{per_core / peer:.2f}× the goal",
                }
            )
        for store in STORES:
            row = _find(
                rows,
                kind="http",
                cryptosuite=suite,
                store=store,
                request="GET /scan/{label}",
                server="uvicorn, TCP_NODELAY",
            )
            if row is None:
                continue
            targets.append(
                {
                    "kind": "target",
                    "target": f"scan page, {suite}, 2 workers, {store}, status freshness on",
                    "goal": f"≥ {SCAN_RPS_TARGET:,.0f} req/s, p95 ≤ {SCAN_P95_TARGET_MS:.0f} ms",
                    "measured": f"{row['rps']:,.0f} req/s, p95 {row['p95_ms']:.1f} ms",
                    "met": row["rps"] >= SCAN_RPS_TARGET
                    and row["p95_ms"] <= SCAN_P95_TARGET_MS
                    and row["errors"] == 0,
                    "margin": f"{row['rps'] / SCAN_RPS_TARGET:.2f}× the rate; "
                    f"p95 {row['p95_ms'] / SCAN_P95_TARGET_MS:.2f}× the limit",
                }
            )
    return targets


def _fmt(value: Any, digits: int = 2) -> str:
    return fmt(value, digits)


def tables(rows: list[dict[str, Any]]) -> list[TableSpec]:
    library = [r for r in rows if r["kind"] == "library"]
    http = [r for r in rows if r["kind"] == "http"]
    return [
        TableSpec(
            "Library, one pinned core (median of rounds)",
            ["cryptosuite", "store", "case", "ops/s", "best ops/s", "ms/op", "load1"],
            [
                [
                    r["cryptosuite"],
                    r.get("store", "sqlite"),
                    r["case"],
                    _fmt(r["ops_per_s"]),
                    _fmt(r["best_ops_per_s"]),
                    _fmt(r["ms_per_op"], 3),
                    _fmt(r["loadavg"]),
                ]
                for r in library
            ],
        ),
        TableSpec(
            "HTTP on loopback, wrk -t1 (server and wrk share the 2 cores)",
            [
                "cryptosuite",
                "store",
                "server",
                "request",
                "conns",
                "req/s",
                "p50 ms",
                "p90 ms",
                "p95 ms",
                "p99 ms",
                "errors",
                "load1 before→after",
            ],
            [
                [
                    r["cryptosuite"],
                    r.get("store", "sqlite"),
                    r["server"],
                    r["request"],
                    _fmt(r["connections"]),
                    _fmt(r["rps"]),
                    _fmt(r["p50_ms"]),
                    _fmt(r["p90_ms"]),
                    _fmt(r["p95_ms"]),
                    _fmt(r["p99_ms"]),
                    _fmt(r["errors"]),
                    f"{r['load1_before']:.2f}→{r['load1_after']:.2f}",
                ]
                for r in http
            ],
        ),
        TableSpec(
            "Checks",
            ["check", "ok"],
            [[r["check"], _fmt(r["ok"])] for r in rows if r["kind"] == "check"],
        ),
        TableSpec(
            "Targets (issue)",
            ["target", "goal", "measured", "met", "margin"],
            [
                [
                    r["target"],
                    r["goal"],
                    r["measured"],
                    "met" if r["met"] else "NOT met",
                    r["margin"],
                ]
                for r in rows
                if r["kind"] == "target"
            ],
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """``--worker`` / ``--serve`` are this suite's subprocesses; anything else runs it."""
    arguments = sys.argv[1:] if argv is None else argv
    if "--worker" in arguments:
        return worker(arguments)
    if "--serve" in arguments:
        return serve(arguments)
    from bench.__main__ import main as bench_main

    return bench_main([NAME, *arguments])


if __name__ == "__main__":
    sys.exit(main())
