"""A runner's batches: which steps go together, and what it carries from performing them to storing them.

A batch is claimed in one statement, performed in order, and stored in one
transaction of Charter's database (with the claim of the next). Two rules make
a batch as long as it can safely be:

* **Reads apart from writes.** The discovery (every fetch, in order, however
  deep the references go) is one batch, stored before any store is changed:
  a write's inputs and the verification's originals must survive a crash, and
  once an identity is rewritten the discovery could not find them again.
* **The writes and the verification that follows them** are the other: a
  crash redoes them, and every strategy is idempotent; the verification, which
  reads every touched row again by its key, proves the outcome whatever the
  counts of a re-run say (docs/design/execution.md, "Batches").

Steps that depend on each other go in the same batch in dependency order (each
one's outcome is kept in memory for the next), so an 11-table access is one
batch, not one per depth of the references.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from charter.execution import actions, corrections
from charter.execution.steps import Action, Plan, Step
from charter.subjects.service import Vault


@dataclass
class Done:
    """A step performed, its outcome not stored yet."""

    step: Step
    result: actions.Result
    #: the outcome's JSON (a fetch's rows), sealed only if it is stored for later steps or runs
    dumped: bytes | None
    #: when the step was performed: stored as its ``finished_at`` (a batch is stored later, all at once)
    finished_at: datetime


class Failed(Exception):
    """The step failed for good (attempts exhausted, or an error trying again cannot fix)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class Lost(Exception):
    """The step's lease ran out while waiting to try again, and another worker holds it now."""


#: Steps that only read: losing their record in a crash costs a re-read.
READING = frozenset({Action.FETCH, Action.VERIFY})
#: Steps that change a store: a batch's leading ones share a store transaction per system (:mod:`units`).
WRITING = frozenset({Action.ERASE, Action.UPDATE})


class Claimable(Protocol):
    """What :func:`batch_of` needs of a runner's view of its run (``claims.RunView``)."""

    done: set[str]

    def all_ready(
        self, now: datetime, depends_on: Mapping[str, tuple[str, ...]], *, finishing: Collection[str] = ()
    ) -> list[str]: ...

    def claimable(self, now: datetime) -> set[str]: ...


def batch_of(
    plan: Plan,
    view: Claimable,
    now: datetime,
    depends_on: Mapping[str, tuple[str, ...]],
    *,
    finishing: Collection[str] = (),
) -> list[str]:
    """What to claim together, in an order that performs every step after its dependencies.

    The ready steps that only read, else every ready step; then, as long as one is added, every claimable
    step whose dependencies are done or already in the batch: more reads after reads, and after writes
    more writes and their verifications, never a fetch (its outcome must be stored before a write uses it).
    ``finishing``: steps being stored in the same transaction (they count as done).
    """
    ready = view.all_ready(now, depends_on, finishing=finishing)
    readers = [step_id for step_id in ready if plan.step(step_id).action in READING]
    batch = readers or list(ready)
    if not batch:
        return []
    joins = READING if readers else frozenset(Action) - {Action.FETCH}
    done = set(view.done) | set(finishing)
    chosen = set(batch)
    open_ = [s for s in plan.steps if s.id in view.claimable(now) and s.id not in chosen and s.id not in done]
    while True:
        layer = [
            s.id
            for s in open_
            if s.id not in chosen and s.action in joins and all(d in done or d in chosen for d in depends_on[s.id])
        ]
        if not layer:
            return batch
        batch.extend(layer)
        chosen.update(layer)


def dependencies(plan: Plan) -> dict[str, tuple[str, ...]]:
    return {s.id: s.depends_on for s in plan.steps}


def audit_data(step: Step, summary: Mapping[str, Any]) -> dict[str, object]:
    """Ids and counts for the audit log; field names as values (the log refuses keys that look personal)."""
    return {
        "step": step.id,
        "system": step.system,
        "collection": step.collection,
        "rows": summary.get("rows", 0),
        "matched": summary.get("matched", 0),
        "strategy": step.strategy,
        "fields": [f"{f.field}={f.strategy}" for f in step.fields],
    }


def correction_ref(
    session: Session, vault: Vault, request: str, step: Step, result: actions.Result
) -> dict[str, object]:
    """An update's before/after sealed in its own record; the audit entry gets its id and digest, no value (P-RGT-2)."""
    if result.record is None:
        return {}
    record = corrections.store(session, vault.keys, request, step, result.record)
    return {"record": record.id, "record_sha256": record.sha256}
