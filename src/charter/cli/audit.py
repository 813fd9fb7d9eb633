"""``charter audit``: verify, export and list the hash-chained audit log."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from charter.audit import Anchor, Verification, check_chain, entries, export, read_export, verify
from charter.audit.chain import canonical_json
from charter.audit.service import MAX_PAGE
from charter.cli.context import services
from charter.cli.output import command, console, emit_json, errors
from charter.decisions.service import MAX_LOG_PAGE, LogFilter, log_document, logged
from charter.errors import InvalidInput

app = typer.Typer(no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


@app.command("verify")
@command
def verify_command(
    as_json: JsonFlag = False,
    anchor: Annotated[
        str | None,
        typer.Option(
            "--anchor",
            metavar="SEQ:HASH",
            help="A head recorded earlier (seq and full hash); also detects a truncated log.",
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            help="Check a full export (from `charter audit export`) instead of the database.",
        ),
    ] = None,
) -> None:
    """Recompute every hash and link; exit 1 naming the first bad entry."""
    expected = Anchor.parse(anchor) if anchor is not None else None
    if file is not None:
        result = _verify_file(file, expected)
    else:
        with services() as built, built.database.session() as session:
            result = verify(session, anchor=expected)
    if as_json:
        emit_json(result.as_dict())
    elif result.ok:
        head = result.head_hash[:12] if result.head_hash else "none"
        console.print(f"audit log intact: {_count(result.entries)}, head {head}", highlight=False)
    else:
        errors.print(f"audit log broken: {result.reason}", markup=False, highlight=False, soft_wrap=True)
    if not result.ok:
        raise typer.Exit(1)


def _verify_file(path: Path, anchor: Anchor | None) -> Verification:
    try:
        with path.open(encoding="utf-8") as lines:
            return check_chain(read_export(lines, source=str(path)), anchor=anchor)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InvalidInput(f"cannot read {path}: {reason}") from exc


@app.command("export")
@command
def export_command(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of stdout (replaced atomically)."),
    ] = None,
    since: Annotated[
        int | None,
        typer.Option("--since", metavar="SEQ", min=0, help="Only entries after SEQ, for incremental exports."),
    ] = None,
) -> None:
    """Write entries as JSON lines, oldest first; the count goes to stderr."""
    with services() as built, built.database.session() as session:
        if output is None:
            count = export(session, sys.stdout, since_seq=since)
        else:
            with _replacing(output) as handle:
                count = export(session, handle, since_seq=since)
    errors.print(f"exported {_count(count)}", highlight=False)


@contextmanager
def _replacing(path: Path) -> Iterator[TextIO]:
    """A file that appears at ``path`` only when complete: no half-written exports."""
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InvalidInput(f"cannot write to {path.parent}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _count(entries: int) -> str:
    return f"{entries} entry" if entries == 1 else f"{entries} entries"


@app.command("list")
@command
def list_command(
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_PAGE, help="How many entries, newest first.")] = 20,
    action: Annotated[str | None, typer.Option("--action", help="Only this action, e.g. user.created.")] = None,
    before: Annotated[
        int | None,
        typer.Option("--before", metavar="SEQ", help="Only entries older than SEQ (the next page)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the newest entries."""
    with services() as built, built.database.session() as session:
        page = [e.as_dict() for e in entries(session, limit=limit, before_seq=before, action=action)]
    if as_json:
        emit_json(page)
        return
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("seq", justify="right", no_wrap=True)
    table.add_column("at (UTC)", no_wrap=True)
    for name in ("actor", "action", "target", "data"):
        table.add_column(name, overflow="fold")  # fold, not "…": the whole value stays readable
    for item in page:
        # Text, not markup: actors and targets are data and must print literally.
        table.add_row(
            *(
                Text(value)
                for value in (
                    str(item["seq"]),
                    str(item["at"])[:19].replace("T", " "),
                    str(item["actor"]),
                    str(item["action"]),
                    str(item["target"]),
                    canonical_json(item["data"]),
                )
            )
        )
    console.print(table)


def _iso(option: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option} {value!r} is not an ISO date-time, e.g. 2026-11-01T00:00:00+00:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("decisions")
@command
def decisions_command(
    since: Annotated[str | None, typer.Option(help="From this time (ISO), inclusive.")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this time (ISO), exclusive.")] = None,
    person: Annotated[str | None, typer.Option(help="Only this person's public id.")] = None,
    purpose: Annotated[str | None, typer.Option(help="Only this purpose id.")] = None,
    outcome: Annotated[str | None, typer.Option(help="allow or deny.")] = None,
    after: Annotated[int, typer.Option(min=0, help="Cursor: the last id of the previous page.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LOG_PAGE, help="How many, oldest first.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Show logged decisions (the share set by CHARTER_DECISIONS_LOG_SAMPLE_RATE), oldest first."""
    wanted = LogFilter(_iso("--since", since), _iso("--until", until), person, purpose, outcome, after, limit)
    with services() as built, built.database.session() as session:
        found = logged(session, wanted)
    if as_json:
        emit_json([log_document(entry) for entry in found])
        return
    table = Table(box=box.SIMPLE_HEAD)
    # The narrow view; --json carries the system, the person's full public id and the reasons.
    for name in ("id", "decided (UTC)", "purpose", "outcome", "statement", "promises"):
        table.add_column(name, overflow="fold", no_wrap=name not in ("purpose", "promises"))
    for entry in found:
        promises = sorted({str(p) for reason in entry.reasons for p in _listed(reason.get("promises"))})
        values = (
            str(entry.id),
            entry.decided_at.isoformat()[:19].replace("T", " "),
            entry.purpose,
            entry.outcome,
            entry.statement_version,
            ", ".join(promises),
        )
        table.add_row(*(Text(value) for value in values))
    console.print(table)


def _listed(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []
