"""Invoke a Typer app as a user would, on a test database, and refuse tracebacks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer
from typer.testing import CliRunner, Result

from charter.db import Database

Invoke = Callable[..., Result]


def invoker(app: typer.Typer, database: Database, home: Path, **env: str) -> Invoke:
    """``invoke(*args)`` runs ``app`` with ``CHARTER_DATABASE_URL``/``CHARTER_HOME`` set, plus ``env``."""
    environment = {"CHARTER_DATABASE_URL": database.url, "CHARTER_HOME": str(home), **env}
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        result = runner.invoke(app, list(args), env=environment)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        return result

    return invoke
