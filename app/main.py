"""The composition root of the web service: ``create_app(settings)``.

uvicorn runs it with ``--factory`` through :func:`create_app_from_env`; nothing
is created at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from app.problems import install_problem_handlers
from app.runtime import Runtime, utcnow
from app.settings import Settings, load_settings
from ledger.http import log_router
from ledger.sequencer import Sequencer


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    """Build the service for ``settings``: log routes, health, OpenAPI docs at /docs.

    The log must have been initialised (``carbonlabel log init``).
    """
    runtime = runtime or Runtime(settings)
    sequencer = Sequencer(
        runtime.store,
        runtime.sign_checkpoint,
        clock=utcnow,
        batch_size=settings.batch_size,
        batch_delay=settings.batch_delay_ms / 1000,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtime.store.origin()  # fail fast if the log is not initialised
        yield
        sequencer.close()
        runtime.close()

    app = FastAPI(
        title="Carbon Label Ledger",
        version="0.1.0",
        description="Verifiable product carbon labels anchored in an RFC 9162 transparency log.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.sequencer = sequencer
    install_problem_handlers(app)
    app.include_router(log_router(runtime.store))

    @app.get("/healthz", tags=["health"], summary="Liveness and the log's size")
    def healthz() -> JSONResponse:
        checkpoint = runtime.store.latest_checkpoint()
        return JSONResponse(
            {"status": "ok", "origin": runtime.store.origin(), "tree_size": checkpoint.tree_size}
        )

    return app


def create_app_from_env() -> FastAPI:
    """uvicorn ``--factory`` entry point: settings from ``CARBONLABEL_*``."""
    return create_app(load_settings())
