"""``charter serve`` and ``charter worker`` started without Typer, when their command line is plain.

The processes they start live for weeks; Typer and its Click (about 6 MB of
each process, docs/bench.md) are needed for a few milliseconds, to read a
handful of options. :func:`parse` reads the command lines a deployment
writes (``--port 8000``, ``--concurrency=4``, ``--sweep-once --json``)
into the same keyword arguments Typer would pass; anything else (``--help``,
an unknown or repeated option, a value out of range or not plainly a
number, a positional argument) returns None and the command goes through
Typer as before, so help and errors are Typer's own, word for word.
:data:`OPTIONS` mirrors the Typer declarations in :mod:`charter.cli.serve`
and :mod:`charter.cli.worker`; ``tests/cli/test_service_argv.py`` holds the
two equal, option by option.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from charter.errors import CharterError

_INT = re.compile(r"[0-9]{1,9}")
_FLOAT = re.compile(r"[0-9]{1,9}(\.[0-9]{1,9})?")


@dataclass(frozen=True)
class Option:
    """One option: its flag, the keyword it fills, its type (``int``, ``float``, ``str`` or ``flag``) and bounds."""

    flag: str
    name: str
    kind: str
    default: Any
    low: float | None = None
    high: float | None = None

    def read(self, text: str) -> Any:
        """The value, or None when Typer must judge it (its error message is the one a user should see)."""
        if self.kind == "str":
            return None if text.startswith("-") or not text else text
        pattern = _INT if self.kind == "int" else _FLOAT
        if not pattern.fullmatch(text):
            return None
        value: int | float = int(text) if self.kind == "int" else float(text)
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            return None
        return value


OPTIONS: dict[str, tuple[Option, ...]] = {
    "serve": (
        Option("--host", "host", "str", "127.0.0.1"),
        Option("--port", "port", "int", 8000),
        Option("--workers", "workers", "int", 1, 1, 64),
    ),
    "worker": (
        Option("--concurrency", "concurrency", "int", 2, 1, 64),
        Option("--loglevel", "loglevel", "str", "info"),
        Option("--sweep-every", "sweep_every", "float", None, 0),
        Option("--sweep-once", "sweep_once", "flag", False),
        Option("--json", "as_json", "flag", False),
    ),
}


def parse(command: str, argv: Sequence[str]) -> dict[str, Any] | None:
    """The keyword arguments of ``charter COMMAND ARGV``, or None to leave the command line to Typer."""
    options = {option.flag: option for option in OPTIONS[command]}
    found: dict[str, Any] = {}
    args = list(argv)
    while args:
        flag, equals, text = args.pop(0).partition("=")
        option = options.get(flag)
        if option is None or option.name in found:
            return None
        if option.kind == "flag":
            if equals:
                return None
            found[option.name] = True
            continue
        if not equals:
            if not args:
                return None
            text = args.pop(0)
        value = option.read(text)
        if value is None:
            return None
        found[option.name] = value
    return {option.name: found.get(option.name, option.default) for option in OPTIONS[command]}


def _target(command: str) -> Callable[..., None]:
    if command == "serve":
        from charter.cli.serve_run import serve

        return serve
    from charter.cli.worker_run import worker

    return worker


def start(command: str, kwargs: dict[str, Any]) -> None:
    """Run the command as its Typer shell would: a Charter error is its lines and its exit code; Ctrl-C
    before the service took over its signals is Click's ``Aborted!`` and exit 1."""
    from charter.cli.output import report

    try:
        _target(command)(**kwargs)
    except CharterError as exc:
        sys.exit(report(exc))
    except KeyboardInterrupt:
        print("\nAborted!", file=sys.stderr)
        sys.exit(1)
