"""uvicorn with N worker processes on a listening socket that keeps TCP_NODELAY.

``uvicorn --workers N`` (0.54) binds its socket with ``socket.socket(family)``,
so ``proto`` is 0; accepted connections inherit it and asyncio then skips
``TCP_NODELAY``: on Linux every keep-alive request after the first waits
~40 ms for the client's delayed ACK (uvicorn issue #3149). This launcher
binds the socket with ``IPPROTO_TCP`` and hands it to uvicorn's own
supervisor; everything else is ``uvicorn --factory charter.web.app:create_app``.

Run: ``python bench/_serve.py HOST PORT WORKERS``.
"""

from __future__ import annotations

import socket
import sys

from uvicorn import Config, Server
from uvicorn.supervisors import Multiprocess


def main() -> None:
    host, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    config = Config(
        "charter.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    if workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
