"""``carbonlabel serve``: run the web service with uvicorn (``--factory``)."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from app.settings import load_settings


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (CARBONLABEL_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (CARBONLABEL_PORT).")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (one per core serves best).")
    ] = 1,
) -> None:
    """Start the service: log routes, /healthz and the OpenAPI docs at /docs."""
    settings = load_settings()
    bind_host = host or settings.host
    bind_port = port or settings.port
    base = f"http://{bind_host}:{bind_port}"
    typer.echo(f"Carbon Label Ledger on {base}")
    typer.echo(f"  API docs:    {base}/docs")
    typer.echo(f"  checkpoint:  {base}/log/checkpoint")
    typer.echo(f"  health:      {base}/healthz")
    uvicorn.run(
        "app.main:create_app_from_env",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=workers,
        log_level="info",
    )
