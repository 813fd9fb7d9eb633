"""``charter serve`` and ``charter worker`` read a plain command line without Typer, into what Typer would pass.

:mod:`charter.cli.service_argv` mirrors the Typer declarations; these tests
hold the two equal (every option Typer shows is known, every value read is
Typer's, every line Typer refuses is left to Typer), and hold the import
boundary it buys: a worker loads neither Typer nor the web layer, a server
neither Typer nor Celery.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from charter.cli import serve_run, service_argv, worker_run
from charter.cli.main import service_app
from charter.db import Database, migrate

CASES = {
    "serve": [
        [],
        ["--port", "8123"],
        ["--port=8123"],
        ["--host", "0.0.0.0", "--workers", "2", "--port", "9000"],  # noqa: S104 - a command line, nothing binds
        ["--host=::1"],
        ["--workers", "64"],
        ["--workers", "0"],
        ["--workers", "65"],
        ["--workers", "two"],
        ["--port", "-1"],
        ["--port"],
        ["--port", "1", "--port", "2"],
        ["--host", "--port"],
        ["--help"],
        ["--no-such-option"],
        ["extra"],
    ],
    "worker": [
        [],
        ["--concurrency", "4"],
        ["--concurrency=64"],
        ["--concurrency", "0"],
        ["--concurrency", "65"],
        ["--loglevel", "debug", "--sweep-every", "2.5"],
        ["--sweep-every", "0"],
        ["--sweep-every=30"],
        ["--sweep-every", "-1"],
        ["--sweep-every", "1e3"],
        ["--sweep-once", "--json"],
        ["--sweep-once=yes"],
        ["--json", "--json"],
        ["--help"],
        ["-h"],
        ["--"],
    ],
}


def _typer_kwargs(monkeypatch: pytest.MonkeyPatch, name: str, argv: list[str]) -> dict[str, Any] | None:
    """What Typer passes to the command's body for ``charter NAME ARGV`` (None when it refuses or only helps)."""
    seen: list[dict[str, Any]] = []
    module = serve_run if name == "serve" else worker_run
    monkeypatch.setattr(module, name, lambda **kwargs: seen.append(kwargs))
    result = CliRunner().invoke(service_app(name), [name, *argv], prog_name="charter")
    if result.exit_code != 0 or not seen:
        return None
    return seen[0]


@pytest.mark.parametrize(("name", "argv"), [(n, a) for n, cases in CASES.items() for a in cases])
def test_a_plain_command_line_reads_as_typer_reads_it_and_anything_else_is_left_to_typer(
    monkeypatch: pytest.MonkeyPatch, name: str, argv: list[str]
) -> None:
    parsed = service_argv.parse(name, argv)
    expected = _typer_kwargs(monkeypatch, name, argv)
    if parsed is not None:
        assert parsed == expected
    if expected is None:
        assert parsed is None  # Typer's help or its error, word for word


@pytest.mark.parametrize("name", sorted(service_argv.OPTIONS))
def test_every_option_typer_shows_is_known(name: str) -> None:
    shown = CliRunner().invoke(service_app(name), [name, "--help"], prog_name="charter", env={"COLUMNS": "200"})
    flags = set(re.findall(r"(--[a-z][a-z-]+)", shown.output)) - {"--help"}
    assert flags == {option.flag for option in service_argv.OPTIONS[name]}


def _imported(code: str, tmp_path: Path, **env: str) -> list[str]:
    database = Database(f"sqlite:///{tmp_path / 'charter.db'}")
    migrate(database)
    database.dispose()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")},
        "CHARTER_HOME": str(tmp_path / "home"),
        "CHARTER_DATABASE_URL": database.url,
        **env,
    }
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=environment)
    assert done.returncode == 0, done.stderr
    found = [line for line in done.stdout.splitlines() if line.startswith("loaded:")]
    return found[-1].removeprefix("loaded:").split(",") if found else ["(never reached)"]


WEB = ("fastapi", "starlette", "jinja2", "uvicorn", "charter.web")
CLI = ("typer", "rich")  # not click: Celery's application imports it, and uvicorn's configuration


def test_a_worker_loads_neither_typer_nor_the_web_layer(tmp_path: Path, redis_prefix: tuple[str, str]) -> None:
    """Up to where Celery's worker starts: the command line, the services, the task and its domain."""
    url, prefix = redis_prefix
    code = (
        "import sys\n"
        "from charter.jobs import worker as runtime\n"
        "def started(services, **options):\n"
        "    from charter.jobs.celery_queue import worker_app\n"
        "    runtime.check_broker(services)\n"
        "    worker_app(services)\n"
        "    import charter.execution.jobs\n"
        f"    print('loaded:' + ','.join(m for m in {WEB + CLI!r} if m in sys.modules))\n"
        "runtime.run = started\n"
        "sys.argv = ['charter', 'worker', '--concurrency', '2']\n"
        "from charter.cli.main import run\n"
        "run()\n"
    )
    found = _imported(
        code, tmp_path, CHARTER_JOBS_BACKEND="celery", CHARTER_JOBS_BROKER_URL=url, CHARTER_JOBS_KEY_PREFIX=prefix
    )
    assert found == [""]


def test_a_server_loads_neither_typer_nor_celery(tmp_path: Path) -> None:
    """The served app as uvicorn loads it, from ``charter serve --port P``."""
    code = (
        "import sys, uvicorn\n"
        "def served(self, sockets=None):\n"
        "    self.config.load()\n"
        "    from charter.jobs.celery_queue import CeleryQueue\n"
        f"    print('loaded:' + ','.join(m for m in {(*CLI, 'celery', 'kombu', 'billiard')!r} if m in sys.modules))\n"
        "uvicorn.Server.run = served\n"
        "sys.argv = ['charter', 'serve', '--port', '0']\n"
        "from charter.cli.main import run\n"
        "run()\n"
    )
    assert _imported(code, tmp_path, CHARTER_JOBS_BACKEND="celery") == [""]
