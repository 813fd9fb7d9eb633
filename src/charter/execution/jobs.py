"""Execution as a job: run a request now, or in the background as soon as it is approved.

``run_request`` is what the CLI, the API and a future Celery task call: it
loads the data map (``CHARTER_DATAMAP_PATH``), runs the request with the
in-process :class:`~charter.execution.runner.Runner` and sends the e-mails the
change queued. ``after_approval`` starts it in a daemon thread when
``CHARTER_EXECUTION_AUTORUN`` is on (off by default); a run stopped there
(a store down, the process ended) is resumed by ``charter requests run ID``.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from charter.errors import CharterError
from charter.execution import service
from charter.execution.runner import Outcome, Runner
from charter.requests import notices
from charter.requests.kinds import RequestKind

if TYPE_CHECKING:
    from charter.services import Services

log = logging.getLogger("charter.execution")
RUNNABLE = frozenset({RequestKind.ACCESS, RequestKind.PORTABILITY, RequestKind.CORRECTION, RequestKind.DELETION})
THREAD_PREFIX = "charter-run-"


def run_request(services: Services, public_id: str) -> Outcome:
    datamap = service.load_datamap(services.settings)
    outcome = Runner(services.database, services.settings, services.vault, datamap).run(public_id)
    notices.deliver(services.database, services.mailer, vault=services.vault, settings=services.settings)
    return outcome


def autoruns(services: Services, kind: str) -> bool:
    return services.settings.execution.autorun and RequestKind(kind) in RUNNABLE


def _in_background(services: Services, public_id: str) -> None:
    try:
        outcome = run_request(services, public_id)
        log.info("request %s run: %s", public_id, outcome.status)
    except CharterError as exc:
        log.warning("request %s was not run: %s (%s)", public_id, exc.code, exc.detail)
    except Exception:
        log.exception("request %s: the run stopped on an unexpected error", public_id)


def after_approval(services: Services, public_id: str, kind: str) -> threading.Thread | None:
    """Start the run in a daemon thread when autorun is on and the request has data-store steps."""
    if not autoruns(services, kind):
        return None
    thread = threading.Thread(
        target=_in_background, args=(services, public_id), name=f"{THREAD_PREFIX}{public_id}", daemon=True
    )
    thread.start()
    return thread
