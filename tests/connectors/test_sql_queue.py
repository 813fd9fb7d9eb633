"""A unit's writes by primary key in one round trip on PostgreSQL (``connectors/sql_queue.py``), each with the
count it must have: the same rows written as one by one, and a count that differs commits nothing (P-RGT-3:
a certificate never says more rows were erased than were)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, text

from charter.connectors.base import Miscounted
from charter.connectors.sql import SqlConnector

TABLE = '"Id" bigint PRIMARY KEY, "eMail" varchar(40), note jsonb, seen timestamptz, "Owner" bigint'
ROWS = (
    "(1, 'ana@example.org', '{\"a\": 1}', now(), 10)",
    "(2, 'Ana@Example.org', NULL, NULL, 10)",
    "(3, 'ben@example.org', '[]', now(), 11)",
    "(4, 'ana@example.org', NULL, now(), 10)",
)


@pytest.fixture
def store(postgres_url: str) -> Iterator[tuple[SqlConnector, str, Any]]:
    schema = f"queue_{uuid.uuid4().hex[:10]}"
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        for table in ("visits", "notes"):
            conn.execute(text(f'CREATE TABLE "{schema}".{table} ({TABLE})'))
            conn.execute(text(f'INSERT INTO "{schema}".{table} VALUES {", ".join(ROWS)}'))
    connector = SqlConnector("store", postgres_url, chunk_size=2)
    yield connector, schema, engine
    connector.close()
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def _rows(engine: Any, schema: str, table: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{schema}".{table} ORDER BY "Id"'))]


def _sent_in_pipelines(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    sent: list[tuple[str, bool]] = []
    executemany = psycopg.Cursor.executemany

    def watched(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append((str(query).split()[0], cursor.connection._pipeline is not None))
        return executemany(cursor, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "executemany", watched)
    return sent


def _write(connector: SqlConnector, schema: str, *, queued: bool, deleted: list[int]) -> tuple[int, int]:
    connector.begin(queued=queued)
    try:
        gone = connector.delete("visits", "Id", deleted, schema=schema)
        changed = connector.rewrite(
            "notes", "Id", [(1, {"eMail": "x1", "note": None}), (4, {"eMail": "x4", "note": {"k": [1]}})], schema=schema
        )
        connector.commit()
    except BaseException:
        connector.rollback()
        raise
    return gone, changed


@pytest.mark.parametrize("queued", [True, False], ids=["queued", "one by one"])
def test_queued_writes_write_what_one_by_one_writes(
    store: tuple[SqlConnector, str, Any], monkeypatch: pytest.MonkeyPatch, queued: bool
) -> None:
    connector, schema, engine = store
    sent = _sent_in_pipelines(monkeypatch)
    assert _write(connector, schema, queued=queued, deleted=[1, 2, 4]) == (3, 2)
    assert _rows(engine, schema, "visits") == [(3, "ben@example.org", [], _rows(engine, schema, "visits")[0][3], 11)]
    notes = {r[0]: (r[1], r[2]) for r in _rows(engine, schema, "notes")}
    assert notes[1] == ("x1", None) and notes[4] == ("x4", {"k": [1]}) and notes[2] == ("Ana@Example.org", None)
    assert all(in_pipeline == queued for _verb, in_pipeline in sent) and sent  # all together, or none


def test_a_count_that_differs_commits_nothing(store: tuple[SqlConnector, str, Any]) -> None:
    """The discovery found rows 1, 2 and 4; someone deleted 4 meanwhile: the queued DELETE removes two, not
    three, so the unit is rolled back whole (the notes' rewrite too) and the caller writes again one by one."""
    connector, schema, engine = store
    before = {t: _rows(engine, schema, t) for t in ("visits", "notes")}
    with engine.begin() as conn:
        conn.execute(text(f'DELETE FROM "{schema}".visits WHERE "Id" = 4'))
    after_their_delete = {t: _rows(engine, schema, t) for t in ("visits", "notes")}
    with pytest.raises(Miscounted, match="2 rows where 3 were found"):
        _write(connector, schema, queued=True, deleted=[1, 2, 4])
    assert {t: _rows(engine, schema, t) for t in ("visits", "notes")} == after_their_delete != before
    assert _write(connector, schema, queued=False, deleted=[1, 2, 4]) == (2, 2)  # one by one: what the store says
