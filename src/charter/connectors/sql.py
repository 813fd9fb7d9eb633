"""Any SQLAlchemy database as a Connector: PostgreSQL (psycopg), MariaDB/MySQL (PyMySQL), SQLite.

Identifiers are never formatted into SQL: tables are reflected into
SQLAlchemy ``Table`` objects, which quote them. Values are bound parameters;
a fetch sends one ``IN`` query per chunk of values, never one per row.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Engine, MetaData, Table, bindparam, create_engine, delete, inspect, select, update
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


_SchemaKey = tuple[str, str | None, str]
_reflected: dict[_SchemaKey, tuple[float, Table]] = {}
_reflected_lock = threading.Lock()
_MAX_REFLECTED = 10_000


def _cached_table(key: _SchemaKey, max_age: float) -> Table | None:
    with _reflected_lock:
        found = _reflected.get(key)
    if found is None or time.monotonic() - found[0] > max_age:
        return None
    return found[1]


def _remember_table(key: _SchemaKey, table: Table) -> None:
    with _reflected_lock:
        if len(_reflected) >= _MAX_REFLECTED:
            _reflected.clear()
        _reflected[key] = (time.monotonic(), table)


class SqlConnector:
    """One data store. Table definitions are reflected once and reused by later connectors to the
    same database for ``schema_cache_seconds``: a run builds its connectors afresh, and reading the
    catalog again for every request was most of a small request's time (docs/bench.md)."""

    def __init__(
        self,
        system_id: str,
        url: str,
        *,
        connect_timeout: float = 5.0,
        chunk_size: int = 500,
        schema_cache_seconds: float = 0.0,
    ) -> None:
        self.system_id = system_id
        self.chunk_size = chunk_size
        self.schema_cache_seconds = schema_cache_seconds
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise Misconfigured(f"system '{system_id}': the URL is not a SQLAlchemy URL") from None
        self._password = parsed.password if isinstance(parsed.password, str) else None
        self._where = parsed.render_as_string(hide_password=True)
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
        self._metadata = MetaData()
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
        key = (self._where, schema, name)
        if table is None and self.schema_cache_seconds > 0:
            table = _cached_table(key, self.schema_cache_seconds)
            if table is not None:
                self._tables[(schema, name)] = table
        if table is None:
            try:
                # Only this table's columns: following its foreign keys would reflect every table they
                # reach, one catalog query each, on every run (the data map already knows the references).
                table = Table(name, self._metadata, autoload_with=self.engine, schema=schema, resolve_fks=False)
            except NoSuchTableError:
                raise NotFound(f"system '{self.system_id}' has no table '{name}'") from None
            except SQLAlchemyError as exc:
                raise self._failed(exc) from exc
            self._tables[(schema, name)] = table
            if self.schema_cache_seconds > 0:
                _remember_table(key, table)
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

    def _column(self, table: Table, name: str) -> Column[Any]:
        if name not in table.c:
            raise InvalidInput(f"table '{table.name}' of system '{self.system_id}' has no column '{name}'")
        return table.c[name]

    def delete(self, collection: str, field: str, values: Sequence[Any], *, schema: str | None = None) -> int:
        """``DELETE … WHERE field IN (chunk)``, one statement per chunk, all in one transaction."""
        table = self._table(collection, schema)
        column = self._column(table, field)
        distinct = list(dict.fromkeys(values))
        deleted = 0
        try:
            with self.engine.begin() as conn:
                for start in range(0, len(distinct), self.chunk_size):
                    chunk = distinct[start : start + self.chunk_size]
                    deleted += max(conn.execute(delete(table).where(column.in_(chunk))).rowcount, 0)
        except SQLAlchemyError as exc:
            raise self._failed(exc) from exc
        return deleted

    def rewrite(
        self, collection: str, key: str, changes: Sequence[tuple[Any, Mapping[str, Any]]], *, schema: str | None = None
    ) -> int:
        """``UPDATE … SET f = :f WHERE key = :key`` sent once per chunk of rows (executemany), in one transaction."""
        if not changes:
            return 0
        table = self._table(collection, schema)
        key_column = self._column(table, key)
        names = sorted(changes[0][1])
        columns = [self._column(table, name) for name in names]
        if any(sorted(new) != names for _, new in changes):
            raise InvalidInput(f"a rewrite of table '{collection}' must set the same columns in every row")
        statement = (
            update(table)
            .where(key_column == bindparam("_key"))
            .values({c.name: bindparam(f"_v_{n}") for n, c in enumerate(columns)})
        )
        params = [
            {"_key": pk, **{f"_v_{n}": _coerce(c, new[c.name]) for n, c in enumerate(columns)}} for pk, new in changes
        ]
        changed = 0
        try:
            with self.engine.begin() as conn:
                for start in range(0, len(params), self.chunk_size):
                    result = conn.execute(statement, params[start : start + self.chunk_size])
                    changed += max(result.rowcount, 0)
        except SQLAlchemyError as exc:
            raise self._failed(exc) from exc
        return changed

    def close(self) -> None:
        self.engine.dispose()


def _coerce(column: Column[Any], value: Any) -> Any:
    """An ISO text back to the date or datetime the column holds (outcomes travel as JSON)."""
    if not isinstance(value, str):
        return value
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value[:10])
    return value


def _type_name(type_: Any) -> str:
    try:
        return str(type_).lower()
    except Exception:  # noqa: BLE001 - some dialect types cannot render without a dialect; the class name will do
        return type(type_).__name__.lower()
