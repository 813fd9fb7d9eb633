"""``charter requests retry ID`` and ``charter requests give-up ID --reason TEXT``: a failed request, acted on.

``retry`` plans the request again with the data map as it is now, keeps the
steps already done (charter.execution.retry), prints what it keeps, does
again, adds and drops (and the new plan when the map changed it), then
carries the rest out in this process like ``charter requests run``.
``give-up`` closes a failed request as not carried out; the requester is
e-mailed the reason. A request that is not failed exits 2 with one line.
Also the text forms of a plan and of a run that ``charter requests plan``,
``run`` and ``show`` print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from charter.cli.context import services
from charter.cli.output import command, console, emit_json
from charter.execution import retry
from charter.execution import service as execution
from charter.execution.runner import Runner
from charter.execution.steps import Action, Plan
from charter.requests import notices, review

ACTOR = "cli"
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
#: the data map to plan with, for ``plan`` and ``retry``
DatamapOpt = Annotated[
    Path | None,
    typer.Option("--datamap", help="A data-map folder or file (default: CHARTER_DATAMAP_PATH).", show_default=False),
]


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def plan_lines(plan: Plan) -> list[str]:
    """The plan as text: identities masked, steps in order, then what is kept and what is not searched."""
    who = ", ".join(f"{i.kind} {i.masked}" for i in plan.identities)
    lines = [f"plan for {plan.kind} request {plan.request} ({who}): {len(plan.steps)} steps"]
    for number, step in enumerate(plan.steps, 1):
        where = " OR ".join(i.render() for i in step.inputs) or "-"
        how = step.strategy or ", ".join(f.render() for f in step.fields)
        if step.strategy and step.fields:
            how = f"{step.strategy} ({', '.join(f.shown for f in step.fields)})"
        tail = f"  strategy: {how}" if how else ""
        lines.append(f"{number:>3}. {step.id}  {step.action.value:<6} {step.system}/{step.collection}")
        lines.append(f"       where {where}{tail}")
        if step.action == Action.ERASE:  # what each field becomes, and why (charter.datamap.erasure_policy)
            lines.extend(f"       {f.shown}: {f.why}" for f in step.fields if f.why)
    for untouched in plan.untouched:
        lines.append(f"left as it is: {untouched.collection}: {untouched.reason}")
    for kept in plan.kept:
        lines.append(f"kept: {kept.collection}: {kept.reason}")
    for skipped in plan.not_searched:
        lines.append(f"not searched: {skipped.collection}: {skipped.reason}")
    lines.extend(f"note: {note}" for note in plan.notes)
    return lines


def run_lines(run: dict[str, Any]) -> None:
    """The run step by step (charter.execution.retry.report): what each step changed, or why it failed."""
    retried = f", retried {run['retries']} time{'s' if run['retries'] > 1 else ''}" if run["retries"] else ""
    _say(f"{'run':<18} {run['status']}, {run['done']} of {len(run['steps'])} steps done{retried}")
    if run["error"]:
        _say(f"{'run error':<18} {run['error']}")
    if run["given_up"]:
        _say(f"{'given up':<18} by {run['given_up']['by']}: {run['given_up']['reason']}")
    for step in run["steps"]:
        counts = ", ".join(f"{k} {v}" for k, v in step["changed"].items() if v is not None)
        tail = f"  {counts}" if counts else ""
        if step["error"]:
            tail = f"  ERROR {step['error']}"
        _say(f"  {step['status']:<8} {step['action']:<6} {step['system']}/{step['collection']}{tail}")


def _reopened_lines(reopened: retry.Reopened) -> list[str]:
    """What a retry keeps, does again, adds and drops — and the new plan when the data map changed it."""
    lines = [
        f"retry {reopened.retries} of request {reopened.request}: {len(reopened.kept)} steps kept, "
        f"{len(reopened.redone)} done again, {len(reopened.remaining)} still to do, {len(reopened.new)} new, "
        f"{len(reopened.dropped)} dropped"
    ]
    steps = {step.id: step for step in reopened.plan.steps}
    for label, ids in (
        ("kept", reopened.kept),
        ("again", reopened.redone),
        ("to do", reopened.remaining),
        ("new", reopened.new),
    ):
        lines += [f"  {label:<6} {i}  {steps[i].action.value:<6} {steps[i].system}/{steps[i].collection}" for i in ids]
    lines += [
        f"  {'dropped':<6} {d['id']}  {d['action']:<6} {d['collection']} (was {d['was']})" for d in reopened.dropped
    ]
    if reopened.plan_changed:
        lines += ["the data map changed since the run started; the new plan:", *plan_lines(reopened.plan)]
    return lines


@command
def retry_request(
    public_id: str,
    datamap: DatamapOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Retry a failed request after fixing its cause: done steps are kept, the rest is carried out now; exit 1 if it
    fails again, 2 if the request is not failed."""
    with services() as built:
        loaded = execution.load_datamap(built.settings, datamap)
        reopened = retry.reopen_request(built.database, built.vault, loaded, public_id, actor=ACTOR)
        if not as_json:
            for line in _reopened_lines(reopened):
                _say(line)
        outcome = Runner(built.database, built.settings, built.vault, loaded).run(public_id)
        notices.deliver(built.database, built.mailer, vault=built.vault, settings=built.settings, public_id=public_id)
    if as_json:
        emit_json({"retry": reopened.as_dict(), "run": outcome.as_dict()})
    else:
        _say(f"request {outcome.request}: {outcome.status} ({len(outcome.executed)} of {outcome.steps} steps run now)")
        if outcome.error:
            _say(f"error: {outcome.error}")
    if outcome.status == "failed":
        raise typer.Exit(1)


@command
def give_up(
    public_id: str,
    reason: Annotated[str, typer.Option(help="Why the request cannot be carried out; sent to the requester.")],
    as_json: JsonOpt = False,
) -> None:
    """Close a failed request as not carried out; the requester is e-mailed the reason."""
    with services() as built:
        with built.database.session() as session:
            row = review.get(session, public_id)
            retry.give_up(session, row, reason=reason, actor=ACTOR)
        notices.deliver(built.database, built.mailer, vault=built.vault, settings=built.settings, public_id=public_id)
        with built.database.session() as session:
            row = review.get(session, public_id)
            shown = {"request": row.public_id, "status": row.status, "execution": retry.report(session, row)}
    if as_json:
        emit_json(shown)
        return
    _say(f"gave up on request {public_id}; the requester is e-mailed the reason")
