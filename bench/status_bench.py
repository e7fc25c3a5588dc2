"""Status changes: revocations/s from 4 client processes, and how soon every server shows one.

For each store of ``--st-stores`` (``postgres,sqlite``) a fresh deployment is
prepared as an operator would, through the CLI in subprocesses: ``carbonlabel
log init``, ``issuer add``, ``token new --scope issue --scope status``
(PostgreSQL: a fresh schema on ``--st-postgres-url``, dropped afterwards, as in
the verifier suite; SQLite: the default file in a temporary data dir). Two
``carbonlabel serve --port P`` processes run on it, each on its own loopback
port and both with the first one's ``CARBONLABEL_PUBLIC_URL`` (two app servers
behind one name): with ``serve --workers 2`` on one port the client could not
choose the worker, and freshness has to be observed on each one. The status
freshness mechanism is the product's (app/verifying.py: every process reads the
status-list generation at most every ``STATUS_POLL_INTERVAL``, 0.25 s).

``--st-labels`` labels (default 4,000; ``--quick`` 600) of examples/label.json
are issued through ``POST /labels/batch`` (``BATCH`` a request, both servers in
turn). Then, on that deployment:

``freshness, quiet``  ``--st-samples`` (50) revocations, one at a time: the
             label is first verified on both servers (``POST /credentials/verify``
             answers ``genuine``, so both hold its status list in their caches),
             then revoked through one server (alternating), and from the moment the
             ``POST /credentials/status`` returns, each server is polled (its own
             thread, ``POLL_EVERY`` apart) until its verdict is ``revoked``. The
             sample is the time until *both* show it; per-server times are kept too.

``throughput``  ``--st-clients`` (4) client PROCESSES with ``--st-threads`` (4)
             threads each, one keep-alive connection per thread and server, send
             ``POST /credentials/status`` revocations for distinct labels (each
             process owns a share), each thread alternating between the servers,
             from a common start until the labels run out or ``--st-seconds`` (15)
             pass. revocations/s = 200 answers / (last answer − start); also the
             median and the slowest whole second. Any answer but 200 is an error.
             While it runs the parent takes ``--st-load-samples`` (10) freshness
             samples as above ("under load").

``check``    the newest status list, fetched from each server (``GET
             /status/<list>``, ``encodedList`` decoded with
             :class:`credentials.statuslist.Bitstring`), has the bit of every
             revocation answered 200 set, and no other bit.

``--st-profile`` also records each server with ``py-spy record`` (if installed:
``.venv/bin/pip install py-spy``) during the throughput run and lists where the
time goes (the frames with the most samples, own and inclusive); the raw stacks
are kept in the results directory as ``status-py-spy-<store>-<time>-<n>.txt``.

The machine is shared: the 1-minute load average (``os.getloadavg``) is
recorded before and after each measurement.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import TableSpec, fmt
from bench.verifier_bench import DEFAULT_POSTGRES_URL, postgres_reachable, store_url

NAME = "status"

ROOT = Path(__file__).resolve().parent.parent
STORES = ("postgres", "sqlite")
PASSPHRASE = "bench-status-passphrase"
ISSUER = ("gd-clc", "广东省碳标签专业委员会", "12440000MB2C401574")
"""slug, name, USCC of the one issuer organisation."""
REQUEST_FILE = ROOT / "examples" / "label.json"
BATCH = 200
"""Labels per ``POST /labels/batch`` (a 3.3 KB request each: well under the 1 MB body limit)."""
POLL_EVERY = 0.01
"""Seconds between two verify requests of one poller."""
SHOW_WITHIN = 10.0
"""A sample not shown by every server after this many seconds fails the run."""
RATE_TARGET = 200.0
FRESH_TARGET_S = 1.0
"""Issue 10: every worker shows a change within 1 s (p99)."""
REVOKE = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--st-stores", default=",".join(STORES), help="stores (comma-separated: postgres,sqlite)"
    )
    group.add_argument(
        "--st-postgres-url",
        default=os.environ.get("CARBONLABEL_BENCH_POSTGRES_URL")
        or os.environ.get("CARBONLABEL_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES_URL,
        help="PostgreSQL server (a fresh schema per deployment)",
    )
    group.add_argument("--st-labels", type=int, default=None, help="labels issued (4000)")
    group.add_argument("--st-clients", type=int, default=4, help="client processes (4)")
    group.add_argument("--st-threads", type=int, default=4, help="threads per client (4)")
    group.add_argument(
        "--st-seconds", type=float, default=None, help="longest throughput run (15 s)"
    )
    group.add_argument(
        "--st-samples", type=int, default=None, help="freshness samples without load (50)"
    )
    group.add_argument(
        "--st-load-samples", type=int, default=None, help="freshness samples under load (10)"
    )
    group.add_argument(
        "--st-cryptosuite",
        default="eddsa-rdfc-2022",
        help="the deployment's cryptosuite (eddsa-rdfc-2022, the product default)",
    )
    group.add_argument(
        "--st-profile",
        action="store_true",
        help="py-spy record both servers during the throughput run",
    )


# -- HTTP ---------------------------------------------------------------------------------


class Client:
    """Keep-alive JSON requests to servers on 127.0.0.1 (one connection per port)."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.connections: dict[int, http.client.HTTPConnection] = {}

    def request(self, port: int, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in range(2):  # once more on a fresh connection if the kept one was closed
            connection = self.connections.get(port)
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                self.connections[port] = connection
            try:
                connection.request(method, path, body=data, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (ConnectionError, http.client.HTTPException):
                connection.close()
                del self.connections[port]
                if attempt:
                    raise
                continue
            if response.getheader("connection", "").lower() == "close":
                connection.close()
                del self.connections[port]
            return response.status, payload
        raise AssertionError("unreachable")

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()
        self.connections.clear()


def _revoke(client: Client, port: int, credential_id: str) -> tuple[int, bytes]:
    body = {"credentialId": credential_id, "credentialStatus": REVOKE, "status": True}
    return client.request(port, "POST", "/credentials/status", body)


def _verdict(client: Client, port: int, credential: Mapping[str, Any]) -> str:
    return _verify(client, port, credential)[0]


def _verify(client: Client, port: int, credential: Mapping[str, Any]) -> tuple[str, str]:
    """The verdict of ``POST /credentials/verify`` and, unless genuine, why (failed checks
    and warnings, one line)."""
    status, payload = client.request(
        port, "POST", "/credentials/verify", {"verifiableCredential": credential}
    )
    if status not in (200, 400):  # VC-API: 400 with the result when not verified
        raise RuntimeError(f"verify on port {port} answered {status}: {payload[:300]!r}")
    answer = json.loads(payload)
    verdict: str = answer["verdict"]
    if verdict == "genuine":
        return verdict, ""
    why = [
        f"{r.get('check')}: {r.get('message')}"
        for r in answer.get("results", [])
        if r.get("outcome") not in ("passed", "skipped")
    ]
    why += [str(w) for w in answer.get("warnings", [])]
    return verdict, "; ".join(why)


# -- the deployment -----------------------------------------------------------------------


def _carbonlabel(env: Mapping[str, str], *args: str) -> str:
    command = [sys.executable, "-c", "import sys; from app.cli import run; sys.exit(run())", *args]
    done = subprocess.run(
        command, cwd=ROOT, env=dict(env), capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"carbonlabel {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def prepare(
    data_dir: Path, database_url: str | None, port: int, suite: str
) -> tuple[dict[str, str], str]:
    """The environment of a fresh deployment (log, one issuer) and an issue+status token."""
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
            "CARBONLABEL_SCAN_SALT": "bench-status-salt",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
    )
    slug, name, uscc = ISSUER
    _carbonlabel(env, "log", "init")
    _carbonlabel(env, "issuer", "add", "--slug", slug, "--name", name, "--uscc", uscc)
    out = _carbonlabel(
        env, "token", "new", "--issuer", slug, "--scope", "issue", "--scope", "status"
    )
    return env, out.strip().splitlines()[-1]


@contextmanager
def servers(env: Mapping[str, str], ports: Sequence[int], log_dir: Path) -> Iterator[list[int]]:
    """``carbonlabel serve --port P`` for each port until the block ends; yields their pids.

    Stopped with SIGTERM; a server still running 30 s later is killed (only that process).
    """
    processes: list[subprocess.Popen[bytes]] = []
    command = [sys.executable, "-c", "import sys; from app.cli import run; sys.exit(run())"]
    try:
        for port in ports:
            with (log_dir / f"serve-{port}.log").open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        [*command, "serve", "--port", str(port)],
                        cwd=ROOT,
                        env=dict(env),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        deadline = time.monotonic() + 90
        probe = Client()
        for process, port in zip(processes, ports, strict=True):
            while True:
                try:
                    if probe.request(port, "GET", "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    output = (log_dir / f"serve-{port}.log").read_text(errors="replace")
                    raise RuntimeError(
                        f"the server on port {port} did not start:\n{output[-2000:]}"
                    )
                time.sleep(0.2)
        probe.close()
        yield [p.pid for p in processes]
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass(frozen=True)
class Label:
    """What the benchmark needs of one issued label."""

    credential: dict[str, Any]
    list_path: str
    index: int

    @property
    def id(self) -> str:
        return str(self.credential["id"])


def issue(token: str, ports: Sequence[int], count: int) -> list[Label]:
    """``count`` labels through ``POST /labels/batch``, ``BATCH`` a request, the servers in turn."""
    request = json.loads(REQUEST_FILE.read_text())
    sizes = [min(BATCH, count - start) for start in range(0, count, BATCH)]

    def one(position: int) -> list[Label]:
        client = Client(token)
        try:
            status, payload = client.request(
                ports[position % len(ports)],
                "POST",
                "/labels/batch",
                {"labels": [request] * sizes[position]},
            )
        finally:
            client.close()
        if status not in (200, 201):
            raise RuntimeError(f"POST /labels/batch answered {status}: {payload[:500]!r}")
        results = json.loads(payload)["results"]
        labels = []
        for result in results:
            if result.get("status") != 201:
                raise RuntimeError(f"a label was not issued: {json.dumps(result)[:500]}")
            credential = result["verifiableCredential"]
            entry = next(
                e for e in credential["credentialStatus"] if e["statusPurpose"] == "revocation"
            )
            labels.append(
                Label(
                    credential,
                    urlsplit(entry["statusListCredential"]).path,
                    int(entry["statusListIndex"]),
                )
            )
        return labels

    with ThreadPoolExecutor(len(ports)) as pool:
        return [label for batch in pool.map(one, range(len(sizes))) for label in batch]


# -- freshness ----------------------------------------------------------------------------


@dataclass
class Sample:
    """One revocation: how long its POST took and, per server, until it showed ``revoked``."""

    post_s: float
    status: int
    shown_s: list[float] = field(default_factory=list)
    odd: list[str] = field(default_factory=list)
    """Verdicts seen that were neither ``genuine`` (before) nor ``revoked`` (after), and why."""

    @property
    def all_s(self) -> float:
        return max(self.shown_s)


def freshness_sample(token: str, ports: Sequence[int], label: Label, via: int) -> Sample:
    """Verify ``label`` genuine on every server, revoke it through ``ports[via]``, then time
    (from the POST's answer) until every server's verify says ``revoked``."""
    clients = [Client() for _ in ports]
    odd: list[str] = []
    try:
        for client, port in zip(clients, ports, strict=True):
            verdict, why = _verify(client, port, label.credential)
            if verdict == "revoked":
                raise RuntimeError(f"label {label.id} reads revoked before its revocation")
            if verdict != "genuine":
                odd.append(f"before the change: {verdict} ({why})")
        poster = Client(token)
        started = time.perf_counter()
        status, _ = _revoke(poster, ports[via], label.id)
        answered = time.perf_counter()
        poster.close()
        sample = Sample(answered - started, status, odd=odd)
        if status != 200:
            return sample

        def until_revoked(server: int) -> float:
            while True:
                verdict, why = _verify(clients[server], ports[server], label.credential)
                if verdict == "revoked":
                    return time.perf_counter() - answered
                if verdict != "genuine":
                    odd.append(f"after the change: {verdict} ({why})")
                if time.perf_counter() - answered > SHOW_WITHIN:
                    raise RuntimeError(
                        f"port {ports[server]} still does not show {label.id} revoked "
                        f"{SHOW_WITHIN:.0f} s after the change"
                    )
                time.sleep(POLL_EVERY)

        with ThreadPoolExecutor(len(ports)) as pool:
            sample.shown_s = list(pool.map(until_revoked, range(len(ports))))
        return sample
    finally:
        for client in clients:
            client.close()


# -- throughput ---------------------------------------------------------------------------


def _client_process(
    token: str,
    ports: Sequence[int],
    ids: Sequence[str],
    threads: int,
    seconds: float,
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    """One client process: ``threads`` threads revoke ``ids`` until gone or ``seconds`` pass."""
    lock = threading.Lock()
    pending = list(reversed(ids))
    outcomes: list[tuple[float, float, int, str]] = []  # (start, end, status, id or error)

    def thread(number: int) -> None:
        client = Client(token)
        sent = number
        try:
            while True:
                with lock:
                    if not pending or time.time() > deadline:
                        return
                    credential_id = pending.pop()
                port = ports[sent % len(ports)]
                sent += 1
                started = time.time()
                try:
                    status, payload = _revoke(client, port, credential_id)
                    note = (
                        credential_id if status == 200 else payload[:200].decode(errors="replace")
                    )
                except OSError as exc:
                    status, note = 0, f"{type(exc).__name__}: {exc}"
                with lock:
                    outcomes.append((started, time.time(), status, note))
        finally:
            client.close()

    ready.put(os.getpid())
    go.wait()
    deadline = time.time() + seconds
    workers = [threading.Thread(target=thread, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put(outcomes)


def throughput(
    token: str,
    ports: Sequence[int],
    ids: Sequence[str],
    clients: int,
    threads: int,
    seconds: float,
    during: Any = None,
) -> tuple[float, list[tuple[float, float, int, str]], Any]:
    """Run the client processes; returns (start time, every outcome, what ``during()`` gave).

    ``during`` runs in this process while the clients send (the freshness samples
    under load).
    """
    context = multiprocessing.get_context("fork")
    ready, results = context.Queue(), context.Queue()
    go = context.Event()
    shares = [list(ids[n::clients]) for n in range(clients)]
    processes = [
        context.Process(
            target=_client_process,
            args=(token, ports, share, threads, seconds, ready, go, results),
        )
        for share in shares
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=60)
    started = time.time()
    go.set()
    extra = during() if during is not None else None
    outcomes: list[tuple[float, float, int, str]] = []
    for _ in processes:
        outcomes += results.get(timeout=seconds + 300)
    for process in processes:
        process.join(timeout=30)
    return started, outcomes, extra


# -- profile ------------------------------------------------------------------------------


@contextmanager
def profiled(pids: Sequence[int], seconds: float, out_dir: Path) -> Iterator[list[Path]]:
    """``py-spy record`` each pid for ``seconds`` (raw collapsed stacks); yields the files."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    files = [out_dir / f"py-spy-{pid}.txt" for pid in pids]
    recorders = [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(max(1, round(seconds))),
                "--rate",
                "100",
                "--format",
                "raw",
                "--output",
                str(path),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid, path in zip(pids, files, strict=True)
    ]
    try:
        yield files
    finally:
        for recorder in recorders:
            try:
                recorder.wait(timeout=seconds + 60)
            except subprocess.TimeoutExpired:
                recorder.kill()
                recorder.wait()


IDLE = ("Condition.wait", "Event.wait", "Runner.run", "select (", "_worker (concurrent")
"""Leaf frames of a thread that waits (py-spy samples them unless told --idle is off)."""
PACKAGES = ("app", "issuer", "ledger", "credentials", "verifier", "schemas")


def summarise_profile(files: Sequence[Path], top: int = 15) -> list[dict[str, Any]]:
    """The frames with the most samples in collapsed-stack files, waiting threads left out:
    own time, and inclusive time of the project's own functions."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for path in files:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            frames = [_frame_name(f) for f in stack.split(";")]
            if any(frames[-1].startswith(idle) for idle in IDLE):
                continue
            total += count
            own[frames[-1]] += count
            for name in set(frames):
                inclusive[name] += count
    if not total:
        return []
    rows = [
        {"kind": "profile", "measure": "own", "frame": name, "share": count / total}
        for name, count in own.most_common(top)
    ]
    ours = [
        (name, count)
        for name, count in inclusive.most_common()
        if any(f"({package}/" in name for package in PACKAGES)
    ]
    rows += [
        {"kind": "profile", "measure": "inclusive", "frame": name, "share": count / total}
        for name, count in ours[:top]
    ]
    return rows


def _frame_name(frame: str) -> str:
    """``function (path/to/file.py:line)`` without the line and with the path cut to the
    project's package or the library's name."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("/site-packages/", "/lib/python3", str(ROOT) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


# -- one store ----------------------------------------------------------------------------


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _freshness_row(
    store: str, phase: str, samples: Sequence[Sample], load: tuple[float, float]
) -> dict[str, Any]:
    shown = [s.all_s for s in samples if s.shown_s]
    other = [s.shown_s[1 - i % 2] for i, s in enumerate(samples) if s.shown_s]
    return {
        "kind": "freshness",
        "store": store,
        "phase": phase,
        "samples": len(samples),
        "errors": sum(1 for s in samples if s.status != 200),
        "odd_verdicts": sum(len(s.odd) for s in samples),
        "post_p50_ms": statistics.median(s.post_s for s in samples) * 1000,
        "all_p50_ms": statistics.median(shown) * 1000 if shown else None,
        "all_p99_ms": _percentile(shown, 0.99) * 1000 if shown else None,
        "all_max_ms": max(shown) * 1000 if shown else None,
        "other_server_p50_ms": statistics.median(other) * 1000 if other else None,
        "load1_before": load[0],
        "load1_after": load[1],
    }


def one_store(
    args: argparse.Namespace, settings: dict[str, Any], store: str, console: Any
) -> list[dict[str, Any]]:
    """Every measurement on one fresh deployment on ``store``; raises RuntimeError when a
    server does not start, a request the bench relies on fails, or a change never shows."""
    rows: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="carbonlabel-status-bench-") as scratch,
        store_url(store, args.st_postgres_url) as database_url,
    ):
        work = Path(scratch)
        ports = [_free_port(), _free_port()]
        console.print(f"{store}: preparing the deployment (ports {ports}) …")
        env, token = prepare(work / "var", database_url, ports[0], args.st_cryptosuite)
        with servers(env, ports, work) as pids:
            wanted = settings["labels"] + settings["samples"] + settings["load_samples"]
            console.print(f"{store}: issuing {wanted:,} labels through POST /labels/batch …")
            began = time.perf_counter()
            labels = issue(token, ports, wanted)
            issued_s = time.perf_counter() - began
            rows.append(
                {
                    "kind": "setup",
                    "store": store,
                    "labels": len(labels),
                    "issue_seconds": issued_s,
                    "labels_per_s": len(labels) / issued_s,
                    "lists": len({label.list_path for label in labels}),
                }
            )
            quiet = labels[: settings["samples"]]
            loaded = labels[settings["samples"] : settings["samples"] + settings["load_samples"]]
            bulk = labels[settings["samples"] + settings["load_samples"] :]
            revoked: set[str] = set()

            console.print(f"{store}: {len(quiet)} freshness samples, no other load …")
            load_before = os.getloadavg()[0]
            samples = []
            for i, label in enumerate(quiet):
                samples.append(freshness_sample(token, ports, label, i % 2))
                if samples[-1].status == 200:
                    revoked.add(label.id)
            rows.append(_freshness_row(store, "quiet", samples, (load_before, os.getloadavg()[0])))
            rows += _odd_rows(store, "quiet", samples)

            warm = Client()
            for label in bulk[:20]:  # both servers hold the list and the verifier is warm
                for port in ports:
                    _verdict(warm, port, label.credential)
            warm.close()

            def under_load() -> list[Sample]:
                taken: list[Sample] = []
                time.sleep(1.0)
                for i, label in enumerate(loaded):
                    taken.append(freshness_sample(token, ports, label, i % 2))
                    if taken[-1].status == 200:
                        revoked.add(label.id)
                    time.sleep(0.2)
                return taken

            console.print(
                f"{store}: throughput, {settings['clients']} processes × "
                f"{settings['threads']} threads, up to {settings['seconds']:.0f} s "
                f"({len(bulk):,} labels) …"
            )
            load_before = os.getloadavg()[0]
            profile_files: list[Path] = []
            with (
                profiled(pids, settings["seconds"], work) if args.st_profile else _nothing()
            ) as files:
                started, outcomes, loaded_samples = throughput(
                    token,
                    ports,
                    [label.id for label in bulk],
                    settings["clients"],
                    settings["threads"],
                    settings["seconds"],
                    during=under_load,
                )
                profile_files = list(files or [])
            load_after = os.getloadavg()[0]
            rows.append(
                _throughput_row(store, settings, started, outcomes, load_before, load_after)
            )
            rows.append(
                _freshness_row(store, "under load", loaded_samples, (load_before, load_after))
            )
            rows += _odd_rows(store, "under load", loaded_samples)
            revoked |= {note for _, _, status, note in outcomes if status == 200}
            errors = Counter(
                f"{status}: {note[:120]}" for _, _, status, note in outcomes if status != 200
            )
            for error, count in errors.most_common(5):
                rows.append(
                    {
                        "kind": "check",
                        "store": store,
                        "check": f"error ×{count}: {error}",
                        "ok": False,
                    }
                )
            rows += check_lists(store, ports, labels, revoked)
            if profile_files:
                for row in summarise_profile(profile_files):
                    rows.append({**row, "store": store})
                args.out.mkdir(parents=True, exist_ok=True)
                stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
                for number, path in enumerate(profile_files, 1):
                    if path.exists():  # the raw stacks, for flame graphs (bench/out/)
                        shutil.copy(path, args.out / f"status-py-spy-{store}-{stamp}-{number}.txt")
    return rows


def _odd_rows(store: str, phase: str, samples: Sequence[Sample]) -> list[dict[str, Any]]:
    """A failed check per distinct verdict that was neither genuine (before the change) nor
    revoked (after it): an unaffected label must read genuine throughout."""
    seen = Counter(odd[:300] for sample in samples for odd in sample.odd)
    return [
        {"kind": "check", "store": store, "check": f"{phase}, ×{count}: {odd}", "ok": False}
        for odd, count in seen.most_common(5)
    ]


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def _throughput_row(
    store: str,
    settings: Mapping[str, Any],
    started: float,
    outcomes: Sequence[tuple[float, float, int, str]],
    load_before: float,
    load_after: float,
) -> dict[str, Any]:
    ok = [o for o in outcomes if o[2] == 200]
    end = max((o[1] for o in outcomes), default=started)
    seconds = end - started
    per_second = Counter(int(o[1] - started) for o in ok)
    whole = [per_second.get(s, 0) for s in range(int(seconds))]  # whole seconds only
    latencies = [o[1] - o[0] for o in outcomes]
    return {
        "kind": "throughput",
        "store": store,
        "clients": settings["clients"],
        "threads": settings["threads"],
        "sent": len(outcomes),
        "ok": len(ok),
        "errors": len(outcomes) - len(ok),
        "seconds": seconds,
        "revocations_per_s": len(ok) / seconds if seconds else 0.0,
        "median_second": statistics.median(whole) if whole else None,
        "slowest_second": min(whole) if whole else None,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else None,
        "p95_ms": _percentile(latencies, 0.95) * 1000 if latencies else None,
        "p99_ms": _percentile(latencies, 0.99) * 1000 if latencies else None,
        "load1_before": load_before,
        "load1_after": load_after,
    }


def check_lists(
    store: str, ports: Sequence[int], labels: Sequence[Label], revoked: set[str]
) -> list[dict[str, Any]]:
    """Every revoked bit, and only those, in the newest list each server publishes."""
    from credentials.statuslist import Bitstring

    rows = []
    by_list: dict[str, list[Label]] = {}
    for label in labels:
        by_list.setdefault(label.list_path, []).append(label)
    client = Client()
    try:
        for server, port in enumerate(ports):
            missing = extra = 0
            for path, members in by_list.items():
                status, payload = client.request(port, "GET", path)
                if status != 200:
                    raise RuntimeError(f"GET {path} on port {port} answered {status}")
                bits = Bitstring.decode(json.loads(payload)["credentialSubject"]["encodedList"])
                expected = {m.index for m in members if m.id in revoked}
                set_bits = {i for i in range(len(bits)) if bits.get(i)}
                missing += len(expected - set_bits)
                extra += len(set_bits - expected)
            rows.append(
                {
                    "kind": "check",
                    "store": store,
                    "check": f"server {server + 1}: the newest list(s) hold all {len(revoked):,} "
                    f"revocations answered 200 ({missing} missing) and no other bit "
                    f"({extra} extra)",
                    "ok": missing == 0 and extra == 0,
                }
            )
    finally:
        client.close()
    return rows


# -- the parent -----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    from rich.console import Console

    console = Console(stderr=True)
    settings = {
        "labels": args.st_labels or (600 if args.quick else 4_000),
        "samples": args.st_samples if args.st_samples is not None else (10 if args.quick else 50),
        "load_samples": args.st_load_samples
        if args.st_load_samples is not None
        else (3 if args.quick else 10),
        "clients": args.st_clients,
        "threads": args.st_threads,
        "seconds": args.st_seconds or (5.0 if args.quick else 15.0),
    }
    stores = [s.strip() for s in args.st_stores.split(",") if s.strip()]
    unknown = sorted(set(stores) - set(STORES))
    if unknown:
        raise SystemExit(f"unknown store(s) {', '.join(unknown)}: choose from {', '.join(STORES)}")
    rows: list[dict[str, Any]] = []
    if "postgres" in stores:
        why = postgres_reachable(args.st_postgres_url)
        if why is not None:
            console.print(f"postgres skipped: {args.st_postgres_url} is unreachable ({why})")
            rows.append(
                {
                    "kind": "check",
                    "store": "postgres",
                    "check": f"skipped: {args.st_postgres_url} unreachable ({why})",
                    "ok": False,
                }
            )
            stores.remove("postgres")
    for store in stores:
        rows += one_store(args, settings, store, console)
    rows += _targets(rows)
    return rows


def _targets(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    targets = []
    for row in rows:
        if row["kind"] == "throughput" and row["store"] == "postgres":
            rate = row["revocations_per_s"]
            targets.append(
                {
                    "kind": "target",
                    "target": "revocations/s from 4 processes, PostgreSQL, 0 errors",
                    "goal": f"≥ {RATE_TARGET:.0f}/s, 0 errors",
                    "measured": f"{rate:,.0f}/s, {row['errors']} errors",
                    "met": rate >= RATE_TARGET and row["errors"] == 0,
                    "margin": f"{rate / RATE_TARGET:.2f}× the rate",
                }
            )
        if row["kind"] == "freshness" and row["all_p99_ms"] is not None:
            p99 = row["all_p99_ms"] / 1000
            targets.append(
                {
                    "kind": "target",
                    "target": f"every server shows a revocation, {row['store']}, {row['phase']}",
                    "goal": f"p99 ≤ {FRESH_TARGET_S:.0f} s",
                    "measured": f"p50 {row['all_p50_ms']:.0f} ms, p99 {row['all_p99_ms']:.0f} ms"
                    f" ({row['samples']} samples)",
                    "met": p99 <= FRESH_TARGET_S and row["errors"] == 0,
                    "margin": f"{p99 / FRESH_TARGET_S:.2f}× the limit",
                }
            )
    return targets


def tables(rows: list[dict[str, Any]]) -> list[TableSpec]:
    def of(kind: str) -> list[dict[str, Any]]:
        return [r for r in rows if r["kind"] == kind]

    return [
        TableSpec(
            "Deployment (labels issued through POST /labels/batch)",
            ["store", "labels", "seconds", "labels/s", "lists"],
            [
                [
                    r["store"],
                    fmt(r["labels"]),
                    fmt(r["issue_seconds"], 1),
                    fmt(r["labels_per_s"], 0),
                    fmt(r["lists"]),
                ]
                for r in of("setup")
            ],
        ),
        TableSpec(
            "Revocations, POST /credentials/status on 2 servers",
            [
                "store",
                "procs×threads",
                "sent",
                "200",
                "errors",
                "s",
                "revocations/s",
                "median 1 s",
                "slowest 1 s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "load1 before→after",
            ],
            [
                [
                    r["store"],
                    f"{r['clients']}×{r['threads']}",
                    fmt(r["sent"]),
                    fmt(r["ok"]),
                    fmt(r["errors"]),
                    fmt(r["seconds"], 1),
                    fmt(r["revocations_per_s"], 1),
                    fmt(r["median_second"]),
                    fmt(r["slowest_second"]),
                    fmt(r["p50_ms"], 1),
                    fmt(r["p95_ms"], 1),
                    fmt(r["p99_ms"], 1),
                    f"{r['load1_before']:.2f}→{r['load1_after']:.2f}",
                ]
                for r in of("throughput")
            ],
        ),
        TableSpec(
            "Time until every server's verify shows the revocation (from the POST's answer)",
            [
                "store",
                "phase",
                "samples",
                "errors",
                "odd verdicts",
                "POST p50 ms",
                "all p50 ms",
                "all p99 ms",
                "all max ms",
                "other server p50 ms",
                "load1 before→after",
            ],
            [
                [
                    r["store"],
                    r["phase"],
                    fmt(r["samples"]),
                    fmt(r["errors"]),
                    fmt(r["odd_verdicts"]),
                    fmt(r["post_p50_ms"], 1),
                    fmt(r["all_p50_ms"], 1),
                    fmt(r["all_p99_ms"], 1),
                    fmt(r["all_max_ms"], 1),
                    fmt(r["other_server_p50_ms"], 1),
                    f"{r['load1_before']:.2f}→{r['load1_after']:.2f}",
                ]
                for r in of("freshness")
            ],
        ),
        TableSpec(
            "Profile of both servers during the throughput run (py-spy, share of samples)",
            ["store", "measure", "frame", "share"],
            [[r["store"], r["measure"], r["frame"], f"{r['share']:.1%}"] for r in of("profile")],
        ),
        TableSpec(
            "Checks",
            ["store", "check", "ok"],
            [[r.get("store", ""), r["check"], fmt(r["ok"])] for r in of("check")],
        ),
        TableSpec(
            "Targets (issue 10)",
            ["target", "goal", "measured", "met", "margin"],
            [
                [
                    r["target"],
                    r["goal"],
                    r["measured"],
                    "met" if r["met"] else "NOT met",
                    r["margin"],
                ]
                for r in of("target")
            ],
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import main as bench_main

    return bench_main([NAME, *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
