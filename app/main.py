"""The composition root of the web service: ``create_app(settings)``.

uvicorn runs it with ``--factory`` through :func:`create_app_from_env`; nothing
is created at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from app.limits import LimitsMiddleware
from app.problems import install_problem_handlers
from app.runtime import Runtime
from app.settings import Settings, load_settings
from app.verifying import Verifying, grade_summary, summarize
from issuer.errors import Unauthorized
from issuer.gaps_http import gaps_router
from issuer.http import issuer_router
from ledger.http import log_router
from verifier.http import verifier_router


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    """Build the service for ``settings``: log routes, health, OpenAPI docs at /docs.

    The log must have been initialised (``carbonlabel log init``).
    """
    runtime = runtime or Runtime(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtime.store.origin()  # fail fast if the log is not initialised
        yield
        runtime.close()

    app = FastAPI(
        title="Carbon Label Ledger",
        version="0.1.0",
        description="Verifiable product carbon labels anchored in an RFC 9162 transparency log.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    app.include_router(log_router(runtime.store))
    app.include_router(gaps_router(runtime.engine))  # before /labels/{label_number}
    app.include_router(issuer_router(runtime.issuer, runtime.directory, runtime.did_document))
    verifying = Verifying(runtime)
    app.state.verifying = verifying
    app.include_router(
        verifier_router(
            verifying.service,
            summarize=summarize,
            grade_summary=grade_summary,
            trust_list=verifying.signed_trust_list,
            alert_scope=verifying.alert_scope,
            log_origin=verifying.log_origin,
            status_change=verifying.status_change,
        )
    )

    @app.get("/healthz", tags=["health"], summary="Liveness and the log's size")
    def healthz() -> JSONResponse:
        checkpoint = runtime.store.latest_checkpoint()
        return JSONResponse(
            {"status": "ok", "origin": runtime.store.origin(), "tree_size": checkpoint.tree_size}
        )

    def authenticates(authorization: str) -> bool:
        try:
            runtime.directory.authenticate(authorization)
        except Unauthorized:
            return False
        return True

    app.add_middleware(
        LimitsMiddleware,
        max_body_bytes=settings.max_body_bytes,
        rate_per_minute=settings.rate_limit_per_minute,
        authenticate=authenticates,
    )
    return app


def create_app_from_env() -> FastAPI:
    """uvicorn ``--factory`` entry point: settings from ``CARBONLABEL_*``."""
    return create_app(load_settings())
