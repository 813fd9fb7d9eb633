"""How the CLI reports: one line per problem on stderr, exit codes from the error tree."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

from charter.errors import CharterError

console = Console(soft_wrap=True)  # messages stay one line each: greppable, never cut mid-path
errors = Console(stderr=True, soft_wrap=True)


def emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str, ensure_ascii=False) + "\n")


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn a CharterError into its lines on stderr and its exit code; never a traceback."""
    try:
        yield
    except CharterError as exc:
        if exc.problems:
            for problem in exc.problems:
                errors.print(problem.render(), markup=False, highlight=False, soft_wrap=True)
        else:
            errors.print(f"error: {exc.detail}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None


def command(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a Typer command so Charter errors become exit codes."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with reported_errors():
            return func(*args, **kwargs)

    return wrapper
