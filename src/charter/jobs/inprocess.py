"""The default backend: carry the run out in a background thread of the process that asked.

Zero set-up, one machine: the web server approving a request runs it in a
daemon thread named ``charter-run-<id>``. A thread of that name still alive
is not started twice (the claims would make it harmless; this only saves a
thread). A process that ends mid-run leaves the run ``in_progress`` with its
step claimed under a lease: ``charter worker --sweep-once`` (the in-process
backend runs it inline) or ``charter requests run ID`` resumes it.
``inline`` runs in the caller's thread, for commands that exit when done.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from charter.services import Services

THREAD_PREFIX = "charter-run-"


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
        threading.Thread(target=run_logged, args=(self.services, public_id), name=name, daemon=True).start()
