"""The in-process runner: carry out an approved request's plan step by step, resumably.

``Runner.run(public_id)``:

1. An ``approved`` request moves to ``in_progress`` and its plan is frozen
   (a run and a ``pending`` row per step, with the plan's digest) in one
   transaction. An ``in_progress`` one is resumed: the plan is made again
   (step ids are stable) and must have the same digest, else the run fails
   rather than mix two plans.
2. Loop: claim the next batch with one conditional UPDATE under a lease
   (:mod:`claims`): the whole discovery (every fetch, in dependency order),
   then the writes with the verification that follows them
   (:func:`~charter.execution.batches.batch_of`); perform them in their data
   stores (:mod:`actions`; a batch's writes share one transaction per store,
   :mod:`units`), then store their outcomes and mark them done in one
   transaction of Charter's database, the same that writes the audit records
   of the writing steps and claims the next batch. The step rows are read once
   per run and the view kept from this worker's own writes; they are read
   again only when a claim fails or nothing is ready. A store that is
   ``Unavailable`` is tried again with exponential backoff and jitter for
   ``CHARTER_EXECUTION_RETRY_WINDOW_MINUTES`` (:mod:`backoff`); any other
   Charter error (a wrong password, a missing table), or the window spent,
   fails the step, the run and the request (review.fail): no later step runs
   and no certificate is issued. The office retries it (:mod:`retry`).
3. When every step is done: access/portability write the sealed package;
   a deletion gets its certificate; the request is completed (review.complete)
   and the sealed fetch outcomes are dropped.

A process that dies mid-step leaves it ``claimed``: after the lease another
runner takes it again, and the steps are idempotent (:mod:`actions`), so
nothing is done twice. Errors that are not Charter's (bugs, a kill) are not
caught: the step stays claimed until its lease runs out, like a crash.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from charter.connectors import Connector, connector_for
from charter.datamap.live import resolve_url
from charter.datamap.model import DataMap
from charter.db import Database, PinnedDatabase
from charter.db.base import utcnow
from charter.errors import CharterError, Conflict
from charter.execution import claims, ending, pipelined, preflight
from charter.execution import service as planning
from charter.execution.actions import Found, StepContext
from charter.execution.batches import (
    batch_of,
    dependencies,
)
from charter.execution.erasure import Strategies
from charter.execution.guards import refuse_held
from charter.execution.kept import KeptConnectors
from charter.execution.lease import LeaseKeeper
from charter.execution.performing import BatchRunner, Fault, Progress, seal_context
from charter.execution.steps import Action, Plan, Step
from charter.requests import review
from charter.requests.errors import IllegalTransition
from charter.requests.kinds import RequestKind, Status
from charter.requests.models import PrivacyRequest
from charter.requests.sealing import details_of
from charter.settings import Settings
from charter.subjects.service import Vault

ACTOR = ending.ACTOR


def worker_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def digest(plan: Plan) -> str:
    return hashlib.sha256(json.dumps(plan.as_dict(), sort_keys=True).encode()).hexdigest()


class NotRunnable(Conflict):
    code = "not_runnable"
    title = "This request cannot be run"


@dataclass
class _Opened:
    """What :meth:`Runner._open` found: the plan, the request's identity (and corrected value) as the steps
    need them, and — when there is a run to work on — its id, the view of its steps and the batch claimed."""

    plan: Plan
    identities: dict[str, list[str]]
    corrected: object
    run_id: int | None = None
    view: claims.RunView | None = None
    batch: list[Step] = field(default_factory=list)


@dataclass
class Outcome:
    """What one call of :meth:`Runner.run` saw: the request's state and the steps it performed itself."""

    request: str
    status: str
    executed: list[str] = field(default_factory=list)
    error: str | None = None
    steps: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "status": self.status,
            "steps": self.steps,
            "executed": list(self.executed),
            "error": self.error,
        }


class Runner(BatchRunner):
    def __init__(
        self,
        database: Database,
        settings: Settings,
        vault: Vault,
        datamap: DataMap,
        *,
        worker: str | None = None,
        env: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
        fault: Fault | None = None,
        progress: Progress | None = None,
        kept: KeptConnectors | None = None,
    ) -> None:
        #: Charter's database for the run's bookkeeping, on one held connection (a commit per step, no
        #: checkout per step); ``pool`` is the shared one, for what runs beside the loop (the lease keeper)
        self.database = PinnedDatabase(database, relaxed=True)
        self.pool = database
        self.settings = settings
        self.vault = vault
        self.datamap = datamap
        self.worker = (worker or worker_name())[:64]
        self.env = os.environ if env is None else env
        self.sleep = sleep
        self.clock = clock
        self.fault = fault
        self.progress = progress
        self.strategies = Strategies(settings.secret_key())
        self.lease = timedelta(seconds=settings.execution.lease_seconds)
        self._connectors: dict[str, Connector] = {}
        #: a worker's connectors kept between its runs (``jobs.run_request``); None: built and closed per run
        self.kept = kept
        self._ended = None

    # -- the loop ----------------------------------------------------------------
    def run(self, public_id: str) -> Outcome:
        try:
            outcome = self._run(public_id)
            self.database.settle()  # a commit still going (``overlap``) holds before the outcome is told
            return outcome
        finally:
            for connector in self._connectors.values():
                if self.kept is not None:
                    self.kept.rest(connector)
                else:
                    connector.close()
            self._connectors.clear()
            self.database.release()

    def _run(self, public_id: str) -> Outcome:
        self._ended = None
        self._request_row, self._started, self._finished = None, None, {}
        opened = self._open(public_id)
        plan, run_id = opened.plan, opened.run_id
        outcome = Outcome(plan.request, Status.IN_PROGRESS.value, steps=len(plan.steps))
        if run_id is None or opened.view is None:
            return self._closed(outcome)
        if self._cannot_erase(plan, run_id, opened.view, opened.batch):
            return self._closed(outcome)
        context, outcomes = self._context(plan, run_id, opened)
        with LeaseKeeper(self.pool, run_id, worker=self.worker, lease=self.lease, clock=self.clock) as keeper:
            self._keeper = keeper
            return self._loop(plan, run_id, outcome, context, outcomes, opened.view, opened.batch)

    def _loop(
        self,
        plan: Plan,
        run_id: int,
        outcome: Outcome,
        context: StepContext,
        outcomes: dict[str, Found],
        view: claims.RunView,
        batch: list[Step],
    ) -> Outcome:
        while True:
            if not batch:
                if view.failed():
                    return self._closed(outcome)
                if view.all_done():
                    if self._finish(plan, run_id, context):
                        outcome.status = Status.COMPLETED.value
                        return outcome
                    return self._closed(outcome)
                batch, view = self._claim_batch(plan, run_id, view)
                if not batch:
                    if view.failed() or view.all_done():
                        continue
                    return outcome  # the remaining steps are another worker's, under a live lease
            batch = self._carry_out(plan, run_id, batch, context, view, outcomes, outcome)
            if self._ended is not None:  # the last batch was stored with the run's end
                if self._ended:
                    outcome.status = Status.COMPLETED.value
                    return outcome
                return self._closed(outcome)
            if not batch and not view.all_done() and not view.failed():
                with self.database.session() as session:  # nothing ready as far as we know: see what others did
                    view = claims.view_of(session, run_id)

    def _open(self, public_id: str) -> _Opened:
        """The plan and the run to work on (none when the request is already answered), in one transaction:
        a new run is opened with its first batch already claimed; a run in progress is resumed from its
        steps as stored."""
        # not durable: losing it in a crash of the database server loses nothing done (no store has changed);
        # the next durable commit (the discovery's, before any write) makes it durable too
        with self.database.session() as session:
            row = review.get(session, public_id)
            starts, notes = planning.identities_of(row, self.datamap, vault=self.vault)
            plan = planning.plan_of(row, self.datamap, vault=self.vault, identities=(starts, notes))
            self._depends = dependencies(plan)
            corrected = details_of(self.vault, row).get("value") if row.kind == RequestKind.CORRECTION else None
            opened = _Opened(plan, starts, corrected)
            status = Status(row.status)
            if status in (Status.COMPLETED, Status.FAILED, Status.GIVEN_UP):
                return opened  # answered, or failed: the office retries a failed one (charter.execution.retry)
            refuse_held(session, row, plan)
            if status == Status.APPROVED and self._start(session, row, opened):
                return opened
            row = review.get(session, public_id)
            if Status(row.status) != Status.IN_PROGRESS:
                raise NotRunnable(
                    f"request {row.public_id} is {Status(row.status).label}; only an approved request runs"
                )
            run = claims.run_of(session, row.id)
            if run is None:
                raise NotRunnable(f"request {row.public_id} is in progress without a run; it cannot be resumed")
            if run.status != claims.RUNNING:
                return opened
            if run.plan_digest != digest(plan):
                self._fail_run(
                    session,
                    row,
                    run.id,
                    "the data map changed since the run started; retry the request to carry out the new plan",
                )
                return opened
            opened.run_id, opened.view = run.id, claims.view_of(session, run.id)
            self._request_row = row
            return opened

    def _start(self, session: Session, row: PrivacyRequest, opened: _Opened) -> bool:
        """Start the approved request and open its run, its first batch already claimed (PostgreSQL: in two round
        trips, ``pipelined.open_run``); False if another runner started it a moment ago (resume theirs)."""
        plan = opened.plan
        now = self.clock()
        view = claims.fresh_view(step.id for step in plan.steps)
        first = batch_of(plan, view, now, self._depends)  # written already claimed
        if pipelined.opens(session):
            run_id = pipelined.open_run(
                session, row, plan, digest(plan), now=now, claimed=first, worker=self.worker, lease=self.lease
            )
            if run_id is None:
                return False  # rolled back: another runner started it a moment ago
        else:
            try:
                review.start(session, row, actor=ACTOR, now=now)
            except IllegalTransition:
                session.rollback()  # another runner started it a moment ago: resume theirs
                return False
            run_id = claims.open_run(
                session, row.id, plan, digest(plan), now=now, claimed=first, worker=self.worker, lease=self.lease
            )
        self._request_row, self._started = row, now
        for step_id in first:
            view.mark(step_id, claims.CLAIMED, now + self.lease)
        opened.run_id, opened.view = run_id, view
        opened.batch = [plan.step(step_id) for step_id in first]
        return True

    def _claim_in(self, session: Session, plan: Plan, run_id: int, view: claims.RunView) -> list[Step]:
        """Claim the next batch (:func:`~charter.execution.batches.batch_of`) in the caller's transaction."""
        now = self.clock()
        ready = batch_of(plan, view, now, self._depends)
        if not ready:
            return []
        taken = claims.claim_many(session, run_id, ready, worker=self.worker, now=now, lease=self.lease)
        for step_id in taken:
            view.mark(step_id, claims.CLAIMED, now + self.lease)
        return [plan.step(s) for s in ready if s in taken]

    def _claim_batch(self, plan: Plan, run_id: int, view: claims.RunView) -> tuple[list[Step], claims.RunView]:
        """Claim the next batch (:func:`~charter.execution.batches.batch_of`) at once; none taken means someone
        else moved: read the steps again and retry."""
        while True:
            if not view.all_ready(self.clock(), self._depends):
                return [], view
            with self.database.session() as session:
                batch = self._claim_in(session, plan, run_id, view)
            if batch:
                return batch, view
            with self.database.session() as session:
                view = claims.view_of(session, run_id)
            if view.failed():
                return [], view

    # -- a batch of steps --------------------------------------------------------
    def _connector(self, system_id: str) -> Connector:
        connector = self._connectors.get(system_id)
        if connector is None:
            system = self.datamap.systems[system_id]
            kind, url, options = (
                system.model.kind,
                resolve_url(system, self.env, self.settings.home),
                self.settings.connectors,
            )
            if self.kept is not None:
                key = (kind, system_id, url, options.model_dump_json())
                connector = self.kept.get(key, lambda: connector_for(kind, system_id, url, options))
            else:
                connector = connector_for(kind, system_id, url, options)
            self._connectors[system_id] = connector
        return connector

    def _context(self, plan: Plan, run_id: int, opened: _Opened) -> tuple[StepContext, dict[str, Found]]:
        """The steps' context, and the outcomes it knows by step id: this worker's own, kept as it performs
        them; another worker's or an earlier call's, opened from their sealed rows once, when first needed."""
        identities, corrected = opened.identities, opened.corrected
        cache: dict[str, Found] = {}
        stored: dict[str, bytes] = {}

        def found(step_id: str) -> Found:
            if step_id not in cache:
                if step_id not in stored:  # done by another worker or an earlier call: read all we lack at once
                    with self.database.session() as session:
                        stored.update(claims.outcomes_of(session, run_id, besides=set(cache) | set(stored)))
                sealed = stored.pop(step_id, None)
                if sealed is None:
                    raise NotRunnable(f"step {step_id} has no stored outcome to build on")
                opened = self.vault.keys.open(sealed, context=seal_context(plan.request, step_id))
                cache[step_id] = Found.loads(opened)
            return cache[step_id]

        context = StepContext(
            plan.request,
            plan,
            self.datamap,
            identities,
            found,
            self.strategies,
            corrected,
            phone_region=self.vault.phone_region,
        )
        return context, cache

    # -- the end -----------------------------------------------------------------
    def _cannot_erase(self, plan: Plan, run_id: int, view: claims.RunView, claimed: list[Step]) -> bool:
        """Fail the run, before any store is changed, if an erase step still to do could not be written
        (``preflight``): a deletion is never left half-done by a step that was bound to fail. The batch
        claimed with the run is given back (``pending``: nothing of it was done)."""
        pending = [s for s in plan.of(Action.ERASE) if s.id not in view.done]
        if not pending:
            return False
        try:
            found = preflight.problems(Plan(plan.request, plan.kind, (), tuple(pending)), self.datamap, self._connector)
        except CharterError:  # a store that does not answer now: the steps themselves wait for it, or fail
            return False
        if not found:
            return False
        why = "the deletion cannot be carried out as the data map says; nothing was changed: " + "; ".join(found)
        with self.database.session(durable=True) as session:
            claims.release_many(session, run_id, [s.id for s in claimed], worker=self.worker)
            self._fail_run(session, review.get(session, plan.request), run_id, why[: claims.MAX_ERROR])
        return True

    def _fail_run(self, session: Session, row: PrivacyRequest, run_id: int, why: str) -> None:
        ending.fail(session, row, run_id, why, now=self.clock())

    def _finish(self, plan: Plan, run_id: int, context: StepContext) -> bool:
        known = self._known(plan, [])
        return ending.complete(
            self.database, self.settings, self.vault, plan, run_id, context, now=self.clock(), known=known
        )

    def _closed(self, outcome: Outcome) -> Outcome:
        with self.database.session() as session:
            row = review.get(session, outcome.request)
            run = claims.run_of(session, row.id)
            outcome.status = row.status
            outcome.error = run.error if run is not None else None
        return outcome
