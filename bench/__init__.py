"""Benchmarks: ``python -m bench [SUITE|all]`` (see :mod:`bench.__main__`).

Each suite is a module ``bench/<name>_bench.py`` exposing ``NAME: str`` and
``run(args: argparse.Namespace) -> list[dict]``. Optionally it also exposes
``add_arguments(group)`` for options of its own and ``tables(rows) ->
list[TableSpec]`` for a tailored view of its rows; otherwise the rows are shown
grouped by their ``kind`` key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["TableSpec", "fmt"]


@dataclass(frozen=True)
class TableSpec:
    """A table of plain strings, rendered with rich for a terminal or as Markdown."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]


def fmt(value: Any, digits: int = 3) -> str:
    """A table cell: thousands separators, ``digits`` decimals below 100, yes/NO, – for None."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.{digits}f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
