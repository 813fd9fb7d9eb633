"""Engines to the stores: driver options, strict and time-limited MariaDB sessions, one pooled engine per store.

A worker answering request after request keeps its connections to a store (``shared_engine``) instead of
opening new ones for every run; ``connect_args`` gives each driver its connect and statement timeouts.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL


def connect_args(url: URL, timeout: float, statement_timeout: float = 0.0) -> dict[str, Any]:
    """Driver options: how long to wait for a connection, and (when set) for any one statement.

    A statement past ``statement_timeout`` is cancelled by the server and surfaces as an
    ``OperationalError``, which the runner retries like any store that did not answer.
    """
    backend = url.get_backend_name()
    seconds = max(1, round(timeout))
    if backend == "postgresql":
        args: dict[str, Any] = {"connect_timeout": seconds}
        if statement_timeout > 0:
            args["options"] = f"-c statement_timeout={max(1, round(statement_timeout * 1000))}"
        return args
    if backend in ("mysql", "mariadb"):
        wait = max(seconds, 30, round(statement_timeout) + 5)
        return {"connect_timeout": seconds, "read_timeout": wait, "write_timeout": wait}
    if backend == "sqlite":
        return {"timeout": timeout}
    return {}


def _mysql_statement_timeout(seconds: float) -> Callable[[Any, Any], None]:
    """MariaDB's ``max_statement_time`` (seconds, every statement), else MySQL's ``max_execution_time``
    (milliseconds, reads only): the same URL scheme reaches either server."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SET SESSION max_statement_time = %s", (float(seconds),))
        except Exception:  # noqa: BLE001 - not MariaDB: the driver's own error class varies
            cursor.execute("SET SESSION max_execution_time = %s", (max(1, round(seconds * 1000)),))
        finally:
            cursor.close()

    return on_connect


def _mysql_strict(dbapi_connection: Any, _record: Any) -> None:
    """Strict mode for every statement Charter sends to a MySQL/MariaDB store: a non-strict session silently
    cuts a value to fit its column (a 32-character keyed hash into ``varchar(24)``) or turns a bad value into
    a zero, and the erase "succeeds" with something other than its erasure. Strict, the store refuses it
    (``StoreRefused``), and the check names the width needed before anything runs."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')")
    finally:
        cursor.close()


#: Schemas of the server itself, never a store's data (PostgreSQL's pg_* ones are left out by prefix).
_EngineKey = tuple[str, float, float]
_engines: OrderedDict[_EngineKey, Engine] = OrderedDict()
_engines_lock = threading.Lock()
_MAX_ENGINES = 32


def shared_engine(url: URL, connect_timeout: float, statement_timeout: float) -> Engine:
    """One pooled engine per store and process: a worker answering request after request keeps its
    connections to a store instead of opening new ones for every run (docs/bench.md: most of a small
    request's store time was the connection). SQLite files are not shared: a file replaced on disk
    must not be read through an old handle, and opening one costs nothing."""
    key = (url.render_as_string(hide_password=False), connect_timeout, statement_timeout)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is not None:
            _engines.move_to_end(key)
            return engine
    engine = create_engine(url, connect_args=connect_args(url, connect_timeout, statement_timeout), pool_pre_ping=True)
    if url.get_backend_name() in ("mysql", "mariadb"):
        event.listen(engine, "connect", _mysql_strict)
    if statement_timeout > 0 and url.get_backend_name() in ("mysql", "mariadb"):
        event.listen(engine, "connect", _mysql_statement_timeout(statement_timeout))
    with _engines_lock:
        kept = _engines.setdefault(key, engine)
        _engines.move_to_end(key)
        evicted = [_engines.popitem(last=False)[1] for _ in range(max(0, len(_engines) - _MAX_ENGINES))]
    for old in evicted + ([engine] if kept is not engine else []):
        old.dispose()
    return kept


def dispose_engines() -> None:
    """Close every shared store engine of this process (shutdown, or a test that drops its store)."""
    with _engines_lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()
