"""Performing a claimed batch of steps and storing it: the half of the runner that works step by step.

:class:`BatchRunner` performs a batch in order (its leading writes in one store transaction per system,
:mod:`units`), waits out a store that is ``Unavailable`` within the retry window (:mod:`backoff`), then stores the
outcomes, their audit entries and the claim of the next batch in one transaction of Charter's database
(:mod:`batches` says what a batch is). ``runner.Runner`` adds a run's life around it: opening, the loop, the end.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from charter import audit
from charter.connectors import Connector
from charter.connectors.base import Miscounted
from charter.db import PinnedDatabase
from charter.errors import CharterError, Unavailable
from charter.execution import actions, backoff, claims, ending, pipelined
from charter.execution.actions import Found, StepContext
from charter.execution.batches import READING, WRITING, Done, Failed, Lost, audit_data, batch_of, correction_ref
from charter.execution.context import READ_AHEAD
from charter.execution.read_ahead import read_ahead
from charter.execution.steps import Action, Plan, Step
from charter.execution.units import Units
from charter.requests import review
from charter.requests.models import PrivacyRequest
from charter.settings import Settings
from charter.subjects.service import Vault

if TYPE_CHECKING:
    from charter.execution.lease import LeaseKeeper
    from charter.execution.runner import Outcome

ACTOR = ending.ACTOR
#: (where, step): where is "before" (claimed, nothing done) or "after" (the store changed, our outcome not stored)
Fault = Callable[[str, Step], None]
Progress = Callable[[Step, str], None]


def seal_context(request: str, step_id: str) -> bytes:
    """What a step's sealed outcome is bound to: its request and step (one cannot stand for another)."""
    return b"charter.execution\x00" + request.encode() + b"\x00" + step_id.encode()


def _error(exc: CharterError) -> str:
    return f"{type(exc).__name__}: {exc.detail}"[: claims.MAX_ERROR]


def _layers(batch: list[Step], depends: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Each step's layer within the batch: one more than the latest of the batch's steps it builds on."""
    layer: dict[str, int] = {}
    for step in batch:
        layer[step.id] = 1 + max((layer[d] for d in depends[step.id] if d in layer), default=-1)
    return layer


class _NotRecorded(Exception):
    """Charter's database did not keep the record a batch's writes rely on (the discovery, committed while
    they went): the writes are rolled back and ``error`` goes out of the run, as any failure of that database."""

    def __init__(self, error: Unavailable) -> None:
        super().__init__(error.detail)
        self.error = error


class BatchRunner:
    """What performing and storing a batch needs of the runner (set by ``Runner.__init__`` and ``_run``)."""

    database: PinnedDatabase
    settings: Settings
    vault: Vault
    worker: str
    sleep: Callable[[float], None]
    clock: Callable[[], datetime]
    fault: Fault | None
    progress: Progress | None
    lease: timedelta
    _keeper: LeaseKeeper
    #: set when the last batch was stored with the run's end (:meth:`_record_and_finish`): completed by us or not
    _ended: bool | None
    #: what the end need not read again (:meth:`_known`): the request's row as the run was opened or resumed,
    #: when this runner opened the run (None if it resumed one), and when each step it stored finished
    _request_row: PrivacyRequest | None
    _started: datetime | None
    _finished: dict[str, datetime]
    _depends: dict[str, tuple[str, ...]]

    def _connector(self, system_id: str) -> Connector:
        raise NotImplementedError

    def _carry_out(
        self,
        plan: Plan,
        run_id: int,
        batch: list[Step],
        context: StepContext,
        view: claims.RunView,
        outcomes: dict[str, Found],
        outcome: Outcome,
    ) -> list[Step]:
        """Perform the claimed steps in order, then store them, their audit entries and the claim of the next
        batch in one transaction of Charter's database (:func:`~charter.execution.batches.batch_of`). Returns
        the next batch, already ours. A step that fails is stored after the ones done before it, then fails
        the run. The run's last batch, all done, is stored in the transaction that completes the run
        (:meth:`_record_and_finish`); ``self._ended`` then says how the run ended."""
        done: list[Done] = []
        in_batch = {step.id for step in batch}
        last = all(s.id in in_batch or s.id in view.done for s in plan.steps)
        failure: tuple[Step, str] | None = None
        skipped: set[str] = set()  # lost to another worker, or built on one that was: not performed here
        writes = list(itertools.takewhile(lambda step: step.action in WRITING, batch))
        together = writes if len(writes) > 1 else []  # one write alone needs no transaction around it
        with self._keeper.holding(*(step.id for step in batch)):
            if not together:
                self.database.settle()  # a write alone is committed as it is sent: the record it needs first
            if together:
                done, failure, lost = self._write_together(plan, run_id, together, context)
                skipped.update(lost)
            layer = _layers(batch, self._depends)
            current = -1
            for step in batch[len(together) :]:
                if failure is not None:
                    break
                if layer[step.id] != current:  # a new layer: its reads together (read_ahead)
                    current = layer[step.id]
                    reading = [s for s in batch if layer[s.id] == current and s.action in READING]
                    if len(reading) > 1 and not skipped:
                        read_ahead(reading, context, self._connector)
                if any(d in skipped for d in self._depends[step.id]):
                    skipped.add(step.id)
                    continue
                try:
                    result = self._execute(plan, run_id, step, context)
                except Lost:
                    skipped.add(step.id)
                    continue
                except Failed as failed:
                    failure = (step, failed.why)
                    break
                dumped = None
                if result.found is not None:
                    dumped = result.found.dumps()
                    # the batch's later steps build on it as a later run would: from its stored (JSON) form
                    outcomes[step.id] = Found.loads(dumped)
                done.append(Done(step, result, dumped, self.clock()))
        if failure is not None:
            # the batch's steps not done are given back: pending, not "claimed" by a run that failed
            stored = {d.step.id for d in done}
            skipped.update(s.id for s in batch if s.id not in stored and s.id != failure[0].id)
        context.memo.pop(READ_AHEAD, None)  # read for this batch only: a step left undone reads afresh later
        if last and failure is None and len(done) == len(batch):
            whole = len(batch) == len(plan.steps)
            ended = self._record_and_finish(plan, run_id, done, view, outcome, context, whole=whole)
            if ended is not None:
                self._ended = ended
                return []
        following = self._record(
            plan, run_id, done, view, outcomes, outcome, claim_next=failure is None, release=sorted(skipped)
        )
        if failure is not None:
            step, why = failure
            if self._fail_step(plan, run_id, step, why):
                view.mark(step.id, claims.FAILED)
            outcome.executed.append(step.id)
            return []
        return following

    def _execute(self, plan: Plan, run_id: int, step: Step, context: StepContext) -> actions.Result:
        """One claimed step in its store; a store that is ``Unavailable`` is tried again with backoff.

        Raises ``Failed`` (attempts exhausted, or any other Charter error) or ``Lost`` (while waiting to try
        again, the lease ran out and another worker took the step).
        """
        if self.progress:
            self.progress(step, "start")
        since: datetime | None = None  # the first failure of this step here: the retry window starts then
        while True:
            try:
                if self.fault:
                    self.fault("before", step)
                result = actions.PERFORM[step.action](step, context, self._connector(step.system))
                if self.fault:
                    self.fault("after", step)
                return result
            except Unavailable as exc:
                since = self._wait_to_retry(run_id, step, since, exc)
            except CharterError as exc:
                raise Failed(_error(exc)) from exc

    def _write_together(
        self, plan: Plan, run_id: int, steps: list[Step], context: StepContext
    ) -> tuple[list[Done], tuple[Step, str] | None, list[str]]:
        """A batch's leading writes (:mod:`units`): one store transaction per system, committed after the last.

        Returns what was done (performed, and its store's writes hold), the step that failed and why, and the
        steps lost to another worker. A store that is ``Unavailable`` has lost the transaction's earlier
        writes too: the whole group is tried again, with backoff (every write is idempotent). Any other error
        rolls back the writes of the stores in a transaction, so the failure changed nothing there."""
        since: datetime | None = None
        queued = True  # writes by key together at the commit, until a count says otherwise (Miscounted)
        while True:
            group = Units(self._connector, (step.system for step in steps), queued=queued)
            performed: list[tuple[Step, actions.Result, datetime]] = []
            step = steps[0]
            try:
                for step in steps:
                    if self.progress:
                        self.progress(step, "start")
                    if self.fault:
                        self.fault("before", step)
                    connector = group.connector(step.system)
                    if not group.holds(step.system):
                        self._settle()  # this write holds as soon as it is sent
                    result = actions.PERFORM[step.action](step, context, connector)
                    performed.append((step, result, self.clock()))
                self._settle()  # the discovery's record, committed while the writes went, holds before they do
                group.commit()
            except _NotRecorded as lost:
                group.rollback()
                raise lost.error from lost.error.__cause__
            except Miscounted:  # a row came or went since the discovery: nothing holds; again, one by one
                group.rollback()
                queued = False
                continue
            except Unavailable as exc:
                group.rollback()
                try:
                    since = self._wait_to_retry(run_id, step, since, exc)
                except Lost:
                    return [], None, [s.id for s in steps]
                except Failed as failed:
                    return self._held_writes(performed, group), (step, failed.why), []
                continue
            except CharterError as exc:
                group.rollback()
                return self._held_writes(performed, group), (step, _error(exc)), []
            except BaseException:
                group.rollback()
                raise
            if self.fault:
                for step, _result, _at in performed:
                    self.fault("after", step)
            return self._held_writes(performed, group), None, []

    def _settle(self) -> None:
        """Wait for the record committed while the writes went (:meth:`_record`, ``overlap``)."""
        try:
            self.database.settle()
        except Unavailable as exc:
            raise _NotRecorded(exc) from exc

    @staticmethod
    def _held_writes(performed: list[tuple[Step, actions.Result, datetime]], group: Units) -> list[Done]:
        return [Done(step, result, None, at) for step, result, at in performed if group.persisted(step.system)]

    def _wait_to_retry(self, run_id: int, step: Step, since: datetime | None, exc: Unavailable) -> datetime:
        """Wait before trying ``step`` again (exponential backoff within the retry window), counting the try
        and renewing its lease; returns when the window started. ``Failed`` once the window is spent, ``Lost``
        if the lease ran out meanwhile and another worker took the step."""
        now = self.clock()
        since = since or now
        with self.database.session() as session:
            tried = claims.attempts_of(session, run_id, step.id)
        pause = backoff.next_wait(self.settings.execution, tried, since=since, now=now)
        if pause is None:
            raise Failed(backoff.gave_up(tried, since, now, _error(exc))) from exc
        self.sleep(pause)
        with self.database.session() as session:
            if not claims.retry(session, run_id, step.id, worker=self.worker, now=self.clock(), lease=self.lease):
                raise Lost from exc
        return since

    def _record(
        self,
        plan: Plan,
        run_id: int,
        done: list[Done],
        view: claims.RunView,
        outcomes: dict[str, Found],
        outcome: Outcome,
        *,
        claim_next: bool,
        release: list[str],
    ) -> list[Step]:
        """Store the done steps (conditional on still holding them), audit the erasures and corrections, give
        back the steps not performed, and claim the next batch: one transaction. Returns the next batch."""
        if not done and not release:
            return []
        ready: list[str] = []
        taken: set[str] = set()
        # The discovery of a plan that writes is stored durably before any store is changed: once an identity
        # is rewritten it could not be found again, and the certificate would say less than was done.
        durable = any(d.step.action == Action.FETCH for d in done) and any(s.action in WRITING for s in plan.steps)
        # Its commit (a flush of the log: 0.7 ms on a quiet disk, 3.9 ms on a busy one) goes while the next
        # batch's writes are sent in their store transactions, committed only once it holds (``_settle``).
        with self.database.session(durable=durable, overlap=durable) as session:
            now = self.clock()
            kept = self._finish_steps(session, plan, run_id, done, seal=True)
            self._audit_steps(session, plan, done, kept)
            claims.release_many(session, run_id, release, worker=self.worker)
            if claim_next and done:
                ready = batch_of(plan, view, now, self._depends, finishing=kept)
                taken = claims.claim_many(session, run_id, ready, worker=self.worker, now=now, lease=self.lease)
        # committed: the steps are done (with their outcomes) and the next ones are ours
        for d in done:
            if d.step.id in kept:
                self._finished[d.step.id] = d.finished_at
                view.mark(d.step.id, claims.DONE)
                outcome.executed.append(d.step.id)
            else:  # another worker stored its own outcome of this step: later steps read that one
                outcomes.pop(d.step.id, None)
            if self.progress:
                self.progress(d.step, "done")
        for step_id in release:
            view.mark(step_id, claims.PENDING)
        for step_id in taken:
            view.mark(step_id, claims.CLAIMED, now + self.lease)
        return [plan.step(s) for s in ready if s in taken]

    def _record_and_finish(
        self,
        plan: Plan,
        run_id: int,
        done: list[Done],
        view: claims.RunView,
        outcome: Outcome,
        context: StepContext,
        *,
        whole: bool,
    ) -> bool | None:
        """Store the run's last batch and complete the run in one durable transaction: the end's records need
        the same commit anyway, and the outcomes it would seal only to drop them a moment later are not sealed.

        True: completed; False: another worker completed the run first; None: a step of the batch was taken
        over meanwhile, so nothing was stored and the ordinary record follows (:meth:`_record`). A crash
        before the commit leaves the steps claimed, as a crash before :meth:`_record` would: the next worker
        redoes them (reads, and idempotent writes proven by their verification). ``whole``: the batch was
        the whole plan, so no earlier step of the run sealed an outcome."""
        known = self._known(plan, done)
        with self.database.session(durable=True) as session:
            if pipelined.applies(session, plan, known, whole=whole) and pipelined.complete(
                session,
                self.vault,
                plan,
                run_id,
                context,
                self._stored(plan, done, seal=False),
                worker=self.worker,
                known=known,
                now=self.clock(),
            ):
                ended: bool | None = True
            else:
                ended = self._record_and_complete(session, plan, run_id, done, context, whole=whole, known=known)
        if ended is None:
            return None
        for d in done:
            view.mark(d.step.id, claims.DONE)
            outcome.executed.append(d.step.id)
            if self.progress:
                self.progress(d.step, "done")
        return ended

    def _record_and_complete(
        self,
        session: Session,
        plan: Plan,
        run_id: int,
        done: list[Done],
        context: StepContext,
        *,
        whole: bool,
        known: ending.Known,
    ) -> bool | None:
        """:meth:`_record_and_finish` one statement at a time (any database; and wherever a condition of the
        pipelined end did not hold, since this one says which)."""
        kept = self._finish_steps(session, plan, run_id, done, seal=False)
        if len(kept) < len(done):
            session.rollback()
            return None
        self._audit_steps(session, plan, done, kept)  # before the end: a deletion's certificate cites them
        return ending.complete_in(
            session, self.settings, self.vault, plan, run_id, context, now=self.clock(), sealed=not whole, known=known
        )

    def _known(self, plan: Plan, done: list[Done]) -> ending.Known:
        """What the end need not read again: the request's row, and the run's times when this runner opened the
        run and stored every step of it (``done``: the steps being stored with the end)."""
        finished = {**self._finished, **{d.step.id: d.finished_at for d in done}}
        times = None
        if self._started is not None and all(step.id in finished for step in plan.steps):
            last = max(finished.values(), default=None)
            times = (self._started.astimezone(UTC), None if last is None else last.astimezone(UTC))
        return ending.Known(self._request_row, times)

    def _finish_steps(self, session: Session, plan: Plan, run_id: int, done: list[Done], *, seal: bool) -> set[str]:
        """Mark the done steps done with their summaries (and, ``seal``, their outcomes sealed, for the later
        steps and runs that build on them), each conditional on our claim; the ids this worker still held."""
        return claims.finish_many(session, run_id, self._stored(plan, done, seal=seal), worker=self.worker)

    def _stored(self, plan: Plan, done: list[Done], *, seal: bool) -> list[pipelined.Stored]:
        """What is stored of each done step: its id, summary, sealed outcome (``seal``) and when it finished."""
        return [
            (
                d.step.id,
                d.result.summary,
                self.vault.keys.seal(d.dumped, context=seal_context(plan.request, d.step.id))
                if seal and d.dumped is not None
                else None,
                d.finished_at,
            )
            for d in done
        ]

    def _audit_steps(self, session: Session, plan: Plan, done: list[Done], kept: set[str]) -> None:
        """The erasures' and corrections' audit entries (one INSERT), for the steps stored as ours."""
        audit.record_many(
            session,
            [
                audit.Entry(
                    actor=ACTOR,
                    action=f"execution.{d.step.action.value}",
                    target=f"request:{plan.request}",
                    data=audit_data(d.step, d.result.summary)
                    | correction_ref(session, self.vault, plan.request, d.step, d.result),
                )
                for d in done
                if d.step.id in kept and d.step.action in (Action.ERASE, Action.UPDATE)
            ],
        )

    def _fail_step(self, plan: Plan, run_id: int, step: Step, error: str) -> bool:
        """Fail the step, the run and the request; False if the step is no longer ours."""
        with self.database.session(durable=True) as session:
            if not claims.fail(session, run_id, step.id, worker=self.worker, now=self.clock(), error=error):
                return False  # the lease ran out and another worker holds the step now: it decides
            row = review.get(session, plan.request)
            why = f"step {step.id} ({step.action.value} {step.collection}) failed: {error}"
            ending.fail(session, row, run_id, why, now=self.clock())
        if self.progress:
            self.progress(step, "failed")
        return True
