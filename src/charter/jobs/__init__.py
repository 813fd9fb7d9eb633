"""Background work: one job interface, two backends, and the sweeper that restarts what stopped.

:mod:`base` is the interface (:class:`~charter.jobs.base.JobQueue`: submit a
request's run) and :func:`~charter.jobs.base.queue_for`, the type→class
registry ``CHARTER_JOBS_BACKEND`` picks from: :mod:`inprocess` (the default:
a background thread of the process that asked, zero set-up) or
:mod:`celery_queue` (Redis; ``charter worker`` processes take the runs, on
as many machines as there are). :mod:`sweeper` finds runs a dead worker left
behind and approved requests nobody started, and submits them again; it
also runs the periodic chores of other domains. :mod:`worker` is what
``charter worker`` starts.

The work itself is the execution domain's (:func:`charter.execution.jobs.run_request`);
its state lives in Charter's database, with leased claims per step, so a job
delivered twice, or resumed after a crash, never does a step twice. See
docs/design/execution.md and docs/guide/workers.md.
"""

from __future__ import annotations

from charter.jobs.base import BrokerUnavailable, JobQueue, JobsMisconfigured, queue_for

__all__ = ["BrokerUnavailable", "JobQueue", "JobsMisconfigured", "queue_for"]
