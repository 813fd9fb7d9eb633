"""Keeping a step's lease while it runs: a step longer than the lease is not taken over by another worker.

A claim is a lease (``CHARTER_EXECUTION_LEASE_SECONDS``): if its worker dies,
another takes the step once the lease has run out. A living worker in a long
step (a person with a million rows, a slow store) must not lose it that way,
so while the step runs the process's renewing thread (one for every run,
``_Ticker``) renews the lease every third of its length, on a connection from
the pool. If renewing finds the step no longer ours (the worker was paused
past its lease and another took over), it stops;
the worker's own ``finish`` is conditional on the claim and will not
overwrite the other's. A failed renewal (the database did not answer) is
tried again at the next tick; the lease has two more thirds to go.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import TracebackType

from charter.db import Database
from charter.errors import CharterError
from charter.execution import claims

log = logging.getLogger("charter.execution")


class LeaseKeeper:
    """Renews the leases of the steps this worker is performing in a run (``holding``), every third of a lease.

    The renewals are made by one thread of the process for every keeper (:class:`_Ticker`), not by a thread per
    run: starting and joining a thread cost as much as a statement, for each of a run's few milliseconds, and a
    renewal is due only after a third of the lease (minutes).
    """

    def __init__(
        self,
        database: Database,
        run_id: int,
        *,
        worker: str,
        lease: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.database = database
        self.run_id = run_id
        self.worker = worker
        self.lease = lease
        self.clock = clock
        self.every = lease.total_seconds() / 3
        self.renewals = 0
        self.lost: set[str] = set()
        self._steps: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self._stopped = False
        self._registered = False

    def __enter__(self) -> LeaseKeeper:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        _TICKER.remove(self)
        with self._lock:  # a renewal in flight finishes first; none is sent after this
            self._stopped = True

    @contextmanager
    def holding(self, *step_ids: str) -> Iterator[None]:
        """Keep these steps' leases until the block ends (the keeper is ticked from the first block on)."""
        with self._lock:
            self._steps = step_ids
        if not self._registered:
            self._registered = True
            _TICKER.add(self)
        try:
            yield
        finally:
            with self._lock:  # a renewal in flight finishes first: none is sent for a step once it is left
                self._steps = ()

    def tick(self) -> None:
        """Renew the leases of the steps held now (called by the ticker's thread)."""
        with self._lock:
            if self._stopped:
                return
            for step_id in self._steps:
                self._renew(step_id)

    def _renew(self, step_id: str) -> None:
        if step_id in self.lost:
            return
        try:
            with self.database.session() as session:
                kept = claims.renew(
                    session, self.run_id, step_id, worker=self.worker, now=self.clock(), lease=self.lease
                )
        except CharterError as exc:
            log.warning("step %s: the lease was not renewed (%s); trying again", step_id, exc.code)
            return
        if not kept:
            self.lost.add(step_id)
            log.warning("step %s is no longer this worker's (its lease ran out); it stops renewing", step_id)
            return
        self.renewals += 1


class _Ticker:
    """The process's one thread that ticks every keeper when its renewals are due.

    Started with the first keeper (and again in a process forked from one that had it: the child has no such
    thread). A keeper whose renewal is slow delays the others' by as much; a lease has two thirds to spare."""

    def __init__(self) -> None:
        self._due: dict[LeaseKeeper, float] = {}
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, keeper: LeaseKeeper) -> None:
        with self._changed:
            self._due[keeper] = time.monotonic() + keeper.every
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="charter-leases", daemon=True)
                self._thread.start()
            self._changed.notify()

    def remove(self, keeper: LeaseKeeper) -> None:
        with self._changed:
            self._due.pop(keeper, None)

    def _run(self) -> None:
        while True:
            with self._changed:
                now = time.monotonic()
                ready = [keeper for keeper, due in self._due.items() if due <= now]
                if not ready:
                    self._changed.wait(timeout=min(self._due.values(), default=now + 3600) - now)
                    continue
                for keeper in ready:
                    self._due[keeper] = now + keeper.every
            for keeper in ready:
                try:
                    keeper.tick()
                except Exception as exc:  # noqa: BLE001 - one keeper failing must not stop the others
                    log.warning("run %s: renewing its leases failed (%s)", keeper.run_id, type(exc).__name__)


_TICKER = _Ticker()
