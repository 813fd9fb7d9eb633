"""What the browser tests share: the system Chromium, and Charter served for real on a free local port.

Without /usr/bin/chromium (or Playwright) a browser test is skipped locally
and fails under ``CI=true`` (``missing_server``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from charter.services import Services
from tests.conftest import missing_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-dev-shm-usage"]
START_WITHIN = 20.0

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # a dev dependency; its absence is reported by require_chromium
    sync_playwright = None  # type: ignore[assignment]


def require_chromium() -> Path:
    if sync_playwright is None:
        missing_server("Playwright", "the playwright package is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        missing_server("Chromium", f"{CHROMIUM} is not installed")
    return CHROMIUM


@contextmanager
def launched(chromium: Path) -> Iterator[Any]:
    """A Chromium browser (Playwright), closed afterwards."""
    assert sync_playwright is not None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # the kernel picks a free port; the server uses this very socket
    return sock


def url_of(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextmanager
def serving(services: Services, sock: socket.socket) -> Iterator[str]:
    """Charter's app in uvicorn on ``sock``, in a thread; its URL. Stopped, and ``services`` closed, afterwards."""
    from charter.web.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(services), log_level="warning", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_WITHIN
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=START_WITHIN)
        sock.close()
        services.close()
