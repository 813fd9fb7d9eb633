"""What a step works with: the rows earlier steps found, the request's identities, and how values compare.

Shared by the actions (``actions.py``) and the verification (``verification.py``), which both read the
store by the inputs a plan gives them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from charter.connectors.base import Match, match_for
from charter.connectors.redis_keys import KEY
from charter.datamap.check import identity_kind
from charter.datamap.model import CollectionEntry, DataMap
from charter.execution.erasure import Strategies
from charter.execution.steps import Input, Plan, Step
from charter.subjects import phones
from charter.subjects.normalize import DEFAULT_REGION

Rows = list[dict[str, Any]]
#: ``StepContext.memo`` key of the rows a layer's steps read together, by step (``read_ahead``)
READ_AHEAD = "read_ahead"


_ENCODE = json.JSONEncoder(sort_keys=True, default=str).encode


@dataclass
class Found:
    """A fetch step's rows (JSON-safe) and the name of its collection's primary key, if it has exactly one."""

    key: str | None
    rows: Rows = field(default_factory=list)

    def dumps(self) -> bytes:
        return _ENCODE({"key": self.key, "rows": self.rows}).encode()

    @classmethod
    def loads(cls, data: bytes) -> Found:
        opened = json.loads(data)
        return cls(opened.get("key"), list(opened.get("rows") or []))


@dataclass
class StepContext:
    """What performing one step needs; ``found`` opens an earlier fetch's rows by step id."""

    request: str
    plan: Plan
    datamap: DataMap
    identities: Mapping[str, Sequence[str]]
    found: Callable[[str], Found]
    strategies: Strategies
    corrected: Any = None
    #: values derived from the run's outcomes once for all its steps (``verification.found_identities``)
    memo: dict[str, Any] = field(default_factory=dict)
    #: the installation's own country for phones: a number of it is also searched in its national form
    phone_region: str = DEFAULT_REGION


def primary_key(collection: CollectionEntry, kind: str = "sql") -> str | None:
    """The one field that names a row: the map's single primary key, or a Redis hash's key."""
    if kind == "redis":
        return KEY
    keys = [f.column for f in collection.fields.values() if f.top and f.model.meta.primary_key]
    return keys[0] if len(keys) == 1 else None


def values_of(source_input: Input, ctx: StepContext) -> list[Any]:
    """The values an input matches: the request's identity values, or a field of an earlier fetch's rows."""
    source = source_input.source
    if source.identity is not None:
        return list(dict.fromkeys(ctx.identities.get(source.identity, ())))
    assert source.step is not None and source.field is not None
    rows = ctx.found(source.step).rows
    return list(dict.fromkeys(row[source.field] for row in rows if row.get(source.field) is not None))


def searched(values: Sequence[Any], match: Match, ctx: StepContext) -> list[Any]:
    """The values a store is searched for: a phone in each form a store may hold it (``subjects.phones``:
    with and without its country code), every other value as it is."""
    return phones.forms(values, ctx.phone_region) if match == "phone" and values else list(values)


def search_of(ctx: StepContext, step: Step, wanted: Input) -> tuple[list[Any], Match]:
    """An input's values as the store is searched for them, and how they compare (:func:`input_match`)."""
    match = input_match(ctx, step, wanted)
    return searched(values_of(wanted, ctx), match, ctx), match


def input_match(ctx: StepContext, step: Step, wanted: Input) -> Match:
    """How an input's values compare: as an identity when they are one (the request's e-mail, or a value
    looked up in a field the map marks as an identity), so case and spacing never hide a row; else exactly."""
    if wanted.source.identity is not None:
        return match_for(wanted.source.identity)
    collection = ctx.datamap.collection(step.collection)
    entry = collection.column(wanted.field) if collection else None
    identity = entry.model.meta.identity if entry else None
    return match_for(identity_kind(identity)) if identity else "exact"


def declared(collection: CollectionEntry, kind: str = "sql") -> frozenset[str]:
    """The columns a step keeps of a row: the fields the map declares (top level; a nested field travels in its
    parent's value), and a Redis hash's key. A column the map does not declare (a password hash) is not the
    map's business: it never reaches a package or a sealed outcome (issue 11, finding 6)."""
    names = set(collection.columns())
    return frozenset(names | {KEY} if kind == "redis" else names)
