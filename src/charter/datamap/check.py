"""Static checks of a data map: what can be known without connecting to anything.

Unknown vocabulary (with "did you mean"), references to datasets,
collections or fields that do not exist, collections no request can reach,
references that form a cycle (no order of deletes exists), erasure
strategies that cannot work on their field, and systems naming datasets
that do not exist. Each finding points at the line and column it is about.

This module runs the checks in order and holds the ones about the map's
shape (systems, vocabulary, reachability, cycles, Redis key patterns,
``charter.unfollowed``); references and their graphs are
:mod:`charter.datamap.references`, erasure strategies
:mod:`charter.datamap.erasure_checks`. The names other modules import from
here (``identity_kind``, ``references``, ``through``, ``erase_before``,
``erase_order``) are re-exported.
"""

from __future__ import annotations

import re

from charter.datamap import graph
from charter.datamap.erasure_checks import ErasureChecks, key_field_rewritten
from charter.datamap.findings import Finding, error, note, suggest, warning
from charter.datamap.identities import IDENTITY_ALIASES, identity_kind
from charter.datamap.loader import Where
from charter.datamap.model import CollectionEntry, DataMap
from charter.datamap.references import Edge, References, erase_before, erase_order, nested_message, references, through
from charter.subjects.normalize import IdentityKind
from charter.taxonomy import Kind, Taxonomy

__all__ = [
    "IDENTITY_ALIASES",
    "KEY_FIELD",
    "Checker",
    "Edge",
    "check",
    "erase_before",
    "erase_order",
    "identity_kind",
    "references",
    "through",
]

KEY_FIELD = re.compile(r"\{([^{}]+)\}")


def _categorized(collection: CollectionEntry) -> bool:
    """Does the collection, or any of its fields, declare a data category?"""
    return bool(collection.model.data_categories) or any(f.model.data_categories for f in collection.fields.values())


class Checker:
    def __init__(self, datamap: DataMap, taxonomy: Taxonomy) -> None:
        self.map = datamap
        self.taxonomy = taxonomy
        self.findings: list[Finding] = []
        self.references = References(datamap)

    @property
    def edges(self) -> list[Edge]:
        return self.references.edges

    def run(self) -> list[Finding]:
        self._systems()
        self._vocabulary()
        self.findings += self.references.resolve()
        self.findings += self.references.ordering_keys()
        self._reachability()
        self._cycles()
        self.findings += ErasureChecks(self.map, self.taxonomy, self.edges).run()
        self._redis_keys()
        self._unfollowed()
        return self.findings

    # -- systems ---------------------------------------------------------
    def _systems(self) -> None:
        known = sorted(self.map.datasets)
        for system in self.map.systems.values():
            for index, key in enumerate(system.model.datasets):
                if key not in self.map.datasets:
                    message = f"dataset '{key}' is not defined in any file{suggest(key, known)}"
                    self.findings.append(error(system.where.problem(message, "datasets", index)))
        if self.map.systems:
            for key, dataset in self.map.datasets.items():
                if key not in self.map.holder:
                    message = f"no system holds dataset '{key}'; name it in a system's datasets to check it live"
                    self.findings.append(warning(dataset.where.problem(message, "fides_key")))

    # -- vocabulary ------------------------------------------------------
    def _terms(self, where: Where, values: list[str] | None, kind: Kind, key: str) -> None:
        for index, value in enumerate(values or []):
            if (kind, value) in self.taxonomy:
                continue
            close = self.taxonomy.suggest(kind, value)
            hint = f"; did you mean '{close}'?" if close else ""
            label = kind.value.replace("_", " ")
            self.findings.append(error(where.problem(f"unknown {label} '{value}'{hint}", key, index)))

    def _described(self, where: Where, model: object) -> None:
        for key, kind in (
            ("data_categories", Kind.DATA_CATEGORY),
            ("data_uses", Kind.DATA_USE),
            ("data_purposes", Kind.DATA_USE),
            ("data_subjects", Kind.DATA_SUBJECT),
        ):
            self._terms(where, getattr(model, key), kind, key)

    def _vocabulary(self) -> None:
        for dataset in self.map.datasets.values():
            self._described(dataset.where, dataset.model)
            for collection in dataset.collections.values():
                self._described(collection.where, collection.model)
                for field in collection.fields.values():
                    self._described(field.where, field.model)
                    identity = field.model.meta.identity
                    if identity and identity_kind(identity) not in {k.value for k in IdentityKind}:
                        known = [k.value for k in IdentityKind]
                        message = (
                            f"identity '{identity}' is not a kind Charter verifies ({', '.join(known)})"
                            f"{suggest(identity, known)}; requests cannot start from this field"
                        )
                        self.findings.append(warning(field.where.problem(message, "fides_meta", "identity")))
                    if identity and not field.top:
                        self.findings.append(error(field.where.problem(nested_message(field, "an identity"), "name")))

    # -- graphs ----------------------------------------------------------
    def traversal(self) -> dict[str, list[str]]:
        return self.references.traversal()

    def erase_before(self) -> tuple[dict[str, list[str]], dict[tuple[str, str], Where]]:
        """Edges child → parent: the child's rows go first. Where each edge was written, for messages."""
        return self.references.erase_before()

    def _reachability(self) -> None:
        starts = [c.key for c in self.map.collections() if c.identities()]
        came_from = graph.reachable(self.traversal(), starts)
        for collection in self.map.collections():
            if collection.key in came_from or collection.model.meta.skip_processing:
                continue
            if not _categorized(collection):
                message = (
                    f"collection '{collection.key}' is unreachable and declares no data categories: it is not "
                    "searched or erased; if it holds personal data, give its fields data categories and add an "
                    "identity or a reference"
                )
                self.findings.append(note(collection.where.problem(message, "name")))
                continue
            message = (
                f"collection '{collection.key}' is unreachable: it has no identity field and no reference path "
                "from a collection that has one (add fides_meta.identity to a field, or a reference)"
            )
            self.findings.append(error(collection.where.problem(message, "name")))

    def _cycles(self) -> None:
        adjacency, wheres = self.erase_before()
        cycle = graph.find_cycle(adjacency)
        if cycle is None:
            return
        where = wheres[(cycle[0], cycle[1])]
        message = (
            f"references form a cycle ({' → '.join(cycle)}): no order of deletes exists; "
            "mark the parent's key with fides_meta.primary_key or drop one reference"
        )
        self.findings.append(error(where.problem(message)))

    def _unfollowed(self) -> None:
        for collection in self.map.collections():
            names = (collection.model.charter.unfollowed if collection.model.charter else None) or []
            known = sorted(collection.columns())
            for index, name in enumerate(names):
                if collection.column(name) is None:
                    message = f"'{name}' is not a field of '{collection.key}'{suggest(name, known)}"
                    self.findings.append(error(collection.where.problem(message, "charter", "unfollowed", index)))

    # -- redis keys ------------------------------------------------------
    def _redis_keys(self) -> None:
        for system in self.map.systems.values():
            for dataset in self.map.datasets_of(system.id):
                for collection in dataset.collections.values():
                    key = collection.model.charter.key if collection.model.charter else None
                    if system.model.kind == "sql":
                        if key is not None:
                            message = f"charter.key applies to redis systems; '{system.id}' is sql"
                            self.findings.append(error(collection.where.problem(message, "charter", "key")))
                        continue
                    if key is None:
                        message = f"collection in redis system '{system.id}' needs charter.key, e.g. 'cart:{{email}}'"
                        self.findings.append(error(collection.where.problem(message, "name")))
                        continue
                    for name in KEY_FIELD.findall(key):
                        field = collection.column(name)  # a hash field: one name, dots and all
                        if field is None:
                            hint = suggest(name, sorted(collection.columns()))
                            message = f"key pattern names '{{{name}}}', which is not a field here{hint}"
                            self.findings.append(error(collection.where.problem(message, "charter", "key")))
                            continue
                        refused = key_field_rewritten(self.map, collection, field, key, self.edges)
                        if refused is not None:
                            self.findings.append(refused)


def check(datamap: DataMap, taxonomy: Taxonomy) -> list[Finding]:
    return Checker(datamap, taxonomy).run()
