"""A runner's batches: which ready steps go together, and what it carries from performing them to storing them.

Steps are claimed and stored a frontier at a time, readers (fetch, verify)
apart from writers (erase, update): losing a reader's record in a crash costs
a re-read; losing a writer's redoes its write, which every strategy makes
idempotent, and the verification (which reads every touched row again by its
key) proves the outcome whatever the counts of a re-run say
(docs/design/execution.md, "Batches"). Writers that are ready together do
not depend on each other (the plan orders children before parents), so a
frontier of them is one transaction of Charter's database, not one each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from charter.execution import actions, corrections
from charter.execution.steps import Action, Plan, Step
from charter.subjects.service import Vault


@dataclass
class Done:
    """A step performed, its outcome not stored yet."""

    step: Step
    result: actions.Result
    dumped: bytes | None
    sealed: bytes | None


class Failed(Exception):
    """The step failed for good (attempts exhausted, or an error trying again cannot fix)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class Lost(Exception):
    """The step's lease ran out while waiting to try again, and another worker holds it now."""


#: Steps that only read: losing their record in a crash costs a re-read, so a frontier of them is one batch.
READING = frozenset({Action.FETCH, Action.VERIFY})


def batch_of(plan: Plan, ready: list[str]) -> list[str]:
    """What to claim together: every ready step that only reads, else every ready step that writes.

    Readers go first (a frontier of fetches is the discovery every write waits for). A frontier of writers
    is stored together with one audit entry each: a crash redoes those writes, idempotently, and the
    certificate's ``rows_affected`` of a re-run may count 0 where the first run changed the rows (its
    ``rows_matched`` and the verification are what prove the outcome).
    """
    readers = [step_id for step_id in ready if plan.step(step_id).action in READING]
    return readers or list(ready)


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
