"""The plan's vocabulary: steps, where their input values come from, what was not searched.

A :class:`Plan` is data only: no identity value is ever part of it. It names
the identity *kinds* a step starts from and shows each identity of the
request masked (:func:`mask`); the runner reads the values from the sealed
request when it runs a step. So printing, logging or storing a plan cannot
leak who asked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from charter.datamap.paths import shown_name
from charter.subjects.normalize import mask

__all__ = [
    "Action",
    "FieldErasure",
    "Input",
    "NotSearched",
    "Plan",
    "ShownIdentity",
    "Source",
    "Step",
    "mask",
    "step_id",
]


class Action(StrEnum):
    FETCH = "fetch"  # read the rows matching the inputs (discovery)
    ERASE = "erase"  # apply the erasure strategy to the rows the fetch found
    VERIFY = "verify"  # re-run the fetch after erasure: nothing identifying may remain
    UPDATE = "update"  # write the corrected value into the named fields


@dataclass(frozen=True)
class Source:
    """Where a step's input values come from: an identity of the request, or a field of an earlier step's rows.

    Exactly one of ``identity`` and ``step`` is set; ``field`` goes with ``step``.
    """

    identity: str | None = None
    step: str | None = None
    field: str | None = None

    def as_dict(self) -> dict[str, object]:
        if self.identity is not None:
            return {"identity": self.identity}
        return {"step": self.step, "field": self.field}

    def render(self) -> str:
        if self.identity is not None:
            return f"identity:{self.identity}"
        return f"{self.step}.{shown_name(self.field or '')}"


@dataclass(frozen=True)
class Input:
    """Rows whose ``field`` is one of the values from ``source`` (one ``IN (...)`` per chunk of values)."""

    field: str
    source: Source

    def as_dict(self) -> dict[str, object]:
        return {"field": self.field, "from": self.source.as_dict()}

    def render(self) -> str:
        return f"{shown_name(self.field)} IN {self.source.render()}"


@dataclass(frozen=True)
class FieldErasure:
    """One field's strategy (``to``: generalize_date's precision; ``replacement``: redact_text's text;
    ``length``: random_token's length) and why it applies (the field's own, a policy rule, an identity).
    ``field`` is the store's own name of a top-level field (a column, a hash field), never a path."""

    field: str
    strategy: str
    to: str | None = None
    replacement: str | None = None
    length: int | None = None
    why: str = ""

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"field": self.field, "strategy": self.strategy}
        if self.to is not None:
            out["to"] = self.to
        if self.replacement is not None:
            out["replacement"] = self.replacement
        if self.length is not None:
            out["length"] = self.length
        if self.why:
            out["why"] = self.why
        return out

    @property
    def shown(self) -> str:
        """The field as people read it: ``"addr.line1"`` for a column so named (:mod:`charter.datamap.paths`)."""
        return shown_name(self.field)

    def render(self) -> str:
        option = f" to {self.to}" if self.to else ""
        return f"{self.shown}={self.strategy}{option}"


@dataclass(frozen=True)
class Step:
    """One unit of work on one collection; a runner stores its outcome under ``id`` before going on.

    The rows a step works on are the union of its ``inputs`` (each an ``IN``
    over values from an identity or an upstream step). ``strategy`` is
    ``delete_row`` for an erasure that deletes rows, else ``fields`` says how
    each field is rewritten (erase) or which fields take the corrected value
    (update).
    """

    id: str
    action: Action
    system: str
    collection: str  # "dataset.collection"
    inputs: tuple[Input, ...]
    depends_on: tuple[str, ...] = ()
    strategy: str | None = None
    fields: tuple[FieldErasure, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "action": self.action.value,
            "system": self.system,
            "collection": self.collection,
            "inputs": [i.as_dict() for i in self.inputs],
            "depends_on": list(self.depends_on),
            "strategy": self.strategy,
            "fields": [f.as_dict() for f in self.fields],
        }


@dataclass(frozen=True)
class NotSearched:
    """A collection the plan leaves alone, and why (an honest plan says what it does not cover)."""

    collection: str
    reason: str
    system: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"collection": self.collection, "system": self.system, "reason": self.reason}


@dataclass(frozen=True)
class ShownIdentity:
    """An identity of the request as a plan may show it: the kind and a masked form, never the value."""

    kind: str
    masked: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "masked": self.masked}


@dataclass(frozen=True)
class Plan:
    request: str
    kind: str
    identities: tuple[ShownIdentity, ...]
    steps: tuple[Step, ...]
    not_searched: tuple[NotSearched, ...] = ()
    #: discovered collections a deletion keeps (``keep`` in the map, or nothing in them to erase)
    kept: tuple[NotSearched, ...] = ()
    notes: tuple[str, ...] = field(default=())
    #: personal fields of erased collections a deletion leaves as they are, and why (``collection`` is the field)
    untouched: tuple[NotSearched, ...] = ()

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def of(self, action: Action) -> list[Step]:
        return [s for s in self.steps if s.action == action]

    def as_dict(self) -> dict[str, object]:
        return {
            "request": self.request,
            "type": self.kind,
            "identities": [i.as_dict() for i in self.identities],
            "steps": [s.as_dict() for s in self.steps],
            "not_searched": [n.as_dict() for n in self.not_searched],
            "kept": [k.as_dict() for k in self.kept],
            "untouched": [u.as_dict() for u in self.untouched],
            "notes": list(self.notes),
        }


def step_id(request: str, system: str, collection: str, action: Action) -> str:
    """Stable across runs and machines: the same request, system, collection and action give the same id."""
    digest = hashlib.sha256("\x00".join((request, system, collection, action.value)).encode()).hexdigest()
    return f"{action.value}-{digest[:20]}"
