"""Every error becomes an RFC 9457 problem document, mapped in this one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from credentials.errors import KeystoreError
from issuer.errors import GtinTaken, InvalidRequest, IssuerError, NotGradableError, Unauthorized
from ledger.errors import LedgerError, RangeError, StoreError

PROBLEM = "application/problem+json"


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": code, "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def install_problem_handlers(app: FastAPI) -> None:
    """Register the exception → problem mappings on ``app``."""

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail
        if isinstance(detail, dict):
            body = {"status": exc.status_code, **detail}
            return JSONResponse(
                body, status_code=exc.status_code, media_type=PROBLEM, headers=exc.headers
            )
        return problem(exc.status_code, "http-error", str(detail), str(detail))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"pointer": "/" + "/".join(str(p) for p in e["loc"][1:]), "reason": e["msg"]}
            for e in exc.errors()
        ]
        return problem(
            422,
            "invalid-request",
            "Invalid request",
            "the request does not validate",
            errors=errors,
        )

    @app.exception_handler(IssuerError)
    async def _issuer(_: Request, exc: IssuerError) -> JSONResponse:
        extra: dict[str, Any] = {}
        if isinstance(exc, InvalidRequest | GtinTaken) and exc.errors:
            extra["errors"] = [{"pointer": e.pointer, "reason": e.reason} for e in exc.errors]
        if isinstance(exc, NotGradableError):
            extra["reason"] = exc.reason
        response = problem(exc.status, exc.code, type(exc).__name__, exc.detail, **extra)
        if isinstance(exc, Unauthorized):
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(KeystoreError)
    async def _keystore(_: Request, exc: KeystoreError) -> JSONResponse:
        return problem(503, "keystore-unavailable", "Keystore unavailable", str(exc))

    @app.exception_handler(RangeError)
    async def _range(_: Request, exc: RangeError) -> JSONResponse:
        return problem(404, "beyond-tree", "Not found", str(exc))

    @app.exception_handler(StoreError)
    async def _store(_: Request, exc: StoreError) -> JSONResponse:
        return problem(503, "store-unavailable", "Store unavailable", str(exc))

    @app.exception_handler(LedgerError)
    async def _ledger(_: Request, exc: LedgerError) -> JSONResponse:
        return problem(400, "ledger-error", "Bad request", str(exc))
