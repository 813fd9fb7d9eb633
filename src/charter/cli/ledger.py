"""``charter ledger``: rebuild every state, import consents, show a person's state."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from charter.cli.consent import split_identity
from charter.cli.context import services
from charter.cli.output import command, console, emit_json, errors
from charter.errors import InvalidInput, NotFound
from charter.ledger import importer
from charter.ledger import service as ledger
from charter.ledger.codec import encode
from charter.subjects import service as subjects

app = typer.Typer(no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@app.command("rebuild")
@command
def rebuild(
    as_json: JsonOpt = False,
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="People recomputed per query.")] = 1000,
) -> None:
    """Recompute every person's state from the ledger; reports how many stored states differed (should be 0)."""
    with services() as built, built.database.session() as session:
        if as_json:
            report = ledger.rebuild(session, batch=batch, commit_batches=True)
        else:
            columns = (TextColumn("rebuilding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task("people", total=None)
                report = ledger.rebuild(
                    session,
                    batch=batch,
                    commit_batches=True,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
    if as_json:
        emit_json(report.as_dict())
        return
    console.print(
        f"rebuilt {report.people:,} people from {report.events:,} events; "
        f"{report.changed:,} stored states differed and were corrected"
    )


@app.command("import")
@command
def import_(
    file: Annotated[Path, typer.Argument(help="A .csv or .jsonl file of events.", show_default=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row; record nothing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Record the valid rows, report the others (FILE:LINE:1: field: reason); exit 2 if no row is valid."""
    with services() as built:
        vault = built.vault
        with built.database.session() as session:
            report = importer.import_file(session, file, vault=vault, actor="cli:import", dry_run=dry_run)
    if as_json:
        emit_json(report.as_dict())
        if report.valid == 0:
            raise typer.Exit(2)
        return
    if report.valid == 0:  # one line per rejected row, then exit 2
        raise InvalidInput(f"{file}: no valid row; nothing was recorded", problems=report.problems())
    for problem in report.problems():
        errors.print(problem.render(), markup=False, highlight=False, soft_wrap=True)
    verb = "would record" if dry_run else "recorded"
    count = report.valid if dry_run else report.recorded
    console.print(f"{file}: {verb} {count:,} of {report.rows:,} rows; {len(report.rejects):,} rejected")


@app.command("state")
@command
def state(
    identity: Annotated[str, typer.Option("--identity", "-i", help="KIND:VALUE, e.g. email:ana@example.org.")],
    as_json: JsonOpt = False,
) -> None:
    """The current state of the person known by --identity (exit 1 if nobody is)."""
    kind, value = split_identity(identity)
    with services() as built:
        vault = built.vault
        with built.database.session() as session:
            person = subjects.resolve(session, kind, value, vault=vault, create=False)
            if person is None:
                raise NotFound(f"no person is known by this {kind} identity")
            document = encode(ledger.state_of(session, person))
            public_id = person.public_id
    if as_json:
        emit_json({"person": public_id, "state": document})
        return
    console.print(f"person {public_id}")
    for purpose, consent in document["consents"].items():
        console.print(f"  consent {purpose}: {'given' if consent['given'] else 'withdrawn'} at {consent['at']}")
    for name in ("opted_out", "restricted", "objected", "transfer_consents", "subscribed_services"):
        if document[name]:
            console.print(f"  {name.replace('_', ' ')}: {', '.join(document[name])}")
    flags = [n for n in ("sale_sharing_opt_out", "disclosure_refused", "gpc", "dnt", "unsubscribed") if document[n]]
    if flags:
        console.print(f"  signals: {', '.join(flags)}")
