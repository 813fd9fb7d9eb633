"""``charter requests`` and ``charter holds``: the privacy office's queue and legal holds from a shell.

Every command takes ``--json``; bad input exits 2 with one line on stderr,
a conflict (wrong state, legal hold) exits 1. Decisions are audited with
the actor ``cli`` and e-mailed to the requester after the commit (a mail
server that is down leaves the e-mail pending: ``charter requests notify``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from charter.cli.consent import split_identity
from charter.cli.context import services
from charter.cli.output import command, console, emit_json
from charter.cli.request_intake import submit_request
from charter.cli.request_packages import package as package_command
from charter.cli.request_packages import push_again
from charter.cli.request_retry import DatamapOpt, give_up, plan_lines, retry_request, run_lines
from charter.db.base import utcnow
from charter.delivery import retention
from charter.errors import InvalidInput
from charter.execution import jobs, retry
from charter.execution import service as execution
from charter.execution.certificate import certificate_of
from charter.execution.runner import Runner
from charter.execution.steps import Step
from charter.requests import expiry, notices, queue, review
from charter.requests import holds as hold_service
from charter.requests.kinds import DenialReason
from charter.services import Services
from charter.subjects import service as subjects

app = typer.Typer(no_args_is_help=True)
holds_app = typer.Typer(no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
ACTOR = "cli"


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _deliver(built: Services) -> notices.Delivery:
    return notices.deliver(built.database, built.mailer, vault=built.vault, settings=built.settings)


def _show(built: Services, public_id: str, as_json: bool, done: str | None = None) -> None:
    with built.database.session() as session:
        row = review.get(session, public_id)
        document = queue.document(session, row, vault=built.vault)
        document["execution"] = retry.report(session, row)
    if as_json:
        emit_json(document)
        return
    if done:
        _say(done)
    for key in ("id", "type", "status", "jurisdiction", "statement_version", "received_at", "due_at"):
        _say(f"{key:<18} {document[key]}")
    confirmed = document["verified_at"]
    verified = f"{document['verification']}, confirmed {str(confirmed)[:19]}" if confirmed else "not confirmed yet"
    if document["without_email"]:  # issue 11: made with a phone or another identifier, no code sent
        verified = f"{document['verification']}; {document['without_email']}"
    _say(f"{'verification':<18} {verified}")
    if document["facts"]:
        _say(f"{'facts':<18} {document['facts']}")
    for other in document["other_identities"]:  # type: ignore[attr-defined]
        state = "confirmed by the office" if other["confirmed"] else "not confirmed (approve --identities-checked)"
        _say(f"{'also known by':<18} {other['kind']} {other['masked']} — {state}")
    if document["extended"]:
        _say(f"{'extended because':<18} {document['extension_reason']}")
    if document["overdue"]:
        _say("OVERDUE")
    for hold in document["holds"]:  # type: ignore[attr-defined]
        _say(f"legal hold {hold['id']} on {hold['system'] or 'this person'}: {hold['reason']}")
    if document.get("execution"):
        run_lines(document["execution"])  # type: ignore[arg-type]
    for step in document["timeline"]:  # type: ignore[attr-defined]
        _say(f"  {step['at'][:19]}  {step['action']:<26} {step['actor']}")


@app.command("list")
@command
def list_requests(
    status: Annotated[str, typer.Option(help="A state, 'open' (default) or 'all'.")] = queue.OPEN,
    type_: Annotated[str | None, typer.Option("--type", help="Only this request type.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only requests past their due date.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Requests by due date, soonest first."""
    with services() as built, built.database.session() as session:
        found = queue.listed(
            session, status=None if status == "all" else status, kind=type_, only_overdue=overdue, limit=limit
        )
    if as_json:
        emit_json({"requests": [item.as_dict() for item in found]})
        return
    if not found:
        _say("no requests")
    for item in found:
        flag = " OVERDUE" if item.overdue else ""
        _say(f"{item.public_id}  {item.due_at:%Y-%m-%d}  {item.status:<24} {item.kind:<20} {item.jurisdiction}{flag}")


@app.command("show")
@command
def show(public_id: str, as_json: JsonOpt = False) -> None:
    """One request: its state, deadline, holds and timeline."""
    with services() as built:
        _show(built, public_id, as_json)


@app.command("approve")
@command
def approve(
    public_id: str,
    identity_checked: Annotated[
        bool, typer.Option("--identity-checked", help="You checked the facts held (email_and_facts requests).")
    ] = False,
    identities_checked: Annotated[
        bool,
        typer.Option(
            "--identities-checked",
            help="You confirmed the other identifiers the requester gave (phone, loyalty number) are theirs: they "
            "are then searched as given.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Approve a request under review (refused for a deletion under a legal hold)."""
    with services() as built:
        with built.database.session() as session:
            row = review.get(session, public_id)
            review.approve(
                session,
                row,
                actor=ACTOR,
                vault=built.vault,
                identity_checked=identity_checked,
                identities_checked=identities_checked,
            )
            kind = row.kind
        _deliver(built)
        if jobs.autoruns(built, kind):  # CHARTER_EXECUTION_AUTORUN: carry it out before returning
            jobs.run_request(built, public_id)
        _show(built, public_id, as_json, done=f"approved {public_id}")


@app.command("deny")
@command
def deny(
    public_id: str,
    reason: Annotated[str, typer.Option(help=f"One of: {', '.join(r.value for r in DenialReason)}.")],
    note: Annotated[str | None, typer.Option(help="Sent to the requester with the ground.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Refuse a request with a ground the statement allows; the requester is told why."""
    with services() as built:
        with built.database.session() as session:
            review.deny(session, review.get(session, public_id), reason=reason, note=note, actor=ACTOR)
        _deliver(built)
        _show(built, public_id, as_json, done=f"denied {public_id}")


@app.command("extend")
@command
def extend(
    public_id: str,
    reason: Annotated[str, typer.Option(help="Why more time is needed; sent to the requester.")],
    as_json: JsonOpt = False,
) -> None:
    """Extend the deadline once, by the period the law allows."""
    with services() as built:
        with built.database.session() as session:
            review.extend(
                session, review.get(session, public_id), reason=reason, actor=ACTOR, settings=built.settings.requests
            )
        _deliver(built)
        _show(built, public_id, as_json, done=f"extended {public_id}")


@app.command("notify")
@command
def notify(as_json: JsonOpt = False) -> None:
    """Send the e-mails to requesters that are still pending."""
    with services() as built:
        delivery = _deliver(built)
    if as_json:
        emit_json({"sent": delivery.sent, "pending": delivery.pending})
        return
    _say(f"sent {delivery.sent}; {delivery.pending} still pending")


# -- expiry of unconfirmed requests (issue 4; charter.requests.expiry) --
@app.command("expire")
@command
def expire(as_json: JsonOpt = False) -> None:
    """Expire requests never confirmed within CHARTER_REQUESTS_UNVERIFIED_DAYS (their identity is dropped), and
    delete the copies of data kept past CHARTER_REQUESTS_PACKAGE_DAYS."""
    with services() as built:
        days = built.settings.requests.unverified_days
        package_days = built.settings.requests.package_days
        with built.database.session() as session:
            expired = expiry.expire_unverified(session, settings=built.settings, now=utcnow())
        with built.database.session() as session:
            dropped = retention.drop_expired(session, settings=built.settings, now=utcnow())
    if as_json:
        emit_json(
            {"expired": expired, "unverified_days": days, "packages_dropped": dropped, "package_days": package_days}
        )
        return
    _say(f"expired {expired} request(s) not confirmed within {days} days; their identity and details were dropped")
    _say(f"deleted {dropped} copies of data kept longer than {package_days} days; their SHA-256 stays on record")


# -- end expiry --


@app.command("plan")
@command
def plan(
    public_id: str,
    datamap: DatamapOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The steps that would carry out a request in the data stores (nothing is run; identities are masked)."""
    with services() as built:
        loaded = execution.load_datamap(built.settings, datamap)
        with built.database.session() as session:
            planned = execution.plan_request(session, public_id, loaded, vault=built.vault)
    if as_json:
        emit_json(planned.as_dict())
        return
    for line in plan_lines(planned):
        _say(line)


@app.command("run")
@command
def run(
    public_id: str,
    datamap: DatamapOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Carry out an approved request in the data stores (resumes a run that stopped); exit 1 if it failed."""
    from rich.progress import Progress

    with services() as built:
        loaded = execution.load_datamap(built.settings, datamap)
        with Progress(console=console, disable=as_json, transient=True) as bar:
            task = bar.add_task(f"request {public_id}", total=None)

            def shown(step: Step, what: str) -> None:
                bar.update(task, description=f"{what:<6} {step.action.value} {step.system}/{step.collection}")
                if what == "done":
                    bar.advance(task)

            outcome = Runner(built.database, built.settings, built.vault, loaded, progress=shown).run(public_id)
        _deliver(built)
    if as_json:
        emit_json(outcome.as_dict())
    else:
        _say(f"request {outcome.request}: {outcome.status} ({len(outcome.executed)} of {outcome.steps} steps run now)")
        if outcome.error:
            _say(f"error: {outcome.error}")
        if outcome.status == "failed":
            _say(
                f"fix the cause, then `charter requests retry {outcome.request}`; or give up with a reason sent to "
                f"the requester: `charter requests give-up {outcome.request} --reason TEXT`"
            )
    if outcome.status == "failed":
        raise typer.Exit(1)


#: how the certificate's outcome reads on the command line (charter.execution.certificate)
OUTCOMES = {
    "erased": "erased and verified",
    "no_record_found": "no record of this person was found in any collection searched; nothing was erased",
    "kept": "nothing erased: the person's records are only where the data map keeps them",
}


@app.command("certificate")
@command
def certificate(public_id: str, as_json: JsonOpt = False) -> None:
    """The certificate of a completed deletion: what was erased where, how, when, and the audit entries."""
    with services() as built:
        document = certificate_of(built.database, public_id)
    if as_json:
        emit_json(document)
        return
    outcome = OUTCOMES.get(str(document.get("outcome")), "verified")
    _say(f"deletion {document['request']}: {outcome}, finished {document['finished_at'][:19]}")
    for entry in document["collections"]:
        how = entry.get("strategy") or ", ".join(f"{k}={v}" for k, v in entry["fields"].items())
        checked = entry.get("rows_checked")
        proof = f"; verified: {checked} rows read again by key" if checked is not None else ""
        if entry.get("identity_values_searched"):
            proof += f", {entry['identity_values_searched']} identity values searched"
        _say(
            f"  {entry['system']}/{entry['collection']}: {how}; "
            f"{entry['rows_matched']} rows matched, {entry['rows_affected']} changed, at {entry['erased_at'][:19]}"
            f"{proof}"
        )
    for kept in document["kept"]:
        _say(f"  kept {kept['collection']}: {kept['reason']}")
    _say(f"audit entries: {', '.join(str(a['seq']) for a in document['audit'])}")


app.command("package")(package_command)  # the copy of an access/portability request (charter.delivery)
app.command("push")(push_again)  # a failed delivery to a third party, sent once more
app.command("retry")(retry_request)  # a failed request, after the office fixed its cause (issue 11)
app.command("give-up")(give_up)  # a failed request closed as not carried out, with a reason for the requester
app.command("submit")(submit_request)  # taken by the office (a call, a letter), with or without e-mail (issue 11)


@holds_app.command("add")
@command
def add_hold(
    reason: Annotated[str, typer.Option(help="The matter: case number, investigation.")],
    identity: Annotated[str | None, typer.Option("--identity", "-i", help="KIND:VALUE of the person.")] = None,
    person: Annotated[str | None, typer.Option("--person", help="The person's public id.")] = None,
    system: Annotated[str | None, typer.Option("--system", help="A system id (all its records).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Place a legal hold on one person or one system (P-RET-3)."""
    if sum(x is not None for x in (identity, person, system)) != 1:
        raise InvalidInput("give one of --identity KIND:VALUE, --person ID or --system ID")
    with services() as built, built.database.session() as session:
        found = None
        if identity is not None:
            kind, value = split_identity(identity)
            found = subjects.resolve(session, kind, value, vault=built.vault, create=True)
        elif person is not None:
            found = subjects.by_public_id(session, person)
            if found is None:
                raise InvalidInput("no person has this public id")
        hold = hold_service.place(session, reason=reason, actor=ACTOR, person=found, system=system)
        shown = queue.hold_dict(session, hold)
    if as_json:
        emit_json(shown)
        return
    where = f"system {shown['system']}" if shown["system"] else f"person {shown['person']}"
    _say(f"placed legal hold {shown['id']} on {where}")


@holds_app.command("release")
@command
def release_hold(
    hold_id: str,
    reason: Annotated[str, typer.Option(help="Why the matter is closed.")],
    as_json: JsonOpt = False,
) -> None:
    """Release a legal hold; its records follow the retention schedule again."""
    with services() as built, built.database.session() as session:
        shown = queue.hold_dict(session, hold_service.release(session, hold_id, reason=reason, actor=ACTOR))
    if as_json:
        emit_json(shown)
        return
    _say(f"released legal hold {shown['id']}")


@holds_app.command("list")
@command
def list_holds(
    all_: Annotated[bool, typer.Option("--all", help="Released holds too.")] = False, as_json: JsonOpt = False
) -> None:
    """Legal holds, newest first (active only unless --all)."""
    with services() as built, built.database.session() as session:
        shown = [queue.hold_dict(session, h) for h in hold_service.listed(session, active_only=not all_)]
    if as_json:
        emit_json({"holds": shown})
        return
    if not shown:
        _say("no legal holds")
    for hold in shown:
        where = f"system {hold['system']}" if hold["system"] else f"person {hold['person']}"
        state = "" if hold["released_at"] is None else f" (released {str(hold['released_at'])[:10]})"
        _say(f"{hold['id']}  {str(hold['created_at'])[:10]}  {where}: {hold['reason']}{state}")
