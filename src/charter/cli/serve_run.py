"""What ``charter serve`` does once its options are read: the web app under uvicorn, in one process or several.

Kept apart from the Typer command (:mod:`charter.cli.serve`) so that the
serving process can start without Typer (:mod:`charter.cli.service_argv`).
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from charter.errors import InvalidInput

if TYPE_CHECKING:
    from charter.settings import Settings

APP_FACTORY = "charter.web.app:create_served_app"


def _listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound with ``IPPROTO_TCP`` so accepted connections get ``TCP_NODELAY``.

    uvicorn's own multi-worker bind leaves the protocol 0, and asyncio then
    skips ``TCP_NODELAY``: every keep-alive request waits ~40 ms for a
    delayed ACK (uvicorn issue #3149). Binding here avoids it.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidInput(f"--host/--port: cannot listen on {host}:{port} ({exc.strerror})") from None
    sock.set_inheritable(True)
    return sock


def serve(*, host: str, port: int, workers: int) -> None:
    """Serve the privacy center, the console and the API (returns when uvicorn stops)."""
    from uvicorn import Config, Server
    from uvicorn.supervisors import Multiprocess

    from charter.settings import Settings

    settings = Settings.load()
    settings.secret_key()  # refuse to start (exit 1, one line) before forking if production has no key
    _require_schema(settings)
    proxies = settings.trusted_proxies
    config = Config(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        log_level="info",
    )
    sock = _listening_socket(host, port)
    if workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        Server(config).run(sockets=[sock])


def _require_schema(settings: Settings) -> None:
    """Refuse to serve a database another version of Charter migrated (one line: run charter db upgrade)."""
    from charter.db import Database, require_schema

    database = Database(settings.database_url)
    try:
        require_schema(database)
    finally:
        database.dispose()
