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

    from charter.services import Services
    from charter.web.app import create_app

    services = Services.from_env()
    proxies = services.settings.trusted_proxies
    uvicorn.run(
        create_app(services),
        host=host,
        port=port,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        log_level="info",
    )
