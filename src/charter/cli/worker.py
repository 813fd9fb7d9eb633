"""``charter worker``: carry out approved requests from the Redis queue (CHARTER_JOBS_BACKEND=celery).

A thin shell over :mod:`charter.jobs.worker`. It refuses with exit 2 and one
line when the backend is not celery or the broker does not answer.
``--sweep-once`` only sweeps (submits stopped runs again, runs the chores)
and exits: from cron with the in-process backend, where it carries the runs
out itself before it returns.
"""

from __future__ import annotations

from typing import Annotated

import typer

from charter.cli.context import services
from charter.cli.output import command, emit_json
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


@command
def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Runs carried out at once by this process (threads).")
    ] = 2,
    loglevel: Annotated[str, typer.Option(help="debug, info, warning, error or critical.")] = "info",
    sweep_every: Annotated[
        float | None,
        typer.Option(min=0, help="Seconds between sweeps (0: none); default CHARTER_JOBS_SWEEP_SECONDS."),
    ] = None,
    sweep_once: Annotated[bool, typer.Option("--sweep-once", help="Sweep once and exit (no worker).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --sweep-once: print the report as JSON.")] = False,
) -> None:
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
