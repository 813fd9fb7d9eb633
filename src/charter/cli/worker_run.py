"""What ``charter worker`` does once its options are read (the command and its options: :mod:`charter.cli.worker`).

A thin shell over :mod:`charter.jobs.worker`, kept apart from the Typer
command so that a worker process can start without Typer
(:mod:`charter.cli.service_argv`). It refuses with exit 2 and one line when
the backend is not celery or the broker does not answer. ``sweep_once``
only sweeps (submits stopped runs again, runs the chores) and exits: from
cron with the in-process backend, where it carries the runs out itself
before it returns.
"""

from __future__ import annotations

from charter.cli.context import services
from charter.cli.output import emit_json
from charter.db import require_schema
from charter.errors import InvalidInput
from charter.jobs import queue_for
from charter.jobs import worker as runtime
from charter.jobs.sweeper import sweep


def _sweep_once(as_json: bool) -> None:
    from charter.cli.output import console  # rich, made only when there is something to print

    with services() as built:
        require_schema(built.database)
        if built.settings.jobs.backend == "celery":
            runtime.check_broker(built)
        report = sweep(built, queue_for(built, inline=True))
    if as_json:
        emit_json(report.as_dict())
        return
    console.print(
        f"swept ({report.backend}): {len(report.resumed)} stopped runs resumed, "
        f"{len(report.started)} approved requests started",
        markup=False,
        highlight=False,
    )
    for name, result in report.chores.items():
        console.print(f"  {name}: {result}", markup=False, highlight=False)


def worker(*, concurrency: int, loglevel: str, sweep_every: float | None, sweep_once: bool, as_json: bool) -> None:
    """Carry out approved requests from Charter's queue on Redis; sweep for runs a dead worker left."""
    if sweep_once:
        _sweep_once(as_json)
        return
    if loglevel.lower() not in runtime.LOGLEVELS:
        raise InvalidInput(f"--loglevel: expected one of {', '.join(runtime.LOGLEVELS)}")
    with services() as built:
        require_schema(built.database)  # a worker of a newer Charter on an older database: say so at once
        every = built.settings.jobs.sweep_seconds if sweep_every is None else sweep_every
        runtime.run(built, concurrency=concurrency, loglevel=loglevel.lower(), sweep_every=every)
