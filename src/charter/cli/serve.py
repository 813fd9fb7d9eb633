"""``charter serve``: the web app under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from charter.cli.output import command


@command
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the privacy center, the console and the API."""
    import uvicorn

    from charter.web.app import create_app

    uvicorn.run(create_app(), host=host, port=port, proxy_headers=False, log_level="info")
