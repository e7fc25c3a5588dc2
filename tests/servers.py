"""Real ``carbonlabel serve`` processes sharing one database, for tests from outside.

:func:`deployment_env` prepares a deployment through the CLI (log, an issuer, a
token) in subprocesses, exactly as an operator would; :class:`Servers` starts
several ``carbonlabel serve`` processes on it (each on its own loopback port,
all with the same public URL, as behind a load balancer) and talks to them with
the standard library's HTTP client.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
CARBONLABEL = str(BIN / "carbonlabel")
ISSUER = {
    "slug": "gd-clc",
    "name": "广东省碳标签专业委员会",
    "uscc": "12440000MB2C401574",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(env: Mapping[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``carbonlabel ARGS`` as a separate process."""
    done = subprocess.run(
        [CARBONLABEL, *args], env=dict(env), capture_output=True, text=True, timeout=120
    )
    if check and done.returncode != 0:
        raise AssertionError(f"carbonlabel {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def deployment_env(
    data_dir: Path, database_url: str, public_port: int
) -> tuple[dict[str, str], str]:
    """The environment of a fresh deployment (log initialised, one issuer) and a token.

    The token has the ``issue`` and ``status`` scopes.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONLABEL_")}
    env.update(
        CARBONLABEL_DATA_DIR=str(data_dir),
        CARBONLABEL_DATABASE_URL=database_url,
        CARBONLABEL_KEYSTORE_PASSPHRASE="correct horse battery staple",
        CARBONLABEL_LOG_ORIGIN="test.carbonlabel.local/log",
        CARBONLABEL_PUBLIC_URL=f"http://127.0.0.1:{public_port}",
        CARBONLABEL_BATCH_DELAY_MS="2",
    )
    cli(env, "log", "init")
    cli(
        env,
        "issuer",
        "add",
        "--slug",
        ISSUER["slug"],
        "--name",
        ISSUER["name"],
        "--uscc",
        ISSUER["uscc"],
    )
    out = cli(
        env, "token", "new", "--issuer", ISSUER["slug"], "--scope", "issue", "--scope", "status"
    )
    return env, out.stdout.strip().splitlines()[-1]


@dataclass
class Response:
    status: int
    body: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Servers:
    """``count`` ``carbonlabel serve`` processes on one deployment (the first port is public)."""

    def __init__(self, env: Mapping[str, str], ports: Sequence[int], log_dir: Path) -> None:
        self.ports = list(ports)
        self.processes: list[subprocess.Popen[bytes]] = []
        for port in self.ports:
            with (log_dir / f"serve-{port}.log").open("wb") as log:  # the child keeps its copy
                self.processes.append(
                    subprocess.Popen(
                        [CARBONLABEL, "serve", "--port", str(port)],
                        env=dict(env),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        deadline = time.monotonic() + 60
        for server in range(len(self.ports)):
            while True:
                try:
                    if self.get(server, "/healthz").status == 200:
                        break
                except OSError:
                    pass
                if self.processes[server].poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"server on port {self.ports[server]} did not start")
                time.sleep(0.1)

    def request(
        self,
        server: int,
        method: str,
        path: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.ports[server]}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return Response(response.status, response.read(), dict(response.headers))
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.read(), dict(exc.headers))

    def get(self, server: int, path: str, headers: Mapping[str, str] | None = None) -> Response:
        return self.request(server, "GET", path, headers=headers)

    def post(
        self, server: int, path: str, body: Any, headers: Mapping[str, str] | None = None
    ) -> Response:
        return self.request(server, "POST", path, body, headers)

    def close(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
