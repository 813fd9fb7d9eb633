"""The services a CLI command works with, built once per invocation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from charter.services import Services


@contextmanager
def services() -> Iterator[Services]:
    built = Services.from_env()
    try:
        yield built
    finally:
        built.close()
