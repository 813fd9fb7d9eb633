"""Reading the facts the data stores hold about a requester, to match what they typed (P-RGT-7).

The fact kinds (:data:`charter.requests.facts.KINDS`) are found in the data
map by data category, in the collections the request's identity reaches —
the same discovery an access request plans (:mod:`charter.execution.plan`),
so a postal code kept in ``addresses`` next to ``customers`` is found
through the reference, not only in the collection holding the e-mail.

:class:`StoreLookup` runs only the fetch steps needed to reach those
collections, with the runner's own ``fetch`` (one parameterized query per
chunk of values), keeps the rows in memory for the time of the call and
returns the normalized values per kind. Nothing is stored; a store that does
not answer is :class:`~charter.errors.Unavailable`, which the caller turns
into the outcome "unavailable" (the requester's answer does not change).
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from charter.connectors import Connector, connector_for
from charter.datamap.live import resolve_url
from charter.datamap.model import DataMap
from charter.datamap.paths import FieldPath
from charter.errors import CharterError, Unavailable
from charter.execution import actions, plan
from charter.execution.actions import Found, StepContext
from charter.execution.erasure import Strategies
from charter.execution.steps import Action, Plan, Step
from charter.requests import factcheck
from charter.requests.facts import KINDS, kinds_of
from charter.requests.identity_start import StartKinds
from charter.requests.kinds import RequestKind
from charter.settings import Settings

if TYPE_CHECKING:
    from charter.services import Services

PLACEHOLDER = "facts@example.invalid"
"""Planning is pure and masks values; the kinds offered do not depend on who asks."""


def fact_fields(datamap: DataMap) -> dict[str, list[tuple[str, FieldPath]]]:
    """Fact kind → the (collection key, field path) pairs holding it, over the whole data map."""
    out: dict[str, list[tuple[str, FieldPath]]] = {}
    for collection in datamap.collections():
        for entry in collection.fields.values():
            for kind in kinds_of(entry.model.data_categories or []):
                out.setdefault(kind.id, []).append((collection.key, entry.path))
    return out


def _plan(datamap: DataMap, identity_kind: str, identity: str) -> Plan:
    """The discovery of an access request for this identity (pure: no store is read)."""
    return plan.build(datamap, plan.PlanRequest("facts", RequestKind.ACCESS, {identity_kind: [identity]}))


def _fetches(planned: Plan) -> list[Step]:
    return [s for s in planned.steps if s.action == Action.FETCH]


def offered(datamap: DataMap, identity_kind: str = "email") -> list[str]:
    """The fact kinds the stores reached from an identity of ``identity_kind`` can hold, in the order of KINDS.

    The same for every requester (planned from a placeholder value): which
    questions are asked never reveals whether someone is in the data.
    """
    reached = {s.collection for s in _fetches(_plan(datamap, identity_kind, PLACEHOLDER))}
    fields = fact_fields(datamap)
    return [kind for kind in KINDS if any(key in reached for key, _path in fields.get(kind, []))]


def _needed(fetches: Sequence[Step], targets: set[str]) -> list[Step]:
    """The fetches of ``targets`` and every fetch they depend on, in plan order."""
    by_id = {s.id: s for s in fetches}
    needed: set[str] = set()
    stack = [s.id for s in fetches if s.collection in targets]
    while stack:
        current = stack.pop()
        if current not in needed:
            needed.add(current)
            stack.extend(by_id[current].depends_on)
    return [s for s in fetches if s.id in needed]


def _value(row: Mapping[str, Any], path: FieldPath) -> Any:
    """A field of a fetched row, by its path in the map: a nested field is read inside its column's document
    (a PostgreSQL jsonb or MySQL JSON column arrives as a mapping; JSON text, as a Redis hash field holds it,
    is opened). The path comes from the map's nesting, so a column named ``addr.line1`` is read as itself."""
    current: Any = row.get(path[0])
    for part in path[1:]:
        if isinstance(current, str | bytes):
            try:
                current = json.loads(current)
            except ValueError:
                return None
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


class StoreLookup:
    """:class:`charter.requests.factcheck.Lookup` over the data map's real stores."""

    def __init__(self, datamap: DataMap, settings: Settings, *, env: Mapping[str, str] | None = None) -> None:
        self.datamap = datamap
        self.settings = settings
        self.env = os.environ if env is None else env

    def held(self, identity_kind: str, identity: str, kinds: Collection[str]) -> dict[str, list[str]]:
        fields = fact_fields(self.datamap)
        wanted = {kind: fields.get(kind, []) for kind in kinds if kind in KINDS}
        targets = {key for pairs in wanted.values() for key, _path in pairs}
        planned = _plan(self.datamap, identity_kind, identity)
        steps = _needed(_fetches(planned), targets)
        rows: dict[str, Found] = {}
        context = StepContext(
            "facts",
            planned,
            self.datamap,
            {identity_kind: [identity]},
            rows.__getitem__,
            Strategies(b"facts lookup: no erasure is done"),
            phone_region=self.settings.identity.phone_region,
        )
        connectors: dict[str, Connector] = {}
        try:
            for step in steps:
                connector = connectors.get(step.system)
                if connector is None:
                    system = self.datamap.systems[step.system]
                    url = resolve_url(system, self.env, self.settings.home)
                    connector = connector_for(system.model.kind, step.system, url, self.settings.connectors)
                    connectors[step.system] = connector
                found = actions.fetch(step, context, connector).found
                rows[step.id] = found if found is not None else Found(None)
        finally:
            for connector in connectors.values():
                connector.close()
        by_collection = {s.collection: rows[s.id].rows for s in steps}
        out: dict[str, list[str]] = {}
        for kind, pairs in wanted.items():
            normalize = KINDS[kind].normalize
            values = []
            for key, path in pairs:
                for row in by_collection.get(key, []):
                    raw = _value(row, path)
                    normalized = None if raw is None else normalize(raw)
                    if normalized is not None:
                        values.append(normalized)
            out[kind] = sorted(set(values))
        return out


class DataMapUnavailable:
    """No data map to read: every lookup is a store that is down (the outcome "unavailable")."""

    def held(self, identity_kind: str, identity: str, kinds: Collection[str]) -> dict[str, list[str]]:
        raise Unavailable("the data map could not be loaded, so no store was read")


def check_against_stores(services: Services, public_id: str, given: Mapping[str, str]) -> None:
    """The requester's facts compared with what the data map's stores hold (:func:`factcheck.check`)."""
    factcheck.check(
        services.database,
        public_id,
        given,
        lookup=lookup_for(services.settings),
        vault=services.vault,
        settings=services.settings.requests,
    )


def start_kinds(settings: Settings) -> StartKinds:
    """The identity kinds a request may start from: e-mail and every kind ``CHARTER_DATAMAP_PATH`` declares (only
    e-mail when the map cannot be loaded: the refusal then names e-mail alone). Issue 11."""
    from charter.execution.service import load_datamap

    try:
        return StartKinds.of(plan.map_identity_kinds(load_datamap(settings)))
    except CharterError:
        return StartKinds()


def lookup_for(settings: Settings) -> StoreLookup | DataMapUnavailable:
    """The lookup over ``CHARTER_DATAMAP_PATH``'s stores; a map that cannot be loaded looks like a store down."""
    from charter.execution.service import load_datamap

    try:
        return StoreLookup(load_datamap(settings), settings)
    except CharterError:
        return DataMapUnavailable()
