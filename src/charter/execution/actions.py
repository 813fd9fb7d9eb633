"""What each kind of step does in a data store: fetch, erase, verify, update.

Each function gets the step, the rows earlier steps found (opened from their
sealed outcomes) and a connector, and returns the step's outcome: a summary
of counts (never a personal value) and, for a fetch, the rows found (the
runner seals them). Work is set-based: one query per chunk of values or
rows, never one per row; an erase or update is one transaction on the store.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from charter.connectors.base import Connector, Read, Wanted, Writer
from charter.datamap.model import DataMap
from charter.errors import InvalidInput, Misconfigured
from charter.execution.context import (
    READ_AHEAD,
    Found,
    Rows,
    StepContext,
    declared,
    input_match,
    primary_key,
    search_of,
    values_of,
)
from charter.execution.corrections import before_after
from charter.execution.erasure import plain
from charter.execution.steps import Action, Step
from charter.execution.verification import VerificationFailed, Verifier

__all__ = [
    "PERFORM",
    "Found",
    "Result",
    "Rows",
    "StepContext",
    "VerificationFailed",
    "input_match",
    "primary_key",
    "values_of",
]


@dataclass
class Result:
    summary: dict[str, Any]
    found: Found | None = None
    #: an update's before/after values (``corrections.before_after``): the runner seals and stores it (P-RGT-2)
    record: dict[str, Any] | None = None


def where_of(datamap: DataMap, step: Step) -> tuple[str | None, str, str | None]:
    """(row key, table or key pattern, schema) of the step's collection."""
    collection = datamap.collection(step.collection)
    if collection is None:
        raise Misconfigured(f"the data map has no collection '{step.collection}'")
    kind = datamap.systems[step.system].model.kind
    schema = datamap.datasets[collection.dataset].model.schema_name
    pattern = collection.model.charter.key if collection.model.charter else None
    name = pattern if kind == "redis" and pattern else collection.name
    return primary_key(collection, kind), name, schema


def _read(step: Step, ctx: StepContext, connector: Connector) -> Found:
    """The rows of the step's collection its inputs match, with the declared columns only.

    A row two inputs find is kept once: by its key, or, in a collection without one, as many times as the
    input that found it most often did (two identical visits of the person are two rows, not one)."""
    key, table, schema = where_of(ctx.datamap, step)
    collection = ctx.datamap.collection(step.collection)
    assert collection is not None  # _where refused an unknown collection
    keep = declared(collection, ctx.datamap.systems[step.system].model.kind)
    seen: dict[object, dict[str, Any]] = {}
    copies: Counter[object] = Counter()
    ahead = ctx.memo.get(READ_AHEAD, {})
    for n, wanted in enumerate(step.inputs):
        values, match = search_of(ctx, step, wanted)
        if not values:
            continue
        here: Counter[object] = Counter()
        read = ahead.pop(("fetch", step.id, n), None)  # read with the rest of its layer (read_ahead)
        chunks = [[row for row, _ in read]] if read is not None else None
        for chunk in chunks or connector.fetch(table, wanted.field, values, schema=schema, match=match):
            for row in chunk:
                clean = {name: plain(value) for name, value in row.items() if name in keep}
                identity = _identity(clean.get(key)) if key else _ENCODE(clean)
                seen.setdefault(identity, clean)
                here[identity] += 1
        copies |= here  # the most any one input found
    if key:
        return Found(key, list(seen.values()))
    return Found(key, [seen[identity] for identity, count in copies.items() for _ in range(count)])


#: one encoder for every row (``json.dumps`` with options builds one per call): sorted keys, so two equal rows
#: give the same text whatever order their columns came in
_ENCODE = json.JSONEncoder(sort_keys=True, default=str).encode


def _identity(value: Any) -> object:
    """What names a row by its key: the value itself when it is a plain scalar (its type kept, so 1 and "1" and
    True stay three rows), else its JSON text."""
    if value is None or type(value) in (str, int, float, bool):
        return (type(value), value)
    return _ENCODE(value)


def reads_of(step: Step, ctx: StepContext) -> list[tuple[tuple[str, str, int], Read]]:
    """What a fetch step will read, input by input, keyed as :func:`_read` looks them up in ``READ_AHEAD``."""
    _key, table, schema = where_of(ctx.datamap, step)
    out = []
    for n, wanted in enumerate(step.inputs):
        values, match = search_of(ctx, step, wanted)
        if values:
            out.append((("fetch", step.id, n), Read(table, (Wanted(wanted.field, values, match),), schema)))
    return out


def fetch(step: Step, ctx: StepContext, connector: Connector) -> Result:
    found = _read(step, ctx, connector)
    keys = len(found.rows) if found.key else None  # _read keeps one row per key
    return Result({"rows": len(found.rows), "keys": keys}, found)


def _writer(connector: Connector) -> Writer:
    if not isinstance(connector, Writer):
        raise Misconfigured(f"system '{connector.system_id}' cannot be written to by Charter yet (read-only connector)")
    return connector


def _fetch_of(step: Step, ctx: StepContext) -> Step:
    return next(s for s in ctx.plan.of(Action.FETCH) if s.collection == step.collection)


def erase(step: Step, ctx: StepContext, connector: Connector) -> Result:
    """Apply the collection's strategy to the rows its fetch found: one transaction on the store."""
    writer = _writer(connector)
    key, table, schema = where_of(ctx.datamap, step)
    original = ctx.found(_fetch_of(step, ctx).id)
    if step.strategy == "delete_row":
        affected = 0
        for wanted in step.inputs:  # by the primary key when the collection has one, else the fetch's inputs
            values, match = search_of(ctx, step, wanted)
            if values:
                affected += writer.delete(table, wanted.field, values, schema=schema, match=match)
        return Result({"rows": affected, "matched": len(original.rows), "strategy": "delete_row"})
    if key is None:
        raise InvalidInput(f"collection '{step.collection}' needs exactly one primary key to rewrite fields")
    changes = [
        (row[key], ctx.strategies.changes(step.fields, row, where=(ctx.request, step.collection, row[key])))
        for row in original.rows
    ]
    affected = writer.rewrite(table, key, changes, schema=schema)
    strategies = {f.field: f.strategy for f in step.fields}
    return Result({"rows": affected, "matched": len(original.rows), "fields": strategies})


def verify(step: Step, ctx: StepContext, connector: Connector) -> Result:
    """Prove the erasure against the store (``verification.Verifier``): every touched row by its key, the
    discovery's search again, and every identity value discovery found."""
    return Result(Verifier(step, ctx, connector, where_of(ctx.datamap, step)).run())


def correct(step: Step, ctx: StepContext, connector: Connector) -> Result:
    """Write the corrected value into the named fields of the rows found (one transaction).

    The values before are the fetch's, read before anything was written (and
    still the same if this step runs again after a crash): with the values
    after, they are the step's ``record``, which the runner seals (P-RGT-2).
    """
    writer = _writer(connector)
    key, table, schema = where_of(ctx.datamap, step)
    if key is None:
        raise InvalidInput(f"collection '{step.collection}' needs exactly one primary key to be corrected")
    if not isinstance(ctx.corrected, str):
        raise InvalidInput("the correction request holds no value to write")
    rows = ctx.found(_fetch_of(step, ctx).id).rows
    changes = [(row[key], {f.field: ctx.corrected for f in step.fields}) for row in rows]
    affected = writer.rewrite(table, key, changes, schema=schema)
    summary = {"rows": affected, "matched": len(rows), "fields": sorted(f.field for f in step.fields)}
    return Result(summary, record=before_after(step, key, rows, ctx.corrected))


PERFORM: dict[Action, Callable[[Step, StepContext, Connector], Result]] = {
    Action.FETCH: fetch,
    Action.ERASE: erase,
    Action.VERIFY: verify,
    Action.UPDATE: correct,
}
