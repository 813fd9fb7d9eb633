"""A worker keeps its store connectors between runs (``execution.kept``): the next run checks nothing out of the
pool, yet sees the store as it is, survives a connection the server dropped, and a deletion left half-done by a
failure leaves nothing open (P-RGT-1, P-RGT-3)."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from charter.connectors import Connector
from charter.connectors.sql import SqlConnector
from charter.db import Database
from charter.execution import service
from charter.execution.kept import KeptConnectors
from charter.execution.runner import Runner
from charter.requests.kinds import RequestKind
from charter.settings import ConnectorSettings, Settings
from charter.subjects.service import Vault
from tests.execution import fides_style
from tests.execution.conftest import approved, read_package


class _Fake:
    def __init__(self, name: str, *, rests: bool = True) -> None:
        self.name, self.closed, self.rested = name, False, 0
        if not rests:
            self.rest = None  # type: ignore[assignment]

    def rest(self) -> None:
        self.rested += 1

    def close(self) -> None:
        self.closed = True


def test_a_kept_connector_is_reused_within_its_idle_time_then_built_again() -> None:
    now = [0.0]
    kept = KeptConnectors(idle=60, clock=lambda: now[0])
    first = kept.get("shop", lambda: _Fake("first"))  # type: ignore[arg-type,return-value]
    kept.rest(first)
    now[0] = 59
    assert kept.get("shop", lambda: _Fake("second")) is first  # type: ignore[arg-type,return-value]
    kept.rest(first)
    now[0] = 120
    second = kept.get("shop", lambda: _Fake("second"))  # type: ignore[arg-type,return-value]
    assert second is not first and first.closed  # type: ignore[attr-defined]
    other = kept.get("other", lambda: _Fake("other"))  # type: ignore[arg-type,return-value]
    assert other is not second
    kept.rest(other)
    now[0] = 300  # "shop" is in use by a long run: never closed under it; "other" rested too long
    kept.get("third", lambda: _Fake("third"))  # type: ignore[arg-type,return-value]
    assert other.closed and not second.closed  # type: ignore[attr-defined]
    kept.rest(second)
    now[0] = 400  # "shop" is not asked for again (its URL changed): closed once it rested too long
    kept.get("fourth", lambda: _Fake("fourth"))  # type: ignore[arg-type,return-value]
    assert second.closed  # type: ignore[attr-defined]
    kept.close_all()


def test_a_connector_that_cannot_rest_is_closed_and_each_thread_keeps_its_own() -> None:
    kept = KeptConnectors()
    plain = kept.get("redis", lambda: _Fake("plain", rests=False))  # type: ignore[arg-type,return-value]
    kept.rest(plain)
    assert plain.closed  # type: ignore[attr-defined]
    assert kept.get("redis", lambda: _Fake("again")) is not plain  # type: ignore[arg-type,return-value]
    mine = kept.get("shop", lambda: _Fake("mine"))  # type: ignore[arg-type,return-value]
    theirs: list[Connector] = []
    other = threading.Thread(target=lambda: theirs.append(kept.get("shop", lambda: _Fake("theirs"))))  # type: ignore[arg-type,return-value]
    other.start()
    other.join()
    assert theirs[0] is not mine


@pytest.fixture(params=["postgresql", "mariadb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[fides_style.Store]:
    admin = request.getfixturevalue("postgres_url" if request.param == "postgresql" else "mariadb_url")
    with fides_style.store(request.param, tmp_path, admin_url=admin) as made:
        yield made


def _runner(
    database: Database, config: Settings, vault: Vault, store: fides_style.Store, folder: Path, kept: KeptConnectors
) -> Runner:
    datamap = service.load_datamap(config, fides_style.write_map(folder, store.schema))
    env = {"FIDES_STYLE_URL": store.url}
    return Runner(database, config, vault, datamap, env=env, sleep=lambda _s: None, kept=kept)


def _customers(database: Database, config: Settings, vault: Vault, public_id: str) -> list[dict[str, Any]]:
    archive = zipfile.ZipFile(io.BytesIO(read_package(database, config.home, vault, public_id)))
    found = {c["collection"]: c["rows"] for c in json.loads(archive.read("package.json"))["collections"]}
    return list(found["fides_style_db.customer"])


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_next_run_checks_nothing_out_and_still_reads_the_store_as_it_is(
    database: Database, config: Settings, vault: Vault, store: fides_style.Store, tmp_path: Path
) -> None:
    kept = KeptConnectors()
    first = approved(database, config, vault, RequestKind.ACCESS, email=fides_style.ANA)
    assert _runner(database, config, vault, store, tmp_path / "a", kept).run(first).status == "completed"
    [connector] = [c for c, _ in kept._kept().values()]
    assert isinstance(connector, SqlConnector)
    checkouts: list[int] = []
    listen = lambda *_args: checkouts.append(1)  # noqa: E731
    engine: Engine = connector.engine
    event.listen(engine, "checkout", listen)
    # meanwhile her name changes in the store (plain SQL): the kept connector must not answer from the past
    customer = f'"{store.schema}".customer' if store.schema else "customer"
    with store.engine.begin() as conn:
        conn.execute(text(f"UPDATE {customer} SET name = 'Ana Renamed' WHERE id = :id"), {"id": fides_style.ANA_ID})
    try:
        second = approved(database, config, vault, RequestKind.ACCESS, email=fides_style.ANA)
        assert _runner(database, config, vault, store, tmp_path / "b", kept).run(second).status == "completed"
    finally:
        event.remove(engine, "checkout", listen)
        kept.close_all()
    assert checkouts == []  # the held connections served the second run: no checkout, no ping
    assert [r["name"] for r in _customers(database, config, vault, second)] == ["Ana Renamed"]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("store", ["postgresql"], indirect=True)
def test_a_kept_connection_the_server_dropped_costs_a_retry_not_the_request(
    database: Database, config: Settings, vault: Vault, store: fides_style.Store, tmp_path: Path
) -> None:
    """The store restarted between two runs (every connection of the kept connector terminated): the next run's
    first read is ``Unavailable``, the connector connects afresh, and the request completes with her rows."""
    kept = KeptConnectors()
    first = approved(database, config, vault, RequestKind.ACCESS, email=fides_style.ANA)
    assert _runner(database, config, vault, store, tmp_path / "a", kept).run(first).status == "completed"
    [connector] = [c for c, _ in kept._kept().values()]
    assert isinstance(connector, SqlConnector) and connector._reader is not None
    raw = connector._reader.connection.dbapi_connection
    assert raw is not None
    with store.engine.begin() as conn:  # the server drops the connection the worker kept
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": raw.info.backend_pid})
    try:
        second = approved(database, config, vault, RequestKind.ACCESS, email=fides_style.ANA)
        outcome = _runner(database, config, vault, store, tmp_path / "b", kept).run(second)
    finally:
        kept.close_all()
    assert outcome.status == "completed", outcome.error
    assert [r["id"] for r in _customers(database, config, vault, second)] == [fides_style.ANA_ID]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("store", ["postgresql"], indirect=True)
def test_a_column_added_between_two_runs_is_read_by_the_kept_connector(
    database: Database, config: Settings, vault: Vault, store: fides_style.Store, tmp_path: Path
) -> None:
    """The store gains a column and the map declares it between two runs of a worker (schema cache off): the
    kept connector forgot its reflected tables when the first run ended, so the second reads the new column."""
    fresh = config.model_copy(update={"connectors": ConnectorSettings(schema_cache_seconds=0)})
    kept = KeptConnectors()
    first = approved(database, config, vault, RequestKind.ACCESS, email=fides_style.ANA)
    assert _runner(database, fresh, vault, store, tmp_path / "a", kept).run(first).status == "completed"
    with store.engine.begin() as conn:
        conn.execute(text(f'ALTER TABLE "{store.schema}".payment_card ADD COLUMN nickname varchar(20)'))
        conn.execute(text(f"UPDATE \"{store.schema}\".payment_card SET nickname = 'blue' WHERE id = 'card-1-0'"))
    declared = fides_style.DATASET.replace(
        "          - name: preferred\n",
        "          - name: nickname\n            data_categories: [user]\n          - name: preferred\n",
        1,
    )
    datamap = service.load_datamap(fresh, fides_style.write_map(tmp_path / "b", store.schema, declared))
    runner = Runner(
        database, fresh, vault, datamap, env={"FIDES_STYLE_URL": store.url}, sleep=lambda _s: None, kept=kept
    )
    try:
        second = approved(database, config, vault, RequestKind.ACCESS, email=fides_style.ANA)
        assert runner.run(second).status == "completed"
    finally:
        kept.close_all()
    archive = zipfile.ZipFile(io.BytesIO(read_package(database, config.home, vault, second)))
    found = {c["collection"]: c["rows"] for c in json.loads(archive.read("package.json"))["collections"]}
    assert {r["id"]: r.get("nickname") for r in found["fides_style_db.payment_card"]} == {
        "card-1-0": "blue",
        "card-1-1": None,
    }
