"""Keeping a step's lease while it runs: a step longer than the lease is not taken over by another worker.

A claim is a lease (``CHARTER_EXECUTION_LEASE_SECONDS``): if its worker dies,
another takes the step once the lease has run out. A living worker in a long
step (a person with a million rows, a slow store) must not lose it that way,
so while the step runs a thread renews the lease every third of its length,
on its own connection from the pool. If renewing finds the step no longer
ours (the worker was paused past its lease and another took over), it stops;
the worker's own ``finish`` is conditional on the claim and will not
overwrite the other's. A failed renewal (the database did not answer) is
tried again at the next tick; the lease has two more thirds to go.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import TracebackType

from charter.db import Database
from charter.errors import CharterError
from charter.execution import claims

log = logging.getLogger("charter.execution")


class LeaseKeeper:
    """One thread per run renewing the leases of the steps this worker is performing (``holding``).

    One thread for the whole run, not one per step: starting a thread costs a
    switch to it, and on a loaded machine that switch cost more than the step.
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
        self.renewals = 0
        self.lost: set[str] = set()
        self._steps: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LeaseKeeper:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @contextmanager
    def holding(self, *step_ids: str) -> Iterator[None]:
        """Keep these steps' leases until the block ends (the thread starts with the first block)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._keep, name=f"charter-lease-{self.run_id}", daemon=True)
            self._thread.start()
        with self._lock:
            self._steps = step_ids
        try:
            yield
        finally:
            with self._lock:  # a renewal in flight finishes first: none is sent for a step once it is left
                self._steps = ()

    def _keep(self) -> None:
        every = self.lease.total_seconds() / 3
        while not self._stop.wait(every):
            with self._lock:
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
