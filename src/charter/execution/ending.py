"""How a run ends: completed with its package or certificate, or failed — each in one transaction.

Completing builds the access/portability package (dated by the last step: the same run gives the same zip) or the
deletion's certificate, closes the run (of two workers, one wins) and stores the package with it, drops the
sealed fetch outcomes, does a deletion's aftercare (P-RGT-3), audits ``execution.finished`` and completes the
request. Failing closes the run with the reason and fails the request; its sealed rows stay for a retry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from charter import audit
from charter.db import PinnedDatabase
from charter.execution import aftercare, certificate, claims, package
from charter.execution.actions import StepContext
from charter.execution.steps import Action, Plan
from charter.requests import review
from charter.requests.kinds import RequestKind, Status
from charter.requests.models import PrivacyRequest
from charter.settings import Settings
from charter.subjects.service import Vault

ACTOR = "executor"


def complete(
    database: PinnedDatabase,
    settings: Settings,
    vault: Vault,
    plan: Plan,
    run_id: int,
    context: StepContext,
    *,
    now: datetime,
    known: Known | None = None,
) -> bool:
    """Write the package or the certificate, close the run and complete the request: one transaction.
    False if another worker completed it a moment before."""
    with database.session(durable=True) as session:
        return complete_in(session, settings, vault, plan, run_id, context, now=now, known=known)


def complete_in(
    session: Session,
    settings: Settings,
    vault: Vault,
    plan: Plan,
    run_id: int,
    context: StepContext,
    *,
    now: datetime,
    sealed: bool = True,
    known: Known | None = None,
) -> bool:
    """:func:`complete` in the caller's (durable) transaction, which may also store the run's last steps
    (``performing``: the last batch and the end commit together). ``sealed=False``: no step of the run kept
    a sealed outcome (the whole plan was that one batch), so there is none to drop. ``known``: what the
    runner already holds of the request and the run, so it is not read again."""
    kind = RequestKind(plan.kind)
    if known is not None and known.request is not None:
        row = session.merge(known.request, load=False)  # its status is checked by the UPDATE that moves it
    else:
        row = review.get(session, plan.request)
    if known is not None and known.times is not None:
        started, last = known.times
    else:
        started, last = claims.run_times(session, run_id)
    values: dict[str, Any] = {}
    data: dict[str, object] = {"steps": len(plan.steps)}
    found_anything = True
    built: package.Built | None = None
    if kind in (RequestKind.ACCESS, RequestKind.PORTABILITY):
        built, data = packaged(vault, plan, context, dated=last or started)
        values = {"package": built.name, "package_sha256": built.sha256}
        found_anything = built.rows > 0
    if kind == RequestKind.DELETION:
        steps = claims.outcome_rows(session, run_id)
        document = certificate.build(session, plan, steps, started_at=started, now=now)
        values["certificate"] = document
        data["certificate_sha256"] = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
        data["outcome"] = document["outcome"]
        found_anything = document["outcome"] != certificate.NO_RECORD_FOUND
    data["found"] = found_anything
    if not claims.close_run(session, run_id, claims.COMPLETED, now=now, **values):
        return False  # another worker finished it a moment ago
    if built is not None:
        package.store(session, run_id, built, now=now)  # with "completed", in the same commit
    if sealed:
        claims.forget_outcomes(session, run_id)
    if kind == RequestKind.DELETION:  # P-RGT-3: ledger tombstoned, identities forgotten, hashes suppressed
        data.update(aftercare.after_erasure(session, vault=vault, request_row=row, now=now))
    with audit.gathered(session):  # "execution.finished" and "request.completed": one INSERT
        audit.record(session, actor=ACTOR, action="execution.finished", target=f"request:{plan.request}", data=data)
        review.complete(session, row, actor=ACTOR, now=now, nothing_found=not found_anything)
    return True


def packaged(
    vault: Vault, plan: Plan, context: StepContext, *, dated: datetime
) -> tuple[package.Built, dict[str, object]]:
    """An access or portability run's package, sealed, dated by its last step; and the data of its
    ``execution.finished`` entry but for ``found`` (:func:`complete_in`, and the pipelined end)."""
    rows = {s.collection: (s.system, context.found(s.id).rows) for s in plan.of(Action.FETCH)}
    built = package.seal(vault.keys, plan, rows, now=dated)
    data: dict[str, object] = {
        "steps": len(plan.steps),
        "package_sha256": built.sha256,
        "collections": built.collections,
        "rows": built.rows,
    }
    return built, data


@dataclass(frozen=True)
class Known:
    """What the runner holds already when it ends a run, so the end does not read it again.

    ``request``: the request's row as the runner read it when it opened the run (its state is checked anyway:
    the request moves to completed only from the state it is in). ``times``: when the run started and when its
    last step finished, given only when this runner opened the run and stored every one of its steps, so no
    other worker's step can be later; else the end reads them."""

    request: PrivacyRequest | None = None
    times: tuple[datetime, datetime | None] | None = None


def fail(session: Session, row: PrivacyRequest, run_id: int, why: str, *, now: datetime) -> None:
    """Fail the run and the request with ``why`` (in the caller's transaction), unless the run is closed.

    The sealed fetch outcomes stay: the office may retry the run (charter.execution.retry), and the steps kept
    build on them; giving up drops them."""
    if claims.close_run(session, run_id, Status.FAILED.value, now=now, error=why[: claims.MAX_ERROR]):
        review.fail(session, row, actor=ACTOR, why=why, now=now)
