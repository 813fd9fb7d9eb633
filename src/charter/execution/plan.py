"""Planning a request's work on the data stores: a pure function from (data map, request) to a :class:`Plan`.

No I/O: the data map is already loaded and checked, the request is given as
its id, type and identity values (only masked forms reach the plan). The
runner (next slice) executes the steps in order and stores each outcome.

Discovery (access, portability, and the first part of deletion and
correction): a ``fetch`` step per collection reachable from the request's
identities. The starts are the collections with an identity field of a
kind the request has; from there values flow along the references
(``graph.reachable``, breadth-first). A collection's inputs are its
matching identity fields and every reference into it from a collection
searched before it: the reached collections are ordered by the strongly
connected components of the references between them (``graph.components``),
so an address is searched with the ids from the customer *and* from the
orders and payment cards that point at it, whatever their distance from the
identities (issue 11, finding 6). Only where references loop back (a
component of several collections) do values flow outward alone, from the
collections closer to the identities. The steps form a DAG and every
collection is fetched once, with the union of its inputs.

Deletion adds an ``erase`` step per discovered collection that has a
strategy, children before parents (the data map's erase-before order), all
after discovery; then a ``verify`` step per erased collection re-runs its
fetch. Correction adds an ``update`` step per discovered collection holding
a named field, keeping only the fetches those need. Restriction, objection,
opt-out and withdrawal have no data-store steps: the consent ledger carries
them out at approval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from charter.datamap import graph
from charter.datamap.check import erase_before, identity_kind, references, through
from charter.datamap.erasure_policy import Resolver, collection_strategy, personal
from charter.datamap.model import CollectionEntry, DataMap, FieldEntry
from charter.errors import InvalidInput, shown
from charter.execution.actions import primary_key
from charter.execution.steps import (
    Action,
    FieldErasure,
    Input,
    NotSearched,
    Plan,
    ShownIdentity,
    Source,
    Step,
    mask,
    step_id,
)
from charter.requests.kinds import LEDGER_KINDS, RequestKind
from charter.subjects.normalize import IdentityKind

DISCOVERY_KINDS = frozenset({RequestKind.ACCESS, RequestKind.PORTABILITY})
#: The strategy of an ``update`` step: the field takes the value the requester gave.
SET_VALUE = "set_value"


class UnknownIdentityKind(InvalidInput):
    """The request names an identity kind neither Charter nor the data map knows."""

    code = "unknown_identity_kind"
    status = 422
    title = "Unknown identity kind"


@dataclass(frozen=True)
class PlanRequest:
    """What planning needs from a request. ``identities`` maps a kind to the values (masked in the plan)."""

    id: str
    kind: RequestKind
    identities: Mapping[str, Sequence[str]] = field(repr=False)
    #: correction: the fields to correct, by name, ``collection.field``, ``dataset.collection.field`` or category
    fields: Sequence[str] = ()
    #: what the caller knows about the request's identities that the plan should say (unconfirmed claims)
    notes: Sequence[str] = ()


def map_identity_kinds(datamap: DataMap) -> set[str]:
    return {
        identity_kind(f.model.meta.identity)
        for c in datamap.collections()
        for f in c.identities()
        if f.model.meta.identity
    }


def _kinds(datamap: DataMap, identities: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """The request's identities by Charter's spelling of the kind (``phone_number`` is ``phone``)."""
    known = {k.value for k in IdentityKind} | map_identity_kinds(datamap)
    out: dict[str, list[str]] = {}
    for raw, values in identities.items():
        kind = identity_kind(raw.strip().lower())
        if kind not in known:
            in_map = ", ".join(sorted(map_identity_kinds(datamap))) or "none"
            raise UnknownIdentityKind(
                f"identity kind '{shown(raw)}' is not known; the data map starts from: {in_map}; "
                f"Charter verifies: {', '.join(k.value for k in IdentityKind)}"
            )
        out.setdefault(kind, []).extend(v for v in values if v)
    if not any(out.values()):
        raise InvalidInput("a plan needs at least one identity value of the requester")
    return out


class Planner:
    def __init__(self, datamap: DataMap, wanted: PlanRequest) -> None:
        self.map = datamap
        self.wanted = wanted
        self.kinds = _kinds(datamap, wanted.identities)
        self.not_searched: list[NotSearched] = []
        self.usable: dict[str, CollectionEntry] = {}
        self.system: dict[str, str] = {}
        for collection in datamap.collections():
            holder = datamap.holder.get(collection.dataset)
            if holder is None or holder not in datamap.systems:
                reason = f"no system holds dataset '{collection.dataset}'"
                self.not_searched.append(NotSearched(collection.key, reason))
            elif collection.model.meta.skip_processing:
                self.not_searched.append(NotSearched(collection.key, "skip_processing is set in the data map", holder))
            else:
                self.usable[collection.key] = collection
                self.system[collection.key] = holder
        for dataset, why in sorted(datamap.skipped.items()):  # catalogue datasets the check left out
            self.not_searched.append(NotSearched(dataset, f"left out of the data map: {why}"))
        self.edges = [  # a reference through a nested field is a check error: never followed
            e
            for e in references(datamap)
            if _owner(e.source) in self.usable and _owner(e.target) in self.usable and e.source.top and e.target.top
        ]
        #: traversal: values flow from a source field to a target field (both ways without a direction)
        self.flows: list[tuple[FieldEntry, FieldEntry]] = []
        for edge in self.edges:
            self.flows.append((edge.source, edge.target))
            if not edge.directed:
                self.flows.append((edge.target, edge.source))
        #: identities found on the person's rows, passed on to other collections' identity fields of their kind
        self.links = self._linked_identities()
        references_only = [(_owner(a), _owner(b)) for a, b in self.flows if _owner(a) != _owner(b)]
        #: what references alone connect: the order of discovery (links never reorder it, see _inputs)
        self.references = graph.adjacency(self.usable, references_only)
        linked = [(_owner(a), _owner(b)) for a, b in self.links]
        #: what a request can reach, by references and linked identities
        self.traversal = graph.adjacency(self.usable, references_only + linked)
        self.depth: dict[str, int] = {}
        #: discovery's order of the reached collections' strongly connected components (graph.components)
        self.component: dict[str, int] = {}
        self.position: dict[str, int] = {}
        self.fetch_ids: dict[str, str] = {}
        self.resolver = Resolver(datamap)
        self.through = through(self.edges)
        self.untouched: list[NotSearched] = []

    def _linked_identities(self) -> list[tuple[FieldEntry, FieldEntry]]:
        """Identities found on the person's own rows are theirs: each identity field's values flow to every
        other collection's identity field of the same kind (issue 11, finding 7), forward in the order the
        references give discovery (a link that pointed back would merge collections into one loop, where
        values flow outward only, and a child with an e-mail of its own would lose its owner's id). So the
        phone on the account found by e-mail searches the SMS log keyed on phones, and a loyalty id on the
        customer row searches the loyalty system, with no reference written between them — and never a value
        the person only claimed (a claimed identity starts a search only once the office confirmed it)."""
        by_kind: dict[str, list[FieldEntry]] = {}
        for collection in self.usable.values():
            for entry in collection.identities():
                if entry.top:
                    by_kind.setdefault(identity_kind(entry.model.meta.identity or ""), []).append(entry)
        return [(a, b) for fields in by_kind.values() for a in fields for b in fields if _owner(a) != _owner(b)]

    def _id(self, key: str, action: Action) -> str:
        return step_id(self.wanted.id, self.system[key], key, action)

    def _starts(self, kinds: set[str]) -> list[str]:
        return [
            key
            for key, c in self.usable.items()
            if any(identity_kind(f.model.meta.identity or "") in kinds for f in c.identities())
        ]

    # -- discovery -------------------------------------------------------
    def discovery(self) -> list[Step]:
        kinds = {k for k, v in self.kinds.items() if v}
        came_from = graph.reachable(self.traversal, self._starts(kinds))
        self.depth = {key: len(graph.path_to(came_from, key)) - 1 for key in came_from}
        self.component = self._components(came_from)
        order = sorted(came_from, key=lambda k: (self.component[k], self.depth[k], k))
        self.position = {key: n for n, key in enumerate(order)}
        self.fetch_ids = {key: self._id(key, Action.FETCH) for key in order}
        steps = []
        for key in order:
            inputs, upstream = self._inputs(key, kinds)
            steps.append(Step(self.fetch_ids[key], Action.FETCH, self.system[key], key, inputs, upstream))
        self._unreached(came_from, kinds)
        return steps

    def _components(self, came_from: Mapping[str, object]) -> dict[str, int]:
        """Each reached collection's component's place in discovery: a topological order of the components
        (graph.components), nearest the identities first where the references leave the choice, so the plan
        reads as before wherever no reference comes from further away."""
        reached = {key: [n for n in self.references.get(key, ()) if n in came_from] for key in came_from}
        members = graph.components(reached)
        of = {key: n for n, group in enumerate(members) for key in group}
        into: dict[int, set[int]] = {n: set() for n in range(len(members))}
        for key, successors in reached.items():
            for successor in successors:
                if of[successor] != of[key]:
                    into[of[successor]].add(of[key])
        rank = {n: (min(self.depth[k] for k in group), min(group)) for n, group in enumerate(members)}
        placed: dict[int, int] = {}
        while len(placed) < len(members):
            ready = [n for n in into if n not in placed and into[n] <= set(placed)]
            placed[min(ready, key=rank.__getitem__)] = len(placed)
        return {key: placed[n] for key, n in of.items()}

    def _inputs(self, key: str, kinds: set[str]) -> tuple[tuple[Input, ...], tuple[str, ...]]:
        inputs: set[Input] = set()
        for entry in self.usable[key].identities():
            kind = identity_kind(entry.model.meta.identity or "")
            if kind in kinds and entry.top:  # a nested identity is a check error: never searched
                inputs.add(Input(entry.column, Source(identity=kind)))
        for source, target in self.flows:
            origin = _owner(source)
            if _owner(target) != key or origin not in self.depth or origin == key:
                continue
            if self.component[origin] < self.component[key] or (
                self.component[origin] == self.component[key] and self.depth[origin] < self.depth[key]
            ):
                inputs.add(Input(target.column, Source(step=self.fetch_ids[origin], field=source.column)))
        for source, target in self.links:  # only forward in discovery's order: a link never makes a cycle
            origin = _owner(source)
            if _owner(target) == key and origin in self.position and self.position[origin] < self.position[key]:
                inputs.add(Input(target.column, Source(step=self.fetch_ids[origin], field=source.column)))
        ordered = tuple(sorted(inputs, key=lambda i: (i.source.step or "", i.field, i.source.render())))
        upstream = tuple(sorted({i.source.step for i in ordered if i.source.step is not None}))
        return ordered, upstream

    def _unreached(self, came_from: Mapping[str, object], kinds: set[str]) -> None:
        others = sorted(map_identity_kinds(self.map) - kinds)
        reach = {kind: graph.reachable(self.traversal, self._starts({kind})) for kind in others}
        asked = ", ".join(sorted(kinds))
        for key in self.usable:
            if key in came_from:
                continue
            would = [kind for kind in others if key in reach[kind]]
            reason = f"no reference path leads here from a collection with the request's identities ({asked})"
            if would:
                reason += f"; an identity of kind {', '.join(would)} would reach it"
            self.not_searched.append(NotSearched(key, reason, self.system[key]))

    # -- deletion --------------------------------------------------------
    def _erasure(self, collection: CollectionEntry) -> tuple[str | None, tuple[FieldErasure, ...]]:
        """The collection's ``delete_row``, else each field's strategy as the erasure policy decides
        (``charter.datamap.erasure_policy``); personal fields it leaves alone go to ``untouched``."""
        whole = collection_strategy(collection)
        if whole is not None and whole.strategy == "delete_row":
            return "delete_row", ()
        fields = []
        for entry in collection.fields.values():
            decided = self.resolver.field(collection, entry, self.through)
            erasure = decided.erasure
            if decided.erased and erasure is not None:
                if not entry.top:  # the check refuses it (writes.py); never rewrite the whole parent column instead
                    raise InvalidInput(f"'{entry.key}' is a nested field: a deletion rewrites top-level fields only")
                fields.append(
                    FieldErasure(
                        entry.column, erasure.strategy, erasure.to, erasure.replacement, erasure.length, decided.why
                    )
                )
            elif decided.erasure is None and personal(entry) and decided.within is None:  # (kept: with collection)
                self.untouched.append(NotSearched(entry.key, decided.why, self.system[collection.key]))
        return None, tuple(sorted(fields, key=lambda f: f.field))

    def _by_rows(self, key: str, fetch: Step) -> tuple[Input, ...]:
        """The rows the fetch found: by their key (the map's single primary key, a Redis hash's own key), else
        the fetch's own inputs (a Redis pattern searched by a field would otherwise be scanned again)."""
        found = primary_key(self.usable[key], self.map.systems[self.system[key]].model.kind)
        if found is not None:
            return (Input(found, Source(step=fetch.id, field=found)),)
        return fetch.inputs

    def erasure(self, fetches: list[Step], kept: list[NotSearched]) -> list[Step]:
        by_key = {s.collection: s for s in fetches}
        planned: dict[str, tuple[str | None, tuple[FieldErasure, ...]]] = {}
        for key in by_key:
            strategy, fields = self._erasure(self.usable[key])
            if strategy is None and not fields:
                whole = collection_strategy(self.usable[key])
                if whole is not None and whole.strategy == "keep":
                    reason = f"kept: {whole.reason}"
                else:
                    reason = "nothing here to erase: no field has a strategy or a personal (user.*) category"
                kept.append(NotSearched(key, reason, self.system[key]))
                continue
            planned[key] = (strategy, fields)
        before = erase_before(self.map)
        try:
            layers = graph.layers(before)
        except graph.CycleError as exc:
            raise InvalidInput(f"references form a cycle ({exc}): no order of deletes exists") from exc
        rank = {key: index for index, layer in enumerate(layers) for key in layer}
        order = sorted(planned, key=lambda k: (rank[k], k))
        erase_ids = {key: self._id(key, Action.ERASE) for key in order}
        preceding = graph.preceding(before, set(planned))
        every_fetch = tuple(s.id for s in fetches)
        steps = []
        for key in order:
            strategy, fields = planned[key]
            after = every_fetch + tuple(sorted(erase_ids[k] for k in preceding[key]))
            inputs = self._by_rows(key, by_key[key])
            steps.append(Step(erase_ids[key], Action.ERASE, self.system[key], key, inputs, after, strategy, fields))
        every_erase = tuple(erase_ids[k] for k in order)
        for key in sorted(planned):
            fetch = by_key[key]
            verify = self._id(key, Action.VERIFY)
            steps.append(Step(verify, Action.VERIFY, self.system[key], key, fetch.inputs, every_erase))
        return steps

    # -- correction ------------------------------------------------------
    def correction(self, fetches: list[Step], notes: list[str]) -> list[Step]:
        by_key = {s.collection: s for s in fetches}
        named = [n.strip() for n in self.wanted.fields if n.strip()]
        if not named:
            notes.append("the request names no field to correct; nothing is updated")
            return []
        matched: set[str] = set()
        updates = []
        for key in by_key:
            hits = []
            for entry in self.usable[key].fields.values():
                meta = entry.model.meta
                if meta.primary_key or meta.read_only or not entry.top:  # nested: inside its column's document
                    continue
                names = [n for n in named if _names(entry, n)]
                if names:
                    matched.update(names)
                    hits.append(FieldErasure(entry.column, SET_VALUE))
            if hits:
                step = Step(
                    self._id(key, Action.UPDATE),
                    Action.UPDATE,
                    self.system[key],
                    key,
                    self._by_rows(key, by_key[key]),
                    (by_key[key].id,),
                    SET_VALUE,
                    tuple(sorted(hits, key=lambda f: f.field)),
                )
                updates.append(step)
        for name in named:
            if name not in matched:
                notes.append(
                    f"the field '{shown(name)}' matches no field of a collection the identities reach; "
                    "name it as collection.field or by data category"
                )
        needed = graph.ancestors({s.id: s.depends_on for s in fetches}, {s.depends_on[0] for s in updates})
        return [s for s in fetches if s.id in needed] + updates

    def plan(self) -> Plan:
        kind = self.wanted.kind
        shown_ids = tuple(ShownIdentity(k, mask(k, v)) for k in sorted(self.kinds) for v in sorted(set(self.kinds[k])))
        notes: list[str] = list(self.wanted.notes)
        kept: list[NotSearched] = []
        if kind in LEDGER_KINDS:
            notes.append(
                f"a {kind.value} request has no data-store steps: the consent ledger records it at approval, "
                "and the decision engine denies those uses from then on"
            )
            return Plan(self.wanted.id, kind.value, shown_ids, (), (), (), tuple(notes))
        steps = self.discovery()
        if kind == RequestKind.DELETION:
            steps += self.erasure(steps, kept)
        elif kind == RequestKind.CORRECTION:
            steps = self.correction(steps, notes)
        if not steps:
            notes.append("the request's identities reach no collection of the data map; nothing would be searched")
        not_searched = tuple(sorted(self.not_searched, key=lambda n: n.collection))
        kept_sorted = tuple(sorted(kept, key=lambda n: n.collection))
        untouched = tuple(sorted(self.untouched, key=lambda n: n.collection))
        return Plan(
            self.wanted.id, kind.value, shown_ids, tuple(steps), not_searched, kept_sorted, tuple(notes), untouched
        )


def _owner(entry: FieldEntry) -> str:
    return f"{entry.dataset}.{entry.collection}"


def _names(entry: FieldEntry, name: str) -> bool:
    """Does ``name`` (as the requester or the office wrote it) name the field: its own name, its path as shown
    (``"addr.line1"`` for one name holding a dot), with its collection or dataset in front, or a category?"""
    spelt = {entry.name, entry.column} if entry.top else {entry.name}
    written = {
        f"{prefix}{s}" for s in spelt for prefix in ("", f"{entry.collection}.", f"{entry.dataset}.{entry.collection}.")
    }
    return name in written or any(c == name or c.startswith(f"{name}.") for c in entry.model.data_categories or [])


def build(datamap: DataMap, wanted: PlanRequest) -> Plan:
    """The plan of ``wanted`` over ``datamap``; UnknownIdentityKind for a kind neither Charter nor the map knows."""
    return Planner(datamap, wanted).plan()
