"""Run benchmark suites and record their results.

``python -m bench [SUITE|all] [--sizes 100000,1000000] [--quick]``

Suites: ``ledger``, ``credentials``, ``issuance``, ``verifier``, ``audit``
(``carbonlabel audit`` on 100k and 1M entries with their credentials).

A suite is any module ``bench/<name>_bench.py`` with ``NAME`` and
``run(args) -> list[dict]`` (see :mod:`bench`). Each suite's rows are printed as
tables and written, with a description of the machine, to
``bench/out/<suite>-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import sqlite3
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import TableSpec

OUT_DIR = Path(__file__).resolve().parent / "out"
_SUFFIX = "_bench"


def discover() -> dict[str, ModuleType]:
    """Every suite module in this package, by its ``NAME``."""
    suites: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules([str(Path(__file__).resolve().parent)]):
        if not info.name.endswith(_SUFFIX):
            continue
        module = importlib.import_module(f"{__package__ or 'bench'}.{info.name}")
        suites[module.NAME] = module
    return dict(sorted(suites.items()))


def parse_sizes(value: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"sizes must be integers: {value!r}") from exc
    if not sizes or any(size <= 0 for size in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive: {value!r}")
    return sizes


def build_parser(suites: dict[str, ModuleType]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "suite", nargs="?", default="all", choices=[*suites, "all"], help="suite to run"
    )
    parser.add_argument("--sizes", type=parse_sizes, default=None, help="comma-separated log sizes")
    parser.add_argument("--quick", action="store_true", help="small sizes and samples (smoke)")
    parser.add_argument("--markdown", action="store_true", help="also print the tables as Markdown")
    parser.add_argument(
        "--out", type=Path, default=OUT_DIR, help=f"directory for JSON results ({OUT_DIR})"
    )
    for module in suites.values():
        add_arguments = getattr(module, "add_arguments", None)
        if add_arguments is not None:
            add_arguments(parser.add_argument_group(f"{module.NAME} suite"))
    return parser


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
    }


def generic_tables(name: str, rows: Sequence[dict[str, Any]]) -> list[TableSpec]:
    """One table per ``kind`` of row, with the union of their keys as columns."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row.get("kind", name)), []).append(row)
    specs = []
    for kind, group in groups.items():
        columns: list[str] = []
        for row in group:
            columns += [key for key in row if key != "kind" and key not in columns]
        body = [[format_value(row.get(column)) for column in columns] for row in group]
        specs.append(TableSpec(f"{name}: {kind}", columns, body))
    return specs


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render(console: Console, spec: TableSpec) -> None:
    table = Table(title=spec.title, title_justify="left")
    for column in spec.columns:
        table.add_column(column)
    for row in spec.rows:
        table.add_row(*row)
    console.print(table)


def markdown(spec: TableSpec) -> str:
    lines = [f"**{spec.title}**", ""]
    lines.append("| " + " | ".join(spec.columns) + " |")
    lines.append("|" + "|".join("---" for _ in spec.columns) + "|")
    lines += [
        "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in spec.rows
    ]
    return "\n".join(lines) + "\n"


def write_results(
    out_dir: Path, name: str, started: datetime, argv: Sequence[str], rows: list[dict[str, Any]]
) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    document = {
        "suite": name,
        "started": started.isoformat(),
        "finished": datetime.now(UTC).isoformat(),
        "argv": list(argv),
        "machine": machine(),
        "results": rows,
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    suites = discover()
    arguments = sys.argv[1:] if argv is None else argv
    args = build_parser(suites).parse_args(arguments)
    selected = list(suites.values()) if args.suite == "all" else [suites[args.suite]]
    console = Console(width=None if sys.stdout.isatty() else 200)
    for module in selected:
        started = datetime.now(UTC)
        console.rule(f"suite {module.NAME}")
        rows = module.run(args)
        path = write_results(args.out, module.NAME, started, arguments, rows)
        tables = getattr(module, "tables", None)
        specs = tables(rows) if tables is not None else generic_tables(module.NAME, rows)
        for spec in specs:
            render(console, spec)
            if args.markdown:
                console.print(markdown(spec), markup=False, highlight=False, soft_wrap=True)
        console.print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
