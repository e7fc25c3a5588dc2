"""``carbonlabel audit`` on a large store: entries/s and peak memory (flat in the size).

The store is a real deployment on SQLite: ``carbonlabel log init``, then the demo
(a grading rule, 128 labels signed and logged through the issuer, their grades).
It is then grown to each size with label credentials templated from the demo's
signed labels: each copy gets its own credential id and label number, substituted
in the stored document and in its RFC 8785 form, whose SHA-256 is the digest its
(real) log entry names; so every digest check of the audit does the full work
(parse, canonicalize, hash 7.6 KB). One copy in 1,000 is followed by a logged
revocation, with a new status-list version (unsigned: the audit checks bits, not
list signatures) holding every revocation so far. Entries go through
:meth:`LogStore.integrate` in batches of 10,000 (a real tree, tiles and one
signed checkpoint per batch); their rows are bulk-inserted after each batch.

Each audit runs ``carbonlabel audit`` (log audit, rollback check, store audit) in
a child process through ``app.cli.main``; the parent takes the wall time (start-up
included), the child times the log and the store audit and reports its peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import TableSpec, fmt

NAME = "audit"
BATCH = 10_000
REVOKE_EVERY = 1_000
PASSPHRASE = "bench passphrase"


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--audit-dir",
        type=Path,
        default=None,
        help="where the audit suite builds its store (default: a temporary directory)",
    )


def _environment(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in list(env):
        if name.startswith("CARBONLABEL_"):
            del env[name]
    env.update(
        CARBONLABEL_DATA_DIR=str(data_dir),
        CARBONLABEL_KEYSTORE_PASSPHRASE=PASSPHRASE,
        CARBONLABEL_BATCH_SIZE="256",
    )
    return env


_CHILD = """
import json
import sys
import time
from pathlib import Path

import app.cli_audit
from app.cli import main

phases = {}

def timed(name, function):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            phases[name] = time.perf_counter() - started
    return wrapper

app.cli_audit.audit = timed("log", app.cli_audit.audit)
app.cli_audit.audit_store = timed("store", app.cli_audit.audit_store)
code = main(sys.argv[2:])
status = Path("/proc/self/status").read_text()
peak = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
Path(sys.argv[1]).write_text(json.dumps({"peak_kib": int(peak), "phases": phases}))
sys.exit(code)
"""
"""The child times the log audit and the store audit, and reports its own peak RSS
(``VmHWM``, KiB): ``ru_maxrss`` from ``wait4`` would include the parent's pages at fork,
which Linux carries across ``exec``."""


def _timed_child(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``carbonlabel ARGV`` in a child; its exit code, wall time, peak RSS and output."""
    root = Path(__file__).resolve().parent.parent
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        tempfile.TemporaryDirectory() as scratch,
    ):
        peak = Path(scratch) / "peak"
        started = time.perf_counter()
        child = subprocess.run(
            [sys.executable, "-c", _CHILD, str(peak), *argv],
            cwd=root,
            env=env,
            stdout=out,
            stderr=err,
            check=False,
        )
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        report = json.loads(peak.read_text()) if peak.exists() else {}
        return {
            "code": child.returncode,
            "seconds": wall,
            "maxrss_kib": report.get("peak_kib", 0),
            "phases": report.get("phases", {}),
            "out": out.read(),
            "err": err.read(),
        }


class _Grower:
    """Grows a demo deployment's store with templated labels and logged revocations."""

    def __init__(self, data_dir: Path) -> None:
        from app.runtime import Runtime
        from app.settings import load_settings

        os.environ.update(_environment(data_dir))
        self.runtime = Runtime(load_settings())
        self.serial = 0
        self.revoked: list[int] = []
        self._load_templates()

    def _load_templates(self) -> None:
        import orjson
        from sqlalchemy import text

        from credentials.canonical import canonicalize_jcs

        with self.runtime.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT credential_id, label_number, document, entry, org_id, gtin, batch, "
                    "serial, digital_link, product_category, status_list_index, "
                    "revocation_list, suspension_list FROM issued_credentials "
                    "WHERE kind = 'label' ORDER BY log_index LIMIT 8"
                )
            ).all()
            self.list_id = rows[0].revocation_list
            self.version = conn.execute(
                text("SELECT max(version) FROM status_list_versions WHERE list_id = :l"),
                {"l": self.list_id},
            ).scalar_one()
        self.templates = []
        for row in rows:
            document = orjson.loads(row.document)
            self.templates.append(
                {
                    "row": row,
                    "text": row.document,
                    "canonical": canonicalize_jcs(document).decode("utf-8"),
                    "entry": json.loads(row.entry),
                }
            )
        self.issuer_did = json.loads(rows[0].entry)["issuer"]

    def grow(self, target: int) -> None:
        """Append templated labels (and revocations) until the log holds ``target`` entries."""
        size = self.runtime.store.tree_size()
        while size < target:
            count = min(BATCH, target - size)
            entries, credentials, events, versions = self._batch(size, count)
            self.runtime.store.integrate(entries, self.runtime.sign_checkpoint, datetime.now(UTC))
            self._insert(credentials, events, versions)
            size += count

    def _batch(
        self, first: int, count: int
    ) -> tuple[list[bytes], list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        import orjson

        from credentials.canonical import canonicalize_jcs
        from credentials.statuslist import Bitstring, status_list_credential
        from schemas.logentry import entry_bytes

        now = datetime.now(UTC)
        created = now.strftime("%Y-%m-%d %H:%M:%S.%f")
        entries: list[bytes] = []
        credentials: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        versions: list[tuple[Any, ...]] = []
        url = f"{self.runtime.settings.public_url}/status/{self.list_id}"
        for index in range(first, first + count):
            if index % REVOKE_EVERY == REVOKE_EVERY - 1:
                position = (len(self.revoked) * 7919 + 1000) % 131_072
                entry = {
                    "kind": "status",
                    "credential": f"urn:uuid:bench-revoked-{index}",
                    "purpose": "revocation",
                    "value": True,
                    "statusList": url,
                    "statusIndex": position,
                    "issuer": self.issuer_did,
                    "at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
                entries.append(entry_bytes(entry, canonicalize_jcs))
                events.append(
                    (index, self.list_id, position, 1, entry["credential"], None, created)
                )
                self.revoked.append(position)
                bits = Bitstring()
                for revoked in self.revoked:
                    bits.set(revoked)
                self.version += 1
                document = status_list_credential(url, self.issuer_did, "revocation", bits, now)
                versions.append((self.list_id, self.version, json.dumps(document), created))
                continue
            template = self.templates[index % len(self.templates)]
            row = template["row"]
            self.serial += 1
            credential_id = f"urn:uuid:{self.serial:08x}-be0c-4a0d-8000-{index:012x}"
            number = f"GDCL-2099-BN-{self.serial:07d}"
            canonical = (
                template["canonical"]
                .replace(row.credential_id, credential_id)
                .replace(row.label_number, number)
                .encode("utf-8")
            )
            digest = "sha256:" + hashlib.sha256(canonical).hexdigest()
            document = template["text"].replace(row.credential_id, credential_id)
            document = document.replace(row.label_number, number)
            entry = {
                **template["entry"],
                "credential": credential_id,
                "digest": digest,
                "labelNumber": number,
            }
            entries.append(entry_bytes(entry, canonicalize_jcs))
            credentials.append(
                (
                    credential_id,
                    "label",
                    row.org_id,
                    number,
                    document,
                    digest,
                    orjson.dumps(entry).decode("utf-8"),
                    index,
                    row.gtin,
                    row.batch,
                    row.serial,
                    row.digital_link,
                    row.product_category,
                    row.status_list_index,
                    row.revocation_list,
                    row.suspension_list,
                    created,
                )
            )
        return entries, credentials, events, versions

    def _insert(
        self,
        credentials: list[tuple[Any, ...]],
        events: list[tuple[Any, ...]],
        versions: list[tuple[Any, ...]],
    ) -> None:
        raw = self.runtime.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("BEGIN")
            cursor.executemany(
                "INSERT INTO issued_credentials (credential_id, kind, org_id, label_number, "
                "document, digest, entry, log_index, gtin, batch, serial, digital_link, "
                "product_category, status_list_index, revocation_list, suspension_list, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                credentials,
            )
            cursor.executemany(
                "INSERT INTO status_events (log_index, list_id, status_index, value, "
                "credential_id, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                events,
            )
            cursor.executemany(
                "INSERT INTO status_list_versions (list_id, version, document, created_at) "
                "VALUES (?, ?, ?, ?)",
                versions,
            )
            cursor.execute("COMMIT")
            cursor.close()
        finally:
            raw.close()

    def check_sample(self) -> None:
        """The templated copies hash as their entries say (else the audit would fail)."""
        import orjson
        from sqlalchemy import text

        from credentials.canonical import canonicalize_jcs

        with self.runtime.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT document, digest FROM issued_credentials "
                    "ORDER BY log_index DESC LIMIT 1"
                )
            ).one()
        actual = (
            "sha256:" + hashlib.sha256(canonicalize_jcs(orjson.loads(row.document))).hexdigest()
        )
        assert actual == row.digest, "templated copies do not hash to their digests"

    def close(self) -> None:
        self.runtime.close()


def _database_mib(data_dir: Path) -> float:
    return sum(p.stat().st_size for p in data_dir.glob("carbonlabel.db*")) / (1 << 20)


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    from rich.console import Console

    console = Console(stderr=True)
    sizes = sorted(args.sizes or ([5_000, 20_000] if args.quick else [100_000, 1_000_000]))
    base = args.audit_dir or Path(tempfile.mkdtemp(prefix="carbonlabel-audit-bench-"))
    data_dir = base / "var"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    env = _environment(data_dir)
    rows: list[dict[str, Any]] = []
    saved = dict(os.environ)
    try:
        for argv in (["log", "init"], ["demo"]):
            result = _timed_child(argv, env)
            if result["code"] != 0:
                raise SystemExit(f"carbonlabel {' '.join(argv)} failed: {result['err']}")
        grower = _Grower(data_dir)
        try:
            for size in sizes:
                console.print(f"[bold]audit[/] growing the store to {size:,} entries …")
                started = time.perf_counter()
                grower.grow(size)
                grower.check_sample()
                built = time.perf_counter() - started
                console.print(f"  built in {built:,.0f} s; auditing …")
                full = _timed_child(["audit"], env)
                if full["code"] != 0:
                    raise SystemExit(f"carbonlabel audit failed at {size:,}: {full['err']}")
                summary = full["out"].strip().splitlines()
                console.print("  " + "\n  ".join(summary))
                phases = full["phases"]
                rows.append(
                    {
                        "kind": "audit",
                        "entries": size,
                        "credentials": _count(summary, "credentials"),
                        "database_mib": round(_database_mib(data_dir)),
                        "grow_seconds": round(built, 1),
                        "audit_seconds": round(full["seconds"], 1),
                        "entries_per_s": round(size / full["seconds"]),
                        "log_audit_seconds": round(phases["log"], 1),
                        "log_audit_entries_per_s": round(size / phases["log"]),
                        "store_audit_seconds": round(phases["store"], 1),
                        "store_audit_entries_per_s": round(size / phases["store"]),
                        "peak_rss_mib": round(full["maxrss_kib"] / 1024, 1),
                    }
                )
                console.print(
                    f"  {rows[-1]['entries_per_s']:,} entries/s, peak RSS "
                    f"{rows[-1]['peak_rss_mib']:,} MiB"
                )
        finally:
            grower.close()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if args.audit_dir is None:
            shutil.rmtree(base, ignore_errors=True)
    return rows


def _count(summary: list[str], what: str) -> int | None:
    for line in summary:
        if line.startswith("OK: store:"):
            return int(line.split("OK: store:")[1].split(what)[0].strip().replace(",", ""))
    return None


def tables(rows: list[dict[str, Any]]) -> list[TableSpec]:
    columns = [
        "entries",
        "credentials",
        "database_mib",
        "audit_seconds",
        "entries_per_s",
        "log_audit_entries_per_s",
        "store_audit_entries_per_s",
        "peak_rss_mib",
    ]
    body = [[fmt(row.get(column), 1) for column in columns] for row in rows]
    return [TableSpec("carbonlabel audit (SQLite)", columns, body)]
