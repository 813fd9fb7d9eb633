"""References between fields, resolved into edges, and the two graphs the edges give.

A reference's ``field:`` is read as a path (:mod:`charter.datamap.paths`): the collection, then the
field's names (``collection."addr.line1"`` for a field whose name holds a dot). One that names nothing,
or an ``after`` / ``erase_after`` naming no collection, is a finding here. From the edges that resolve:

* **traversal** (:meth:`References.traversal`): where a request's values may flow, collection to
  collection (both ways for a reference without a direction);
* **erase-before** (:meth:`References.erase_before`): child → parent, whose rows must go first.

The static check (:mod:`charter.datamap.check`), the planner and the live check all read references
through here, so they follow the same edges.
"""

from __future__ import annotations

from dataclasses import dataclass

from charter.datamap import graph, paths
from charter.datamap.findings import Finding, error, suggest
from charter.datamap.loader import Where
from charter.datamap.model import DataMap, FieldEntry


@dataclass(frozen=True)
class Edge:
    """A resolved reference between two fields; data flows from ``source`` to ``target`` when directed."""

    source: FieldEntry
    target: FieldEntry
    directed: bool
    where: Where


def through(edges: list[Edge]) -> set[str]:
    """The keys of the fields references go through: a rewrite there would cut the path to other data."""
    return {f.key for edge in edges for f in (edge.source, edge.target)}


def nested_message(field: FieldEntry, what: str) -> str:
    """A nested field cannot be searched: stores are read by top-level column (a document is not looked into)."""
    return (
        f"'{field.key}' is a nested field (inside '{paths.shown((field.column,))}') and cannot be {what}: "
        "requests search top-level fields only; use a top-level field (a column, a hash field)"
    )


class References:
    """Every reference of one map: ``resolve`` fills ``edges`` and returns what names nothing."""

    def __init__(self, datamap: DataMap) -> None:
        self.map = datamap
        self.edges: list[Edge] = []

    def _resolve(self, where: Where, dataset_key: str, dotted: str, findings: list[Finding]) -> FieldEntry | None:
        dataset = self.map.datasets.get(dataset_key)
        if dataset is None:
            hint = suggest(dataset_key, sorted(self.map.datasets))
            findings.append(error(where.problem(f"dangling reference: no dataset '{dataset_key}'{hint}", "dataset")))
            return None
        names = paths.reference_path(dotted)
        if names is None:
            message = (
                f"reference field '{dotted}' must be written 'collection.field' (a nested field: "
                "'collection.parent.field'; a name holding a dot in double quotes: 'collection.\"addr.line1\"')"
            )
            findings.append(error(where.problem(message, "field")))
            return None
        collection_name, field_path = names[0], names[1:]
        collection = dataset.collections.get(collection_name)
        if collection is None:
            hint = suggest(collection_name, sorted(dataset.collections))
            message = f"dangling reference: dataset '{dataset_key}' has no collection '{collection_name}'{hint}"
            findings.append(error(where.problem(message, "field")))
            return None
        field = collection.fields.get(field_path)
        if field is None:
            field_name = paths.shown(field_path)
            hint = suggest(field_name, sorted(f.name for f in collection.fields.values()))
            message = f"dangling reference: '{dataset_key}.{collection_name}' has no field '{field_name}'{hint}"
            findings.append(error(where.problem(message, "field")))
            return None
        return field

    def resolve(self) -> list[Finding]:
        """Every field's references as edges; an error for each that names nothing or a nested field."""
        findings: list[Finding] = []
        for collection in self.map.collections():
            for field in collection.fields.values():
                for index, reference in enumerate(field.model.meta.references or []):
                    meta = "fides_meta" if field.model.fides_meta else "fidesops_meta"
                    where = field.where.at(meta, "references", index)
                    target = self._resolve(where, reference.dataset, reference.field, findings)
                    if target is None:
                        continue
                    for end in (field, target):
                        if not end.top:
                            findings.append(error(where.problem(nested_message(end, "a reference's end"), "field")))
                    if reference.direction == "to":
                        self.edges.append(Edge(field, target, True, where))
                    elif reference.direction == "from":
                        self.edges.append(Edge(target, field, True, where))
                    else:
                        self.edges.append(Edge(field, target, False, where))
        return findings

    def ordering_keys(self) -> list[Finding]:
        """An error for each ``after`` / ``erase_after`` naming no collection."""
        findings: list[Finding] = []
        known = sorted(c.key for c in self.map.collections())
        for collection in self.map.collections():
            meta = collection.model.fides_meta or collection.model.fidesops_meta
            if meta is None:
                continue
            name = "fides_meta" if collection.model.fides_meta else "fidesops_meta"
            for key in ("after", "erase_after"):
                for index, value in enumerate(getattr(meta, key) or []):
                    if self.map.collection(value) is None:
                        message = f"dangling reference: no collection '{value}'{suggest(value, known)}"
                        findings.append(error(collection.where.problem(message, name, key, index)))
        return findings

    # -- graphs ----------------------------------------------------------
    def traversal(self) -> dict[str, list[str]]:
        pairs: list[tuple[str, str]] = []
        for edge in self.edges:
            a, b = f"{edge.source.dataset}.{edge.source.collection}", f"{edge.target.dataset}.{edge.target.collection}"
            pairs.append((a, b))
            if not edge.directed:
                pairs.append((b, a))
        return graph.adjacency((c.key for c in self.map.collections()), pairs)

    def erase_before(self) -> tuple[dict[str, list[str]], dict[tuple[str, str], Where]]:
        """Edges child → parent: the child's rows go first. Where each edge was written, for messages."""
        pairs: dict[tuple[str, str], Where] = {}
        for edge in self.edges:
            a, b = f"{edge.source.dataset}.{edge.source.collection}", f"{edge.target.dataset}.{edge.target.collection}"
            if a == b:
                continue
            a_key, b_key = bool(edge.source.model.meta.primary_key), bool(edge.target.model.meta.primary_key)
            if b_key and not a_key:
                pairs.setdefault((a, b), edge.where)  # a holds a foreign key to b's primary key
            elif a_key and not b_key:
                pairs.setdefault((b, a), edge.where)
            elif edge.directed:
                pairs.setdefault((b, a), edge.where)  # b is looked up from a: erase it first
        for collection in self.map.collections():
            meta = collection.model.fides_meta or collection.model.fidesops_meta
            for index, value in enumerate((meta.erase_after if meta else None) or []):
                if self.map.collection(value) is not None and value != collection.key:
                    name = "fides_meta" if collection.model.fides_meta else "fidesops_meta"
                    pairs.setdefault((value, collection.key), collection.where.at(name, "erase_after", index))
        nodes = (c.key for c in self.map.collections())
        return graph.adjacency(nodes, pairs), pairs


def references(datamap: DataMap) -> list[Edge]:
    """Every reference of a map as an edge between two fields; dangling ones are left out (``check`` reports them)."""
    found = References(datamap)
    found.resolve()
    return found.edges


def erase_before(datamap: DataMap) -> dict[str, list[str]]:
    """The erase-before graph: an edge child → parent when the child's rows must be erased first."""
    found = References(datamap)
    found.resolve()
    adjacency, _ = found.erase_before()
    return adjacency


def erase_order(datamap: DataMap) -> list[list[str]]:
    """Collections in the order their rows may be deleted: children before parents (raises graph.CycleError)."""
    return graph.layers(erase_before(datamap))
