"""Any SQLAlchemy database as a Connector: PostgreSQL (psycopg), MariaDB/MySQL (PyMySQL), SQLite.

Identifiers are never formatted into SQL: tables are reflected into
SQLAlchemy ``Table`` objects, which quote them. Values are bound parameters;
a fetch sends one ``IN`` query per chunk of values, never one per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Engine, MetaData, Table, create_engine, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchTableError, SQLAlchemyError

from charter.connectors.base import LiveCollection, LiveColumn, LiveSchema, Row, unavailable
from charter.errors import InvalidInput, Misconfigured, NotFound


def _connect_args(url: URL, timeout: float) -> dict[str, Any]:
    backend = url.get_backend_name()
    seconds = max(1, round(timeout))
    if backend == "postgresql":
        return {"connect_timeout": seconds}
    if backend in ("mysql", "mariadb"):
        return {"connect_timeout": seconds, "read_timeout": max(seconds, 30), "write_timeout": max(seconds, 30)}
    if backend == "sqlite":
        return {"timeout": timeout}
    return {}


class SqlConnector:
    def __init__(self, system_id: str, url: str, *, connect_timeout: float = 5.0, chunk_size: int = 500) -> None:
        self.system_id = system_id
        self.chunk_size = chunk_size
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise Misconfigured(f"system '{system_id}': the URL is not a SQLAlchemy URL") from None
        self._password = parsed.password if isinstance(parsed.password, str) else None
        if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
            # SQLite would create an empty file where none is: a typo must not look like an empty database.
            from pathlib import Path

            if not Path(parsed.database).exists():
                raise unavailable(system_id, FileNotFoundError("the SQLite file does not exist"))
        try:
            self.engine: Engine = create_engine(
                parsed, connect_args=_connect_args(parsed, connect_timeout), pool_pre_ping=True
            )
        except (ArgumentError, ImportError) as exc:
            raise Misconfigured(f"system '{system_id}': cannot use this kind of URL ({type(exc).__name__})") from None
        self._tables: dict[tuple[str | None, str], Table] = {}

    def _failed(self, exc: BaseException) -> Exception:
        origin = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        return unavailable(self.system_id, origin, secret=self._password)

    def ping(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except SQLAlchemyError as exc:
            raise self._failed(exc) from exc

    def describe(self, *, schema: str | None = None) -> LiveSchema:
        try:
            with self.engine.connect() as conn:
                inspector = inspect(conn)
                collections = {}
                for name in inspector.get_table_names(schema=schema):
                    keys = set(
                        (inspector.get_pk_constraint(name, schema=schema) or {}).get("constrained_columns") or []
                    )
                    columns = {
                        c["name"]: LiveColumn(
                            name=c["name"],
                            type=_type_name(c["type"]),
                            nullable=bool(c.get("nullable", True)),
                            primary_key=c["name"] in keys,
                        )
                        for c in inspector.get_columns(name, schema=schema)
                    }
                    foreign = tuple(
                        (column, fk["referred_table"], referred)
                        for fk in inspector.get_foreign_keys(name, schema=schema)
                        for column, referred in zip(fk["constrained_columns"], fk["referred_columns"], strict=False)
                    )
                    collections[name] = LiveCollection(name, columns, foreign)
        except SQLAlchemyError as exc:
            raise self._failed(exc) from exc
        return LiveSchema(self.system_id, collections)

    def _table(self, name: str, schema: str | None) -> Table:
        table = self._tables.get((schema, name))
        if table is None:
            try:
                table = Table(name, MetaData(), autoload_with=self.engine, schema=schema)
            except NoSuchTableError:
                raise NotFound(f"system '{self.system_id}' has no table '{name}'") from None
            except SQLAlchemyError as exc:
                raise self._failed(exc) from exc
            self._tables[(schema, name)] = table
        return table

    def fetch(
        self, collection: str, field: str, values: Sequence[Any], *, schema: str | None = None
    ) -> Iterator[list[Row]]:
        """Rows whose ``field`` is one of ``values``: one parameterized query per chunk of values."""
        table = self._table(collection, schema)
        if field not in table.c:
            raise InvalidInput(f"table '{collection}' of system '{self.system_id}' has no column '{field}'")
        column = table.c[field]
        distinct = list(dict.fromkeys(values))
        try:
            with self.engine.connect() as conn:
                for start in range(0, len(distinct), self.chunk_size):
                    chunk = distinct[start : start + self.chunk_size]
                    result = conn.execute(select(table).where(column.in_(chunk)))
                    yield [dict(row) for row in result.mappings()]
        except SQLAlchemyError as exc:
            raise self._failed(exc) from exc

    def close(self) -> None:
        self.engine.dispose()


def _type_name(type_: Any) -> str:
    try:
        return str(type_).lower()
    except Exception:  # noqa: BLE001 - some dialect types cannot render without a dialect; the class name will do
        return type(type_).__name__.lower()
