"""The default backend: carry the run out in a background thread of the process that asked.

Zero set-up, one machine: the web server approving a request runs it in a
daemon thread named ``charter-run-<id>``. A thread of that name still alive
is not started twice (the claims would make it harmless; this only saves a
thread). At most ``CHARTER_JOBS_INPROCESS_THREADS`` runs go at once in a
process; more wait for a free slot in their thread, so a burst of approvals
does not start a hundred runs against the stores at once. A process that
ends mid-run leaves the run ``in_progress`` with its step claimed under a
lease: ``charter serve`` sweeps every ``CHARTER_JOBS_SWEEP_SECONDS`` and
resumes it (so do ``charter worker --sweep-once`` and ``charter requests run
ID``). ``inline`` runs in the caller's thread, for commands that exit when
done.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from charter.services import Services

THREAD_PREFIX = "charter-run-"
_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _slots_for(size: int) -> threading.BoundedSemaphore:
    """The process's run slots (sized by the first settings that ask; one process has one configuration)."""
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(size)
        return _slots


def _run_in_a_slot(services: Services, public_id: str) -> None:
    from charter.execution.jobs import run_logged  # the domain's job; imported late (it imports this package)

    with _slots_for(services.settings.jobs.inprocess_threads):
        run_logged(services, public_id)


class InProcessQueue:
    backend = "inprocess"

    def __init__(self, services: Services, *, inline: bool = False) -> None:
        self.services = services
        self.inline = inline

    def submit_run(self, public_id: str) -> None:
        from charter.execution.jobs import run_logged  # the domain's job; imported late (it imports this package)

        if self.inline:
            run_logged(self.services, public_id)
            return
        name = f"{THREAD_PREFIX}{public_id}"
        if any(t.name == name and t.is_alive() for t in threading.enumerate()):
            return
        threading.Thread(target=_run_in_a_slot, args=(self.services, public_id), name=name, daemon=True).start()
