"""Reflected table definitions are reused across connectors to the same database (docs/bench.md)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import event

from charter.connectors.sql import SqlConnector


def _store(tmp_path: Path) -> str:
    path = tmp_path / "store.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)")
        conn.execute("INSERT INTO customers (email) VALUES ('ana@example.org'), ('ben@example.org')")
    return f"sqlite:///{path}"


def _catalog_reads(connector: SqlConnector) -> list[str]:
    seen: list[str] = []

    @event.listens_for(connector.engine, "before_cursor_execute")
    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "PRAGMA" in statement.upper() or "SQLITE_MASTER" in statement.upper():
            seen.append(statement)

    return seen


def _fetch(connector: SqlConnector) -> list[dict[str, object]]:
    return [dict(row) for chunk in connector.fetch("customers", "email", ["ana@example.org"]) for row in chunk]


def test_a_second_connector_reads_no_catalog(tmp_path: Path) -> None:
    url = _store(tmp_path)
    first = SqlConnector("shop", url, schema_cache_seconds=300)
    first_reads = _catalog_reads(first)
    assert [row["email"] for row in _fetch(first)] == ["ana@example.org"]
    first.close()
    second = SqlConnector("shop", url, schema_cache_seconds=300)
    second_reads = _catalog_reads(second)
    assert [row["email"] for row in _fetch(second)] == ["ana@example.org"]
    second.close()
    assert first_reads and not second_reads


def test_without_the_cache_every_connector_reflects(tmp_path: Path) -> None:
    url = _store(tmp_path)
    for _ in range(2):
        connector = SqlConnector("shop", url, schema_cache_seconds=0)
        reads = _catalog_reads(connector)
        _fetch(connector)
        connector.close()
        assert reads
