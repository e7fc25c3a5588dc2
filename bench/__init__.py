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

__all__ = ["TableSpec"]


@dataclass(frozen=True)
class TableSpec:
    """A table of plain strings, rendered with rich for a terminal or as Markdown."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
