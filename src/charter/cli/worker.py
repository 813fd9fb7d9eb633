"""``charter worker``: carry out approved requests from the Redis queue (CHARTER_JOBS_BACKEND=celery).

The command and its options; what it does is :mod:`charter.cli.worker_run`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from charter.cli import worker_run
from charter.cli.output import command


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
    worker_run.worker(
        concurrency=concurrency, loglevel=loglevel, sweep_every=sweep_every, sweep_once=sweep_once, as_json=as_json
    )
