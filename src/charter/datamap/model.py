"""The data map as one index: systems, datasets, collections and fields by name.

Built from the shape-checked documents of every file; each entry remembers
where it was written, so later checks report ``FILE:LINE:COL``. Duplicate
names are problems found while indexing (the first one written wins).

A field is indexed by its path (:mod:`charter.datamap.paths`), taken from the
YAML's nesting, never from dots in a name: ``addr.line1`` may be one SQL
column or Redis hash field, or ``line1`` inside ``addr``, and a map may hold
both.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from charter.datamap import paths
from charter.datamap.loader import Doc, Where
from charter.datamap.paths import FieldPath
from charter.datamap.schema import Dataset, DatasetCollection, DatasetField, Erasure, ErasurePolicy, System
from charter.errors import Problem


@dataclass(frozen=True)
class FieldEntry:
    dataset: str
    collection: str
    #: the names from the collection down to this field: ``("addr", "line1")`` for ``line1`` inside ``addr``
    path: FieldPath
    model: DatasetField
    where: Where

    @property
    def column(self) -> str:
        """The top-level column (or Redis hash field) holding the value: the field itself, or its outermost
        parent for a nested field (whose value travels inside that column's document)."""
        return self.path[0]

    @property
    def name(self) -> str:
        """The path as people read it (:func:`paths.shown`): ``addr.line1`` nested, ``"addr.line1"`` one name."""
        return paths.shown(self.path)

    @property
    def key(self) -> str:
        return f"{self.dataset}.{self.collection}.{self.name}"

    @property
    def top(self) -> bool:
        return len(self.path) == 1


@dataclass(frozen=True)
class CollectionEntry:
    dataset: str
    model: DatasetCollection
    where: Where
    #: every field, nested ones too, by path
    fields: dict[FieldPath, FieldEntry] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def key(self) -> str:
        return f"{self.dataset}.{self.model.name}"

    @property
    def erasure(self) -> Erasure | None:
        return self.model.charter.erasure if self.model.charter else None

    def identities(self) -> list[FieldEntry]:
        return [f for f in self.fields.values() if f.model.meta.identity]

    def column(self, name: str) -> FieldEntry | None:
        """The top-level field named ``name`` (a column, a hash field), dots and all; never a nested one."""
        return self.fields.get((name,))

    def columns(self) -> list[str]:
        """The names of the top-level fields, in the order written."""
        return [f.column for f in self.fields.values() if f.top]


@dataclass(frozen=True)
class DatasetEntry:
    model: Dataset
    where: Where
    collections: dict[str, CollectionEntry] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.model.fides_key


@dataclass(frozen=True)
class SystemEntry:
    model: System
    where: Where

    @property
    def id(self) -> str:
        return self.model.id


@dataclass
class DataMap:
    datasets: dict[str, DatasetEntry] = field(default_factory=dict)
    systems: dict[str, SystemEntry] = field(default_factory=dict)
    #: dataset key → id of the system holding it
    holder: dict[str, str] = field(default_factory=dict)
    #: the map's erasure policy (``erasure_policy:`` in one file), else Charter's default applies
    policy: ErasurePolicy | None = None
    policy_where: Where | None = None
    #: dataset key → why it was left out of the map (a catalogue dataset, :mod:`charter.datamap.scope`)
    skipped: dict[str, str] = field(default_factory=dict)

    def collections(self) -> Iterator[CollectionEntry]:
        for dataset in self.datasets.values():
            yield from dataset.collections.values()

    def collection(self, key: str) -> CollectionEntry | None:
        """The collection whose key (``dataset.collection``) is ``key``. A Fides key may hold dots (fideslang's
        ``FidesKey``: letters, digits, ``_ . < > -``), and so may a collection's name: ``shop.v2.orders`` is
        read at each dot in turn until one names a dataset holding the rest. Two that would both read so are
        refused when the map is built (:func:`_clashing_keys`), so the answer is the only one."""
        dot = key.find(".")
        while dot != -1:
            entry = self.datasets.get(key[:dot])
            found = entry.collections.get(key[dot + 1 :]) if entry else None
            if found is not None:
                return found
            dot = key.find(".", dot + 1)
        return None

    def datasets_of(self, system_id: str) -> list[DatasetEntry]:
        return [self.datasets[k] for k, s in self.holder.items() if s == system_id and k in self.datasets]


def _fields(
    dataset: str,
    collection: str,
    fields: list[DatasetField],
    where: Where,
    prefix: FieldPath,
    out: dict[FieldPath, FieldEntry],
) -> Iterator[Problem]:
    for index, item in enumerate(fields):
        here = where.at(index)
        path = (*prefix, item.name)
        if path in out:
            yield here.problem(f"duplicate field '{item.name}'; each field may appear once in a collection", "name")
            continue
        out[path] = FieldEntry(dataset, collection, path, item, here)
        if item.fields:
            yield from _fields(dataset, collection, item.fields, here.at("fields"), path, out)


def build(docs: list[Doc]) -> tuple[DataMap, list[Problem]]:
    """Index every dataset and system; duplicates become problems."""
    datamap = DataMap()
    problems: list[Problem] = []
    for doc in docs:
        for index, dataset in enumerate(doc.content.dataset or []):
            where = doc.dataset_where(index)
            if dataset.fides_key in datamap.datasets:
                first = datamap.datasets[dataset.fides_key].where.source
                problems.append(
                    where.problem(f"duplicate dataset '{dataset.fides_key}' (also in {first})", "fides_key")
                )
                continue
            entry = DatasetEntry(dataset, where)
            datamap.datasets[dataset.fides_key] = entry
            for c_index, collection in enumerate(dataset.collections):
                c_where = where.at("collections", c_index)
                if collection.name in entry.collections:
                    problems.append(c_where.problem(f"duplicate collection '{collection.name}'", "name"))
                    continue
                c_entry = CollectionEntry(dataset.fides_key, collection, c_where)
                entry.collections[collection.name] = c_entry
                problems.extend(
                    _fields(
                        dataset.fides_key, collection.name, collection.fields, c_where.at("fields"), (), c_entry.fields
                    )
                )
    for doc in docs:
        policy = doc.content.erasure_policy
        if policy is None:
            continue
        where = doc.where.at("erasure_policy")
        if datamap.policy_where is not None:
            first = datamap.policy_where.source
            problems.append(where.problem(f"a second erasure policy (the first is in {first}); keep one"))
            continue
        datamap.policy, datamap.policy_where = policy, where
    for doc in docs:
        for index, system in enumerate(doc.content.systems or []):
            where = doc.where.at("systems", index)
            if system.id in datamap.systems:
                first = datamap.systems[system.id].where.source
                problems.append(where.problem(f"duplicate system '{system.id}' (also in {first})", "id"))
                continue
            datamap.systems[system.id] = SystemEntry(system, where)
            for d_index, key in enumerate(system.datasets):
                if key in datamap.holder:
                    problems.append(
                        where.problem(
                            f"dataset '{key}' is already held by system '{datamap.holder[key]}'; "
                            "a dataset lives in one system",
                            "datasets",
                            d_index,
                        )
                    )
                    continue
                datamap.holder[key] = system.id
    problems.extend(_clashing_keys(datamap))
    return datamap, problems


def _clashing_keys(datamap: DataMap) -> Iterator[Problem]:
    """A collection whose key another dataset's collection also spells (dataset ``shop`` with a collection
    ``v2.orders``, dataset ``shop.v2`` with ``orders``): plans, certificates and ``after`` name a collection
    by that key, so it must name one. The second one written is refused, naming the first and the fix; the
    first is kept (and the second dropped from the index, so nothing reads it for the other)."""
    first: dict[str, CollectionEntry] = {}
    for dataset in datamap.datasets.values():
        for name, collection in list(dataset.collections.items()):
            other = first.setdefault(collection.key, collection)
            if other is collection:
                continue
            del dataset.collections[name]
            yield collection.where.problem(
                f"collection '{name}' of dataset '{dataset.key}' has the key '{collection.key}', which collection "
                f"'{other.name}' of dataset '{other.dataset}' (in {other.where.source}) has too; rename one of "
                "them (a dataset key or collection name without a dot is never taken for another)",
                "name",
            )
