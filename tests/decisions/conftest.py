"""The two West statements, compiled, and a way to build people's states from events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from charter.decisions import CompiledStatement, StatementHistory, compile_statement
from charter.decisions.state import PersonState
from charter.ledger.events import Event
from charter.ledger.projection import project
from charter.policy.loader import load
from tests.conftest import EXAMPLES

IN_2020 = datetime(2020, 6, 1, 12, tzinfo=UTC)
IN_2024 = datetime(2024, 6, 1, 12, tzinfo=UTC)


def _statement(name: str) -> CompiledStatement:
    return compile_statement(load((EXAMPLES / name).read_text(), source=name).statement)


@pytest.fixture(scope="session")
def s2019() -> CompiledStatement:
    return _statement("statement-2019.yaml")


@pytest.fixture(scope="session")
def s2023() -> CompiledStatement:
    return _statement("statement-2023.yaml")


@pytest.fixture(scope="session")
def history(s2019: CompiledStatement, s2023: CompiledStatement) -> StatementHistory:
    return StatementHistory.of([s2019.statement, s2023.statement])


def event(kind: str, at: datetime = IN_2020, source: str = "api", **data: Any) -> Event:
    return Event(kind=kind, at=at, source=source, data=data)  # type: ignore[arg-type]


def person(*events: Event) -> PersonState:
    return project(events)
