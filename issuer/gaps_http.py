"""``GET /labels/gaps``: the label numbers no logged label carries, and why.

Public, like the labels themselves: a label number is printed on every product,
so anyone (a regulator first) may check that a number missing from the log was
skipped, not hidden (issuer/allocate.py). The process that reserved a range
(host and pid) is left out here; ``carbonlabel label gaps`` shows it to operators.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from issuer.allocate import skipped_numbers
from issuer.errors import FieldProblem, InvalidRequest, NotFound

_YEAR = re.compile(r"[0-9]{4}")


def parse_year(value: str | None) -> int | None:
    """A four-digit year of ASCII digits, or None. Raises InvalidRequest naming ``/year``."""
    if value is None:
        return None
    if _YEAR.fullmatch(value) is None:
        raise InvalidRequest(
            "year must be a four-digit year", [FieldProblem("/year", f"got {value!r}")]
        )
    return int(value)


def label_gaps(engine: Engine, year: int | None, org: str | None) -> dict[str, Any]:
    """The body of ``GET /labels/gaps``. Raises NotFound for an unknown issuer slug."""
    try:
        ranges = skipped_numbers(engine, year, org)
    except LookupError as exc:
        raise NotFound(str(exc.args[0])) from exc
    return {
        "year": year,
        "issuer": org,
        "skipped": sum(r.count for r in ranges),
        "ranges": [r.to_json(with_holder=False) for r in ranges],
    }


def gaps_router(engine: Engine) -> APIRouter:
    """The ``/labels/gaps`` route over the issuer's store; mount it before ``/labels/{n}``."""
    router = APIRouter()

    @router.get(
        "/labels/gaps",
        tags=["labels"],
        summary="Label numbers skipped (reserved, never logged), with the reason",
    )
    def gaps(
        year: Annotated[str | None, Query(description="Four-digit year (default: all)")] = None,
        org: Annotated[str | None, Query(description="Issuer slug (default: all)")] = None,
    ) -> JSONResponse:
        body = label_gaps(engine, parse_year(year), org)
        return JSONResponse(body, headers={"Cache-Control": "public, max-age=60"})

    return router
