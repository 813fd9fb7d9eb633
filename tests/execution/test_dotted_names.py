"""A field whose own name holds a dot, beside a nested field of the same spelling: both are the person's.

``addr.line1`` is a SQL column (or a Redis hash field) so named; ``addr`` → ``line1`` is a field nested in
the document the column (hash field) ``addr`` holds. Before the loader recorded nesting from the YAML, a dot
in a name was taken for nesting: the flat field was left out of the access package and never erased.

Each store here holds both for two people; the requester asks for access (P-RGT-1: both values in the
package), then for deletion (P-RGT-3: the flat field holds its erasure, the document holding the nested one
is removed, the other person's row is untouched, the certificate says ``erased`` and ``verified``), and the
data map checks clean against the live store. What the store holds is read with plain SQL or redis-py, never
with Charter's connectors. PostgreSQL keeps the document in ``jsonb``, MariaDB in ``JSON``, SQLite and
Redis as JSON text.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import create_engine, text

from charter.datamap import service as datamaps
from charter.db import Database
from charter.execution import plan, service
from charter.execution.certificate import certificate_of
from charter.execution.runner import Runner
from charter.execution.steps import Action
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.execution.conftest import approved, package_collections

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

ANA, BEN = "ana@example.org", "ben@example.org"
FLAT, NESTED = "1 Flat Street", "2 Nested Road"
URL_ENV = "DOTS_URL"
#: what the certificate says of the collection's fields: the dotted name shown in quotes (charter.datamap.paths)
FIELDS = {'"addr.line1"': "redact_text", "addr": "set_null", "email": "random_token"}
FIELD_LIST = """\
          - {name: email, data_categories: [user.contact.email], fides_meta: {identity: email, data_type: string}}
          - name: addr.line1
            data_categories: [user.contact.address.street]
            fides_meta: {data_type: string}
            charter: {erasure: {strategy: redact_text}}
          - name: addr
            data_categories: [user.contact.address]
            fides_meta: {data_type: object}
            fields:
              - {name: line1, data_categories: [user.contact.address.street], fides_meta: {data_type: string}}
          - {name: plan, data_categories: [system.operations], fides_meta: {data_type: string}}
"""


def _write_map(
    folder: Path, kind: str, collection: str, extra: str = "", namespace: str = "", dataset: str = "dots"
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    key = "          - {name: id, data_categories: [system.operations], fides_meta: {primary_key: true}}\n"
    (folder / "dots.yaml").write_text(
        f"systems:\n  - {{id: dots, kind: {kind}, url_env: {URL_ENV}, datasets: [{dataset}]}}\n"
        f"dataset:\n  - fides_key: {dataset}\n"
        + namespace
        + f"    collections:\n      - name: {json.dumps(collection)}\n{extra}        fields:\n"
        + ("" if kind == "redis" else key)
        + FIELD_LIST
    )
    return folder


def _runner(database: Database, config: Settings, vault: Vault, url: str, folder: Path) -> Runner:
    datamap = service.load_datamap(config, folder)
    return Runner(database, config, vault, datamap, env={URL_ENV: url}, sleep=lambda _s: None)


def _package_rows(database: Database, config: Settings, vault: Vault, public_id: str) -> list[dict[str, Any]]:
    [rows] = package_collections(database, config.home, vault, public_id).values()
    return rows


def _document(value: Any) -> Any:
    """The nested document as the store gave it: a mapping (jsonb), or JSON text (SQLite, MariaDB, Redis)."""
    return json.loads(value) if isinstance(value, str) else value


def _live_check_is_clean(config: Settings, folder: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV, url)
    report = datamaps.check_path(folder, config, live=True)
    assert [f.render() for f in report.findings if f.severity in ("error", "drift")] == []
    assert not any("untouched" in f.render() for f in report.findings)  # the nested field goes with 'addr'


def _access_then_deletion(
    database: Database, config: Settings, vault: Vault, url: str, folder: Path
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The package of an access request, then the certificate of a deletion, both for Ana (typed in capitals)."""
    public_id = approved(database, config, vault, RequestKind.ACCESS, email=ANA.upper())
    outcome = _runner(database, config, vault, url, folder).run(public_id)
    assert outcome.status == "completed", outcome.error
    rows = _package_rows(database, config, vault, public_id)
    public_id = approved(database, config, vault, RequestKind.DELETION, email=ANA)
    outcome = _runner(database, config, vault, url, folder).run(public_id)
    assert outcome.status == "completed", outcome.error
    return rows, certificate_of(database, public_id)


def _certified(document: dict[str, Any]) -> None:
    """Erased and verified, the one row re-read by its key (a SQL row by its primary key, a Redis hash by its own
    key: before issue 11's last slice a Redis hash was only searched again, ``rows_checked`` 0)."""
    assert (document["outcome"], document["verified"]) == ("erased", True)
    [entry] = document["collections"]
    assert entry["fields"] == FIELDS and entry["rows_matched"] == 1 and entry["rows_checked"] == 1


def _token(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 24 and set(value) <= set("0123456789abcdef")


# -- SQL ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SqlStore:
    url: str
    table: str
    schema: str | None
    dialect: str

    def quoted(self, name: str) -> str:
        return f"`{name}`" if self.dialect == "mariadb" else f'"{name}"'

    @property
    def qualified(self) -> str:
        return f"{self.quoted(self.schema)}.{self.quoted(self.table)}" if self.schema else self.quoted(self.table)

    def rows(self) -> dict[int, dict[str, Any]]:
        """Every row by id, read with plain SQL."""
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                found = conn.execute(text(f"SELECT * FROM {self.qualified} ORDER BY id")).mappings()
                return {int(r["id"]): dict(r) for r in found}
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    dialect: str = request.param
    suffix = uuid.uuid4().hex[:8]
    if dialect == "sqlite":
        store = SqlStore(f"sqlite:///{tmp_path / 'dots.db'}", "member", None, dialect)
        document_type = "TEXT"
    elif dialect == "postgresql":
        store = SqlStore(request.getfixturevalue("postgres_url"), "member", f"dots_{suffix}", dialect)
        document_type = "jsonb"
    else:
        store = SqlStore(request.getfixturevalue("mariadb_url"), f"member_{suffix}", None, dialect)
        document_type = "JSON"
    engine = create_engine(store.url)
    q = store.quoted
    with engine.begin() as conn:
        if store.schema:
            conn.execute(text(f"CREATE SCHEMA {q(store.schema)}"))
        conn.execute(
            text(
                f"CREATE TABLE {store.qualified} (id INTEGER PRIMARY KEY, email VARCHAR(120) NOT NULL, "
                f"{q('addr.line1')} VARCHAR(120), addr {document_type}, plan VARCHAR(20))"
            )
        )
        for number, email, flat, nested in ((1, ANA, FLAT, NESTED), (2, BEN, "9 Other Way", "8 Other Lane")):
            conn.execute(
                text(f"INSERT INTO {store.qualified} VALUES (:id, :email, :flat, :doc, 'gold')"),
                {"id": number, "email": email, "flat": flat, "doc": json.dumps({"line1": nested})},
            )
    try:
        yield store
    finally:
        with engine.begin() as conn:
            if store.schema:
                conn.execute(text(f"DROP SCHEMA {q(store.schema)} CASCADE"))
            elif dialect == "mariadb":
                conn.execute(text(f"DROP TABLE {store.qualified}"))
        engine.dispose()


def test_a_sql_column_named_with_a_dot_and_a_nested_field_are_both_found_and_erased(
    database: Database,
    config: Settings,
    vault: Vault,
    tmp_path: Path,
    sql_store: SqlStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P-RGT-1, P-RGT-3: the column ``addr.line1`` and ``line1`` inside the JSON column ``addr``."""
    namespace = f"    fides_meta: {{namespace: {{schema: {sql_store.schema}}}}}\n" if sql_store.schema else ""
    folder = _write_map(tmp_path / "map", "sql", sql_store.table, namespace=namespace)
    _live_check_is_clean(config, folder, sql_store.url, monkeypatch)
    before = sql_store.rows()

    rows, document = _access_then_deletion(database, config, vault, sql_store.url, folder)

    [mine] = rows
    assert mine["addr.line1"] == FLAT and _document(mine["addr"]) == {"line1": NESTED}
    assert mine["email"] == ANA and mine["plan"] == "gold"
    after = sql_store.rows()
    assert after[2] == before[2]  # Ben's row, as it was
    ana = after[1]
    assert ana["addr.line1"] == "(erased)" and ana["addr"] is None and _token(ana["email"])
    assert ana["plan"] == "gold"
    _certified(document)


def test_a_dataset_key_holding_a_dot_is_searched_and_erased(
    database: Database,
    config: Settings,
    vault: Vault,
    tmp_path: Path,
    sql_store: SqlStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P-RGT-1, P-RGT-3: a dataset ``shop.v2`` (fideslang's FidesKey allows dots), its collection's key
    ``shop.v2.member``. Before, a collection's key was split at its first dot (dataset ``shop``, collection
    ``v2.member``): no step of the plan could find its collection."""
    namespace = f"    fides_meta: {{namespace: {{schema: {sql_store.schema}}}}}\n" if sql_store.schema else ""
    folder = _write_map(tmp_path / "map", "sql", sql_store.table, namespace=namespace, dataset="shop.v2")
    _live_check_is_clean(config, folder, sql_store.url, monkeypatch)
    before = sql_store.rows()

    rows, document = _access_then_deletion(database, config, vault, sql_store.url, folder)

    [mine] = rows
    assert mine["email"] == ANA and mine["addr.line1"] == FLAT
    after = sql_store.rows()
    assert after[2] == before[2] and _token(after[1]["email"]) and after[1]["addr.line1"] == "(erased)"
    _certified(document)
    assert document["collections"][0]["collection"] == f"shop.v2.{sql_store.table}"


# -- Redis -------------------------------------------------------------------------------------------


def test_a_redis_hash_field_named_with_a_dot_and_a_nested_field_are_both_found_and_erased(
    database: Database,
    config: Settings,
    vault: Vault,
    tmp_path: Path,
    redis_prefix: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P-RGT-1, P-RGT-3: the hash field ``addr.line1`` and ``line1`` inside the hash field ``addr`` (JSON text);
    the hashes are scanned (``member:*``) and matched on their ``email`` field."""
    url, prefix = redis_prefix
    pattern = f"{prefix}:member:*"
    extra = f"        charter: {{key: {json.dumps(pattern)}}}\n"
    folder = _write_map(tmp_path / "map", "redis", pattern, extra=extra)
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        people = ((ANA, FLAT, NESTED), (BEN, "9 Other Way", "8 Other Lane"))
        for number, (email, flat, nested) in enumerate(people, start=1):
            values = {"email": email, "addr.line1": flat, "addr": json.dumps({"line1": nested}), "plan": "gold"}
            client.hset(f"{prefix}:member:{number}", mapping=values)
        _live_check_is_clean(config, folder, url, monkeypatch)
        before = {key: client.hgetall(key) for key in client.scan_iter(match=f"{prefix}:*")}

        rows, document = _access_then_deletion(database, config, vault, url, folder)

        [mine] = rows
        assert mine["_key"] == f"{prefix}:member:1"
        assert mine["addr.line1"] == FLAT and _document(mine["addr"]) == {"line1": NESTED}
        after = {key: client.hgetall(key) for key in client.scan_iter(match=f"{prefix}:*")}
        assert set(after) == set(before)  # no key appeared or went
        assert after[f"{prefix}:member:2"] == before[f"{prefix}:member:2"]  # Ben's hash, as it was
        ana = after[f"{prefix}:member:1"]
        assert set(ana) == {"email", "addr.line1", "plan"}  # 'addr' removed (set_null is HDEL)
        assert ana["addr.line1"] == "(erased)" and _token(ana["email"]) and ana["plan"] == "gold"
    finally:
        client.close()
    _certified(document)


# -- the plan, without a store ----------------------------------------------------


def test_the_plan_writes_the_column_s_own_name_and_shows_it_in_quotes(config: Settings, tmp_path: Path) -> None:
    """P-RGT-3: the erase step rewrites the column ``addr.line1`` as the store spells it; people read it as
    ``"addr.line1"``, so it is never taken for ``line1`` inside ``addr``, which goes with ``addr``."""
    datamap = service.load_datamap(config, _write_map(tmp_path / "map", "sql", "member"))
    planned = plan.build(datamap, plan.PlanRequest("r1", RequestKind.DELETION, {"email": [ANA]}))
    [erase] = planned.of(Action.ERASE)
    assert [f.field for f in erase.fields] == ["addr", "addr.line1", "email"]
    assert [f.render() for f in erase.fields] == ["addr=set_null", '"addr.line1"=redact_text', "email=random_token"]
    assert planned.untouched == ()  # the nested line1 is erased with 'addr', not left
    [fetch] = planned.of(Action.FETCH)
    assert [i.render() for i in fetch.inputs] == ["email IN identity:email"]
