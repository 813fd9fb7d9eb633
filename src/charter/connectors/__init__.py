"""Connectors to the organization's data stores, one class per kind, chosen by a registry.

``connector_for(kind, system_id, url, settings)`` builds the connector for a
system of the data map. Tests and new kinds register a factory in
``REGISTRY`` rather than patching callers.
"""

from __future__ import annotations

from collections.abc import Callable

from charter.connectors.base import Connector, LiveCollection, LiveColumn, LiveSchema, Row
from charter.errors import Misconfigured
from charter.settings import ConnectorSettings

Factory = Callable[[str, str, ConnectorSettings], Connector]


def _sql(system_id: str, url: str, settings: ConnectorSettings) -> Connector:
    from charter.connectors.sql import SqlConnector

    return SqlConnector(
        system_id,
        url,
        connect_timeout=settings.connect_timeout,
        chunk_size=settings.chunk_size,
        schema_cache_seconds=settings.schema_cache_seconds,
        statement_timeout=settings.statement_timeout,
    )


def _redis(system_id: str, url: str, settings: ConnectorSettings) -> Connector:
    from charter.connectors.redis_kv import RedisConnector

    return RedisConnector(
        system_id,
        url,
        connect_timeout=settings.connect_timeout,
        chunk_size=settings.chunk_size,
        scan_count=settings.scan_count,
        describe_keys=settings.describe_keys,
        statement_timeout=settings.statement_timeout,
    )


REGISTRY: dict[str, Factory] = {"sql": _sql, "redis": _redis}


def connector_for(kind: str, system_id: str, url: str, settings: ConnectorSettings) -> Connector:
    factory = REGISTRY.get(kind)
    if factory is None:
        raise Misconfigured(f"system '{system_id}': no connector for kind '{kind}' (known: {', '.join(REGISTRY)})")
    return factory(system_id, url, settings)


__all__ = ["REGISTRY", "Connector", "LiveCollection", "LiveColumn", "LiveSchema", "Row", "connector_for"]
