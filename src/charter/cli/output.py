"""How the CLI reports: one line per problem on stderr, exit codes from the error tree.

``console`` (stdout) and ``errors`` (stderr) are rich consoles made when a
command first uses one: ``charter serve`` and ``charter worker`` print
nothing through them unless they fail to start, and rich (about 1 MB) would
otherwise stay loaded for the life of the process. Typer is imported only
when an error is turned into its exit: the service commands may run
without it (:mod:`charter.cli.service_argv`).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from charter.errors import CharterError

if TYPE_CHECKING:
    from rich.console import Console


@functools.cache
def _console(stderr: bool) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=True)  # messages stay one line each: greppable, never cut mid-path


def __getattr__(name: str) -> Console:
    if name == "console":
        return _console(False)
    if name == "errors":
        return _console(True)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str, ensure_ascii=False) + "\n")


def report(exc: CharterError) -> int:
    """Print a CharterError as its lines on stderr (never a traceback); its exit code."""
    if exc.problems:
        for problem in exc.problems:
            _console(True).print(problem.render(), markup=False, highlight=False, soft_wrap=True)
    else:
        _console(True).print(f"error: {exc.detail}", markup=False, highlight=False, soft_wrap=True)
    return exc.exit_code


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn a CharterError into its lines on stderr and its exit code; never a traceback."""
    try:
        yield
    except CharterError as exc:
        import typer

        raise typer.Exit(report(exc)) from None


def command(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a Typer command so Charter errors become exit codes."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with reported_errors():
            return func(*args, **kwargs)

    return wrapper
