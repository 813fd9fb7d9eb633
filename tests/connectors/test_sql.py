"""The SQL connector on real SQLite, PostgreSQL and MariaDB: describe, ping, batched reads, failures."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from charter.connectors import Connector, connector_for
from charter.connectors.sql import SqlConnector
from charter.errors import InvalidInput, NotFound, Unavailable
from charter.settings import ConnectorSettings
from tests.connectors.conftest import PEOPLE

Store = tuple[str, str | None]


def connect(store: Store, chunk_size: int = 500) -> SqlConnector:
    url, _ = store
    return SqlConnector("shop", url, connect_timeout=3, chunk_size=chunk_size)


def test_the_registry_builds_a_sql_connector(sql_store: Store) -> None:
    connector = connector_for("sql", "shop", sql_store[0], ConnectorSettings())
    assert isinstance(connector, Connector)
    connector.ping()
    connector.close()


def test_describe_lists_tables_columns_keys_and_foreign_keys(sql_store: Store) -> None:
    connector = connect(sql_store)
    live = connector.describe(schema=sql_store[1])
    connector.close()
    assert {"customers", "addresses", "orders", "order_items", "payments"} <= set(live.collections)
    customers = live.collections["customers"].columns
    assert customers["id"].primary_key and customers["id"].family == "integer"
    assert customers["email"].family == "text" and not customers["email"].nullable
    assert customers["phone"].nullable
    assert customers["birth_date"].family == "date"
    assert customers["created_at"].family == "datetime"
    assert ("customer_id", "customers", "id") in live.collections["orders"].foreign_keys


def test_fetch_reads_one_query_per_chunk_of_values(sql_store: Store) -> None:
    connector = connect(sql_store, chunk_size=3)
    list(connector.fetch("customers", "email", PEOPLE[:1], schema=sql_store[1]))  # learn the table first
    statements: list[str] = []

    @event.listens_for(connector.engine, "before_cursor_execute")
    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    wanted = [*PEOPLE[:7], PEOPLE[0], "nobody@example.org"]  # a repeat and a stranger
    chunks = list(connector.fetch("customers", "email", wanted, schema=sql_store[1]))
    connector.close()
    assert len(statements) == 3  # 8 distinct values in chunks of 3, never one query per row
    assert all("customers" in s and "email" in s for s in statements)
    assert [len(chunk) for chunk in chunks] == [3, 3, 1]
    assert sorted(row["email"] for chunk in chunks for row in chunk) == sorted(PEOPLE[:7])


def test_fetch_binds_values_never_formats_them(sql_store: Store) -> None:
    connector = connect(sql_store)
    rows = [r for chunk in connector.fetch("customers", "email", ["x' OR '1'='1"], schema=sql_store[1]) for r in chunk]
    connector.close()
    assert rows == []


def test_fetch_refuses_unknown_tables_and_columns(sql_store: Store) -> None:
    connector = connect(sql_store)
    with pytest.raises(NotFound, match="system 'shop' has no table 'customer'"):
        list(connector.fetch("customer", "email", ["a"], schema=sql_store[1]))
    with pytest.raises(InvalidInput, match="no column 'mail'"):
        list(connector.fetch("customers", "mail", ["a"], schema=sql_store[1]))
    connector.close()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://charter:s3cretPW@127.0.0.1:1/shop",
        "mysql+pymysql://charter:s3cretPW@127.0.0.1:1/shop",
    ],
)
def test_an_unreachable_database_is_unavailable_naming_the_system_not_the_password(url: str) -> None:
    connector = SqlConnector("shop", url, connect_timeout=2)
    with pytest.raises(Unavailable) as caught:
        connector.ping()
    connector.close()
    assert caught.value.detail.startswith("system 'shop' is unavailable: ")
    assert "s3cretPW" not in caught.value.detail
    assert "s3cretPW" not in str(caught.value)


def test_a_missing_sqlite_file_is_unavailable_not_created(tmp_path: Any) -> None:
    with pytest.raises(Unavailable, match="system 'shop' is unavailable"):
        SqlConnector("shop", f"sqlite:///{tmp_path / 'typo.db'}")
    assert not (tmp_path / "typo.db").exists()


def _driver_in_transaction(connection: Any) -> bool:
    """Whether the driver itself has a transaction open on this connection (not SQLAlchemy's bookkeeping)."""
    raw = connection.connection.dbapi_connection
    if hasattr(raw, "info") and hasattr(raw.info, "transaction_status"):  # psycopg
        from psycopg.pq import TransactionStatus

        return bool(raw.info.transaction_status != TransactionStatus.IDLE)
    if hasattr(raw, "get_autocommit"):  # PyMySQL: in autocommit every statement is its own transaction
        return not raw.get_autocommit()
    return bool(raw.in_transaction)  # sqlite3


def test_reads_and_one_statement_deletes_hold_no_transaction_open(sql_store: Store) -> None:
    """A run keeps its connections between steps: a read, or a write of one statement, must not leave a
    transaction open on them (locks held, snapshots kept) while the runner does something else."""
    connector = connect(sql_store, chunk_size=2)
    rows = [r for chunk in connector.fetch("customers", "email", PEOPLE[:3], schema=sql_store[1]) for r in chunk]
    assert len(rows) == 3
    assert connector._reader is not None and not _driver_in_transaction(connector._reader)
    found = [r for c in connector.fetch("addresses", "customer_id", [rows[0]["id"]], schema=sql_store[1]) for r in c]
    deleted = connector.delete("addresses", "customer_id", [rows[0]["id"]], schema=sql_store[1])
    assert connector._held is None and not _driver_in_transaction(connector._reader)  # one statement: no transaction
    connector.close()
    assert deleted == len(found)


def test_a_delete_of_many_chunks_is_one_transaction(sql_store: Store) -> None:
    """More values than one statement takes: every chunk's DELETE in one transaction, all counted."""
    connector = connect(sql_store, chunk_size=2)
    customers = [r["id"] for c in connector.fetch("customers", "email", PEOPLE[:5], schema=sql_store[1]) for r in c]
    before = sum(len(c) for c in connector.fetch("addresses", "customer_id", customers, schema=sql_store[1]))
    deleted = connector.delete("addresses", "customer_id", customers, schema=sql_store[1])
    after = sum(len(c) for c in connector.fetch("addresses", "customer_id", customers, schema=sql_store[1]))
    assert connector._held is not None  # the writing connection, its transaction committed
    connector.close()
    assert before > 0 and deleted == before and after == 0
