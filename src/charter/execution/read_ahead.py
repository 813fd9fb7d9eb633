"""A layer's reads sent together: the fetches that wait for the same earlier rows, and the verifications.

The steps of a batch run one after another, and each read was a round trip: the five child tables of a
customer, then their five grandchildren, then eleven verifications. Steps of one layer (none builds on
another) can be read at once: before the layer's first step runs, its reads go to each store that can
take several in one round trip (``connectors.base.Pipelined``: PostgreSQL, psycopg's pipeline), and the
rows wait in the context until each step takes its own. A store that cannot, or a read that fails, changes
nothing: the steps read one by one as before, and report any error as before.
"""

from __future__ import annotations

from collections.abc import Callable

from charter.connectors.base import Connector, Pipelined, Read
from charter.errors import CharterError
from charter.execution import actions
from charter.execution.context import READ_AHEAD, StepContext
from charter.execution.steps import Action, Step
from charter.execution.verification import Verifier


def read_ahead(steps: list[Step], ctx: StepContext, connector_of: Callable[[str], Connector]) -> int:
    """Read the layer's fetches and verifications together, store by store; how many reads were sent so."""
    by_system: dict[str, list[tuple[tuple[object, ...], Read]]] = {}
    for step in steps:
        try:
            if step.action == Action.FETCH:
                by_system.setdefault(step.system, []).extend(actions.reads_of(step, ctx))
            elif step.action == Action.VERIFY:
                where = actions.where_of(ctx.datamap, step)
                verifier = Verifier(step, ctx, connector_of(step.system), where)
                by_system.setdefault(step.system, []).append((("verify", step.id), verifier.read()))
        except CharterError:  # the step itself will meet it, and fail or wait as it always has
            continue
    sent = 0
    for system, reads in by_system.items():
        if len(reads) < 2:
            continue
        try:
            connector = connector_of(system)
        except CharterError:
            continue
        if not isinstance(connector, Pipelined):
            continue
        found = connector.read_many([read for _, read in reads])
        if found is None:
            continue
        ahead = ctx.memo.setdefault(READ_AHEAD, {})
        for (key, _), hits in zip(reads, found, strict=True):
            ahead[key] = hits
        sent += len(reads)
    return sent
