"""A runner's batches: which ready steps go together, and what it carries from performing them to storing them.

Steps that only read (fetch, verify) are claimed and stored a frontier at a
time: losing their record in a crash costs a re-read. A step that writes
(erase, update) goes alone, stored with its audit entry before the next one
starts, so a crash redoes at most one write (docs/design/execution.md,
"Batches").
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
    """What to claim together: every ready step that only reads, else the first ready step that writes.

    A step that changes a store is stored on its own, with its audit entry, before the next one starts:
    a crash then redoes at most that one (and the certificate counts what each statement changed).
    """
    readers = [step_id for step_id in ready if plan.step(step_id).action in READING]
    return readers or ready[:1]


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
