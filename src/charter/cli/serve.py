"""``charter serve``: the web app under uvicorn, in one process or several (the options; the rest is
:mod:`charter.cli.serve_run`)."""

from __future__ import annotations

from typing import Annotated

import typer

from charter.cli import serve_run
from charter.cli.output import command


@command
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (one per core is a good start).")] = 1,
) -> None:
    """Serve the privacy center, the console and the API."""
    serve_run.serve(host=host, port=port, workers=workers)
