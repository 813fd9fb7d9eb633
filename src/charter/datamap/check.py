"""Static checks of a data map: what can be known without connecting to anything.

Unknown vocabulary (with "did you mean"), references to datasets,
collections or fields that do not exist, collections no request can reach,
references that form a cycle (no order of deletes exists), erasure
strategies that cannot work on their field, and systems naming datasets
that do not exist. Each finding points at the line and column it is about.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from charter.datamap import graph, paths
from charter.datamap.erasure_policy import Ambiguous, Resolver, collection_strategy, own_strategy, personal
from charter.datamap.findings import Finding, error, note, warning
from charter.datamap.loader import Where
from charter.datamap.model import CollectionEntry, DataMap, FieldEntry
from charter.datamap.schema import Erasure
from charter.subjects.normalize import IdentityKind
from charter.taxonomy import Kind, Taxonomy

#: Fides' identity names that mean one of Charter's identity kinds.
IDENTITY_ALIASES = {"phone_number": IdentityKind.PHONE.value, "email_address": IdentityKind.EMAIL.value}
#: Strategies that write text into the field.
TEXT_STRATEGIES = frozenset({"keyed_hash", "random_token", "redact_text"})
NON_TEXT_TYPES = frozenset({"integer", "float", "boolean", "object", "object_id"})
NON_DATE_TYPES = frozenset({"float", "boolean", "object", "object_id"})
KEY_FIELD = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True)
class Edge:
    """A resolved reference between two fields; data flows from ``source`` to ``target`` when directed."""

    source: FieldEntry
    target: FieldEntry
    directed: bool
    where: Where


def _categorized(collection: CollectionEntry) -> bool:
    """Does the collection, or any of its fields, declare a data category?"""
    return bool(collection.model.data_categories) or any(f.model.data_categories for f in collection.fields.values())


def through(edges: list[Edge]) -> set[str]:
    """The keys of the fields references go through: a rewrite there would cut the path to other data."""
    return {f.key for edge in edges for f in (edge.source, edge.target)}


def identity_kind(name: str) -> str:
    return IDENTITY_ALIASES.get(name, name)


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _nested(field: FieldEntry, what: str) -> str:
    """A nested field cannot be searched: stores are read by top-level column (a document is not looked into)."""
    return (
        f"'{field.key}' is a nested field (inside '{paths.shown((field.column,))}') and cannot be {what}: "
        "requests search top-level fields only; use a top-level field (a column, a hash field)"
    )


def strategy_of(field: FieldEntry) -> tuple[Erasure | None, Finding | None]:
    """The field's own strategy (``charter.erasure``, else a Fides masking override); a strategy Charter
    cannot honour is refused when the file is read, so there is no finding left to give here."""
    return own_strategy(field), None


def _strategy_key(model: object) -> tuple[str, ...]:
    """Where a field's or collection's own strategy is written, for the finding's line."""
    if getattr(model, "charter", None) is not None:
        return ("charter", "erasure")
    if getattr(model, "fides_meta", None) is not None:
        return ("fides_meta", "masking_strategy_override")
    return ("name",)


class Checker:
    def __init__(self, datamap: DataMap, taxonomy: Taxonomy) -> None:
        self.map = datamap
        self.taxonomy = taxonomy
        self.findings: list[Finding] = []
        self.edges: list[Edge] = []

    def run(self) -> list[Finding]:
        self._systems()
        self._vocabulary()
        self._references()
        self._ordering_keys()
        self._reachability()
        self._cycles()
        self._strategies()
        self._redis_keys()
        self._unfollowed()
        return self.findings

    # -- systems ---------------------------------------------------------
    def _systems(self) -> None:
        known = sorted(self.map.datasets)
        for system in self.map.systems.values():
            for index, key in enumerate(system.model.datasets):
                if key not in self.map.datasets:
                    message = f"dataset '{key}' is not defined in any file{_suggest(key, known)}"
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
                            f"{_suggest(identity, known)}; requests cannot start from this field"
                        )
                        self.findings.append(warning(field.where.problem(message, "fides_meta", "identity")))
                    if identity and not field.top:
                        self.findings.append(error(field.where.problem(_nested(field, "an identity"), "name")))

    # -- references ------------------------------------------------------
    def _resolve(self, where: Where, dataset_key: str, dotted: str) -> FieldEntry | None:
        dataset = self.map.datasets.get(dataset_key)
        if dataset is None:
            hint = _suggest(dataset_key, sorted(self.map.datasets))
            self.findings.append(
                error(where.problem(f"dangling reference: no dataset '{dataset_key}'{hint}", "dataset"))
            )
            return None
        names = paths.reference_path(dotted)
        if names is None:
            message = (
                f"reference field '{dotted}' must be written 'collection.field' (a nested field: "
                "'collection.parent.field'; a name holding a dot in double quotes: 'collection.\"addr.line1\"')"
            )
            self.findings.append(error(where.problem(message, "field")))
            return None
        collection_name, field_path = names[0], names[1:]
        collection = dataset.collections.get(collection_name)
        if collection is None:
            hint = _suggest(collection_name, sorted(dataset.collections))
            message = f"dangling reference: dataset '{dataset_key}' has no collection '{collection_name}'{hint}"
            self.findings.append(error(where.problem(message, "field")))
            return None
        field = collection.fields.get(field_path)
        if field is None:
            field_name = paths.shown(field_path)
            hint = _suggest(field_name, sorted(f.name for f in collection.fields.values()))
            message = f"dangling reference: '{dataset_key}.{collection_name}' has no field '{field_name}'{hint}"
            self.findings.append(error(where.problem(message, "field")))
            return None
        return field

    def _references(self) -> None:
        for collection in self.map.collections():
            for field in collection.fields.values():
                for index, reference in enumerate(field.model.meta.references or []):
                    meta = "fides_meta" if field.model.fides_meta else "fidesops_meta"
                    where = field.where.at(meta, "references", index)
                    target = self._resolve(where, reference.dataset, reference.field)
                    if target is None:
                        continue
                    for end in (field, target):
                        if not end.top:
                            self.findings.append(error(where.problem(_nested(end, "a reference's end"), "field")))
                    if reference.direction == "to":
                        self.edges.append(Edge(field, target, True, where))
                    elif reference.direction == "from":
                        self.edges.append(Edge(target, field, True, where))
                    else:
                        self.edges.append(Edge(field, target, False, where))

    def _ordering_keys(self) -> None:
        known = sorted(c.key for c in self.map.collections())
        for collection in self.map.collections():
            meta = collection.model.fides_meta or collection.model.fidesops_meta
            if meta is None:
                continue
            name = "fides_meta" if collection.model.fides_meta else "fidesops_meta"
            for key in ("after", "erase_after"):
                for index, value in enumerate(getattr(meta, key) or []):
                    if self.map.collection(value) is None:
                        message = f"dangling reference: no collection '{value}'{_suggest(value, known)}"
                        self.findings.append(error(collection.where.problem(message, name, key, index)))

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

    # -- erasure strategies ----------------------------------------------
    def _strategies(self) -> None:
        from charter.datamap import writes  # here, not at the top: writes builds on this module's helpers

        referenced = through(self.edges)
        resolver = Resolver(self.map)
        self._policy_terms()
        erased_somewhere = False
        for collection in self.map.collections():
            whole = collection_strategy(collection)
            if whole is not None and whole.strategy == "generalize_date":
                message = "generalize_date applies to one date field; set it on the field"
                self.findings.append(error(collection.where.problem(message, *_strategy_key(collection.model))))
            if whole is not None and whole.strategy == "delete_row":
                erased_somewhere = True
            untouched: list[str] = []
            reported: set[str] = set()
            for field in collection.fields.values():
                own = own_strategy(field)
                try:
                    decided = resolver.field(collection, field, referenced)
                except Ambiguous as exc:
                    self.findings.append(error(field.where.problem(str(exc), "data_categories")))
                    reported.add(field.key)
                    continue
                checked = own if own is not None else decided.erasure if decided.erased else None
                if checked is not None and checked.strategy != "keep" and (own or checked.strategy != "delete_row"):
                    problem = self._field_strategy_problem(field, checked, whole, referenced)
                    if problem:
                        at = _strategy_key(field.model) if own is not None else ("name",)
                        if own is None:
                            problem = f"{problem} ({decided.why}); set charter.erasure on the field"
                        self.findings.append(error(field.where.problem(problem, *at)))
                        reported.add(field.key)
                if decided.erased:
                    erased_somewhere = True
                elif field.model.meta.identity and field.top and decided.erasure is None:
                    # verification searches every identity field for the person's values: left as it is, this
                    # one would fail every deletion that finds the person, after the other steps had erased
                    message = (
                        f"identity field '{field.name}' would keep the person's {field.model.meta.identity} after a "
                        f"deletion ({decided.why}); delete the rows (delete_row on the collection) or keep it "
                        "with a reason ({strategy: keep, reason: ...})"
                    )
                    self.findings.append(error(field.where.problem(message, "fides_meta", "identity")))
                elif decided.erasure is None and personal(field) and not decided.linking and decided.within is None:
                    untouched.append(f"{field.name} ({decided.why})")
            if collection.model.meta.skip_processing:
                continue
            if untouched:
                message = (
                    "a deletion leaves personal data here untouched: "
                    + "; ".join(untouched)
                    + ". Give these fields a strategy, delete the rows (delete_row), or keep them with a reason"
                )
                self.findings.append(warning(collection.where.problem(message, "name")))
            kind = self._kind(collection)
            self.findings += writes.check_collection(collection, kind, referenced, reported, resolver)
        held = [c for c in self.map.collections() if c.dataset in self.map.holder]
        if held and not erased_somewhere:
            message = (
                "under this data map a deletion erases nothing at all: no field has a strategy and no "
                f"rule of {resolver.source} covers a field's categories; add data categories (user.*) to the "
                "fields or an erasure_policy"
            )
            where = self.map.policy_where or next(iter(self.map.datasets.values())).where
            self.findings.append(error(where.problem(message)))

    def _kind(self, collection: CollectionEntry) -> str:
        """The kind of store holding the collection; a dataset no system holds is judged by its own keys."""
        system = self.map.systems.get(self.map.holder.get(collection.dataset, ""))
        if system is not None:
            return system.model.kind
        return "redis" if collection.model.charter and collection.model.charter.key else "sql"

    def _policy_terms(self) -> None:
        policy, where = self.map.policy, self.map.policy_where
        if policy is None or where is None:
            return
        for r_index, rule in enumerate(policy.rules):
            for t_index, target in enumerate(rule.targets):
                value = target.data_category
                if (Kind.DATA_CATEGORY, value) in self.taxonomy:
                    continue
                close = self.taxonomy.suggest(Kind.DATA_CATEGORY, value)
                hint = f"; did you mean '{close}'?" if close else ""
                at = where.at("rules", r_index, "targets", t_index)
                self.findings.append(error(at.problem(f"unknown data category '{value}'{hint}", "data_category")))

    @staticmethod
    def _field_strategy_problem(
        field: FieldEntry, erasure: Erasure, whole: Erasure | None, referenced: set[str]
    ) -> str | None:
        meta = field.model.meta
        strategy = erasure.strategy
        data_type = (meta.data_type or "").removesuffix("[]")
        if strategy == "delete_row":
            return "delete_row erases whole rows; set it on the collection (charter: {erasure: delete_row})"
        if whole is not None and whole.strategy == "delete_row":
            return f"the collection deletes its rows, so {strategy} on this field would never run"
        if meta.read_only:
            return f"the field is read_only; {strategy} would write to it"
        if meta.primary_key:
            return f"{strategy} would rewrite a primary key; erase the row instead (delete_row on the collection)"
        if strategy == "set_null" and field.key in referenced:
            return "set_null on a field that references are followed through would cut the path to other data"
        if strategy in TEXT_STRATEGIES and data_type in NON_TEXT_TYPES:
            return f"{strategy} writes text, but the field's data_type is {meta.data_type}"
        if strategy == "generalize_date" and data_type in NON_DATE_TYPES:
            return f"generalize_date needs a date, but the field's data_type is {meta.data_type}"
        return None

    def _unfollowed(self) -> None:
        for collection in self.map.collections():
            names = (collection.model.charter.unfollowed if collection.model.charter else None) or []
            known = sorted(collection.columns())
            for index, name in enumerate(names):
                if collection.column(name) is None:
                    message = f"'{name}' is not a field of '{collection.key}'{_suggest(name, known)}"
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
                            hint = _suggest(name, sorted(collection.columns()))
                            message = f"key pattern names '{{{name}}}', which is not a field here{hint}"
                            self.findings.append(error(collection.where.problem(message, "charter", "key")))
                        else:
                            self._key_field_rewritten(collection, field, key)

    def _key_field_rewritten(self, collection: CollectionEntry, field: FieldEntry, key: str) -> None:
        """A field the key pattern names, erased by rewriting the hash: refused.

        The rewrite changes the field inside the hash, but the key (``cart:ana@example.org``) still spells the
        person's value, and Charter does not rename keys: the verification then finds the person under that key
        and fails every deletion that finds them, after the other steps had already erased (the Redis
        model-based test found it). Only deleting the keys, or keeping the field on purpose, can be right."""
        whole = collection_strategy(collection)
        if whole is not None and whole.strategy == "delete_row":
            return
        try:
            decided = Resolver(self.map).field(collection, field, through(self.edges))
        except Ambiguous:
            return  # reported by _strategies
        if not decided.erased:
            return
        message = (
            f"'{field.name}' is in the key pattern '{key}': a deletion would rewrite it in the hash but leave the "
            "key naming the person (keys are not renamed); delete the keys (charter: {erasure: delete_row} on "
            "the collection) or keep the field with a reason ({strategy: keep, reason: ...})"
        )
        self.findings.append(error(collection.where.problem(message, "charter", "key")))


def check(datamap: DataMap, taxonomy: Taxonomy) -> list[Finding]:
    return Checker(datamap, taxonomy).run()


def references(datamap: DataMap) -> list[Edge]:
    """Every reference of a map as an edge between two fields; dangling ones are left out (``check`` reports them)."""
    checker = Checker(datamap, Taxonomy())
    checker._references()
    return checker.edges


def erase_before(datamap: DataMap) -> dict[str, list[str]]:
    """The erase-before graph: an edge child → parent when the child's rows must be erased first."""
    checker = Checker(datamap, Taxonomy())
    checker._references()
    adjacency, _ = checker.erase_before()
    return adjacency


def erase_order(datamap: DataMap) -> list[list[str]]:
    """Collections in the order their rows may be deleted: children before parents (raises graph.CycleError)."""
    return graph.layers(erase_before(datamap))
