"""``charter serve``: one or several workers on a real socket; a port in use is a one-line error."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from charter.db import Database, migrate

ENTRY = "import sys; from charter.cli.main import run; sys.argv[0] = 'charter'; run()"


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Database:
    """The embedded default is enough: serving is not about the backend."""
    database = Database(f"sqlite:///{tmp_path / 'charter.db'}")
    migrate(database)
    database.dispose()
    return database


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(database: Database, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "CHARTER_HOME": str(tmp_path / "home"), "CHARTER_DATABASE_URL": database.url}


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serves_health_with_workers(sqlite_database: Database, tmp_path: Path, workers: str) -> None:
    port = _free_port()
    log = tmp_path / "serve.log"
    with (
        log.open("wb") as output,
        subprocess.Popen(
            [sys.executable, "-c", ENTRY, "serve", "--port", str(port), "--workers", workers],
            env=_env(sqlite_database, tmp_path),
            stdout=output,
            stderr=subprocess.STDOUT,
        ) as server,
    ):
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                        assert response.status == 200
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError(log.read_text()) from None
                    time.sleep(0.2)
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_a_port_in_use_is_one_line(sqlite_database: Database, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-c", ENTRY, "serve", "--port", str(port)],
            env=_env(sqlite_database, tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr
