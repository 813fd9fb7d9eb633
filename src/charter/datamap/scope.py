"""Catalogue datasets: described for a catalogue, not for answering requests, so left out with a note.

Fides users describe warehouses (BigQuery, Snowflake namespaces) and other
catalogue-only data beside the databases Fides connects to. Such a dataset
no Charter system holds, either

* names a namespace Charter cannot connect to (keys other than ``schema``,
  or a ``connection_type`` that is not one of Charter's SQL stores), or
* has no identity field and no reference, to it or from it: no request
  could ever reach it.

Checking it as if Charter would search it gave only "unreachable" errors, so
it is dropped from the map before the checks, with a note saying how to
bring it in (name it in a system's ``datasets``). A dataset a system holds
is always checked in full.
"""

from __future__ import annotations

from charter.datamap.model import DataMap, DatasetEntry
from charter.errors import Problem

#: Fides namespace connection types that are Charter SQL stores
SQL_CONNECTIONS = frozenset({"postgres", "postgresql", "mysql", "mariadb", "sqlite"})


def leave_out(datamap: DataMap) -> list[Problem]:
    """Drop the catalogue datasets from ``datamap``; a note for each."""
    notes = []
    referenced = _referenced(datamap)
    for key, dataset in list(datamap.datasets.items()):
        if key in datamap.holder:
            continue
        reason = _foreign_namespace(dataset)
        if reason is None and not _reachable(dataset) and key not in referenced:
            reason = "is a catalogue: no identity, no references, and no system holds it"
        if reason is None:
            continue
        del datamap.datasets[key]
        datamap.skipped[key] = reason
        message = (
            f"skipped: dataset '{key}' {reason}; it is not searched or erased by Charter (name it in a system's "
            "datasets to check and use it)"
        )
        notes.append(dataset.where.problem(message, "fides_key"))
    return notes


def _foreign_namespace(dataset: DatasetEntry) -> str | None:
    meta = dataset.model.fides_meta or dataset.model.fidesops_meta
    namespace = (meta.namespace if meta else None) or {}
    others = sorted(str(k) for k in namespace if k not in ("schema", "connection_type"))
    kind = str(namespace.get("connection_type", "") or "")
    if kind and kind.lower() not in SQL_CONNECTIONS:
        return f"describes a {kind} namespace, which Charter cannot connect to, and no system holds it"
    if others:
        return f"describes a namespace Charter cannot connect to ({', '.join(others)}) and no system holds it"
    return None


def _reachable(dataset: DatasetEntry) -> bool:
    """Has an identity field or a reference of its own: a request could start or arrive here."""
    return any(
        f.model.meta.identity or f.model.meta.references
        for collection in dataset.collections.values()
        for f in collection.fields.values()
    )


def _referenced(datamap: DataMap) -> set[str]:
    """Datasets another dataset's references, ``after`` or ``erase_after`` name."""
    named: set[str] = set()
    for key, dataset in datamap.datasets.items():
        for collection in dataset.collections.values():
            meta = collection.model.fides_meta or collection.model.fidesops_meta
            for value in [*(meta.after or []), *(meta.erase_after or [])] if meta else []:
                target = datamap.collection(value)  # a dataset key may hold dots (``shop.v2.orders``)
                named.add(target.dataset if target else value.partition(".")[0])
            for field in collection.fields.values():
                named.update(r.dataset for r in field.model.meta.references or [] if r.dataset != key)
    return named
