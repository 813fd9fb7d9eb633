"""What a SQL store's tables look like: the catalogue (``describe``, ``schemas``) for the live check, and the
tables the steps read and write, reflected once per connector (and, when ``schema_cache_seconds`` is set,
shared across runs of the process).

A mixin of :class:`~charter.connectors.sql.SqlConnector`: the reading and writing stay there, what the store
is made of is here.
"""

from __future__ import annotations

import threading
import time
import warnings
from typing import Any

from sqlalchemy import Column, Engine, MetaData, Table, inspect
from sqlalchemy.exc import NoSuchTableError, SAWarning, SQLAlchemyError

from charter.connectors.base import LiveCollection, LiveColumn, LiveSchema
from charter.connectors.folding import indexes_of
from charter.connectors.sql_statements import type_name
from charter.errors import InvalidInput, NotFound

__all__ = ["SYSTEM_SCHEMAS", "SchemaReading"]

SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "pg_toast", "mysql", "performance_schema", "sys"})

# SQLAlchemy cannot reflect SQLite's expression indexes and says so on every reflection of such a table: the
# very indexes the live check advises for folded identity matching (``_indexes`` reads them itself). Ignored for
# that message only, once for the process (a filter set around each reflection is not thread-safe).
warnings.filterwarnings("ignore", message=".*expression-based index", category=SAWarning)

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


class SchemaReading:
    """The catalogue and the reflected tables of one store (see the module's docstring)."""

    system_id: str
    engine: Engine
    schema_cache_seconds: float
    _where: str
    _metadata: MetaData
    _tables: dict[tuple[str | None, str], Table]

    def _failed(self, exc: BaseException) -> Exception:
        raise NotImplementedError

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
                            type=type_name(c["type"]),
                            nullable=bool(c.get("nullable", True)),
                            primary_key=c["name"] in keys,
                            generated=bool(c.get("computed")),
                        )
                        for c in inspector.get_columns(name, schema=schema)
                    }
                    foreign = tuple(
                        (column, fk["referred_table"], referred)
                        for fk in inspector.get_foreign_keys(name, schema=schema)
                        for column, referred in zip(fk["constrained_columns"], fk["referred_columns"], strict=False)
                    )
                    indexes = indexes_of(conn, inspector, name, schema)
                    collections[name] = LiveCollection(name, columns, foreign, indexes)
        except SQLAlchemyError as exc:
            raise self._failed(exc) from exc
        return LiveSchema(self.system_id, collections)

    def schemas(self) -> list[str]:
        """Every schema the user sees (MariaDB/MySQL: databases; SQLite: attached databases), the system
        ones left out: where data the map does not describe may sit."""
        try:
            with self.engine.connect() as conn:
                names = inspect(conn).get_schema_names()
                if conn.dialect.name == "postgresql":  # pg_namespace lists schemas the user cannot use too
                    usable = "SELECT nspname FROM pg_namespace WHERE has_schema_privilege(oid, 'USAGE')"
                    visible = set(conn.exec_driver_sql(usable).scalars())
                    names = [n for n in names if n in visible]
        except SQLAlchemyError as exc:
            raise self._failed(exc) from exc
        return [n for n in names if n.lower() not in SYSTEM_SCHEMAS and not n.lower().startswith("pg_")]

    def default_schema(self) -> str | None:
        """The schema a table without one is in: PostgreSQL's first on the search path, the URL's database."""
        try:
            with self.engine.connect() as conn:
                return inspect(conn).default_schema_name
        except SQLAlchemyError as exc:
            raise self._failed(exc) from exc

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

    def columns(self, collection: str, *, schema: str | None = None) -> tuple[dict[str, tuple[int | None, bool]], bool]:
        """Each column's declared text length (None when it has none) and whether it takes NULL, from the
        table as reflected for the steps; and whether this store enforces text lengths (SQLite does not)."""
        table = self._table(collection, schema)
        out = {c.name: (getattr(c.type, "length", None), bool(c.nullable)) for c in table.columns}
        return out, self.engine.dialect.name != "sqlite"

    def _column(self, table: Table, name: str) -> Column[Any]:
        if name not in table.c:
            raise InvalidInput(f"table '{table.name}' of system '{self.system_id}' has no column '{name}'")
        return table.c[name]
