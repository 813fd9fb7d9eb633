"""The demo's example shop: a site on another origin that embeds the consent banner with one tag.

A real site lives on its own origin, so the demo serves ``examples/west/shop.html``
from a second port, with the Charter URL of this run written into its tag.
Only that one page is served: this is a demo convenience, not a web server.
"""

from __future__ import annotations

import threading
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SHOP = "shop.html"
WRITTEN_FOR = "http://127.0.0.1:8000"  # the Charter URL the example file names


class _ShopHandler(BaseHTTPRequestHandler):
    def __init__(self, *args: object, page: bytes, **kwargs: object) -> None:
        self.page = page
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] not in ("/", f"/{SHOP}"):
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the demo's terminal is for Charter's own messages."""


def shop_page(folder: Path, charter_url: str) -> bytes:
    return (folder / SHOP).read_text(encoding="utf-8").replace(WRITTEN_FOR, charter_url.rstrip("/")).encode()


def serve_shop(folder: Path, host: str, port: int, charter_url: str) -> ThreadingHTTPServer:
    """Serve the shop page in a daemon thread; the caller prints where."""
    server = ThreadingHTTPServer((host, port), partial(_ShopHandler, page=shop_page(folder, charter_url)))
    threading.Thread(target=server.serve_forever, name="demo-shop", daemon=True).start()
    return server
