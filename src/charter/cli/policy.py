"""``charter policy``: check, render, diff, publish and list statements."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from charter.cli.context import services
from charter.cli.output import command, console, emit_json
from charter.policy import service
from charter.policy.diff import diff as diff_statements
from charter.policy.render import render as render_statement
from charter.policy.schema import Statement
from charter.settings import PolicySettings

app = typer.Typer(no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(help="A statement YAML file.", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _read(path: Path) -> Statement:
    loaded, _raw = service.read_file(path, limits=PolicySettings())
    return loaded.statement


def _resolve(ref: str) -> Statement:
    """A file path, or the version id of a published statement."""
    path = Path(ref)
    if path.exists() or ref.endswith((".yaml", ".yml")):
        return _read(path)
    with services() as built, built.database.session() as session:
        return service.statement_of(service.get(session, ref))


@app.command("check")
@command
def check(file: FileArg, as_json: JsonOpt = False) -> None:
    """Validate a statement: exit 0, or exit 2 with one line per problem (FILE:LINE:COL: path: message)."""
    statement = _read(file)
    summary = {
        "file": str(file),
        "version": statement.version,
        "effective": statement.effective.isoformat(),
        "purposes": len(statement.purposes),
        "rules": len(statement.all_rules()),
        "recipients": len(statement.recipients),
        "jurisdictions": len(statement.rights.jurisdictions),
    }
    if as_json:
        emit_json({"ok": True, **summary})
        return
    console.print(
        f"{file}: ok — version {statement.version}, effective {statement.effective}, "
        f"{summary['purposes']} purposes, {summary['rules']} rules, {summary['recipients']} recipients"
    )


@app.command("render")
@command
def render(
    file: FileArg,
    fmt: Annotated[str, typer.Option("--format", "-f", help="html or md.")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
) -> None:
    """Render the statement for people, effective date at the top."""
    if fmt not in ("html", "md"):
        from charter.errors import InvalidInput

        raise InvalidInput(f"--format {fmt!r} is not known; use html or md")
    text = render_statement(_read(file), "html" if fmt == "html" else "md", standalone=True)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        console.print(f"wrote {output}")


@app.command("diff")
@command
def diff(
    old: Annotated[str, typer.Argument(help="Older statement: a file or a published version.")],
    new: Annotated[str, typer.Argument(help="Newer statement: a file or a published version.")],
    as_json: JsonOpt = False,
    substantive_only: Annotated[bool, typer.Option("--substantive", help="Only substantive changes.")] = False,
) -> None:
    """Every change between two statements, and whether it is substantive (P-STM-2)."""
    changes = diff_statements(_resolve(old), _resolve(new))
    if substantive_only:
        changes = [c for c in changes if c.substantive]
    if as_json:
        emit_json([c.as_dict() for c in changes])
        return
    if not changes:
        console.print("no changes")
        return
    table = Table(show_lines=False)
    for name in ("", "path", "kind", "reason"):
        table.add_column(name, overflow="fold")
    for c in changes:
        table.add_row("[bold red]![/]" if c.substantive else "", c.path, c.kind, c.reason)
    console.print(table)
    count = sum(c.substantive for c in changes)
    console.print(f"{len(changes)} changes, {count} substantive (marked !)")


@app.command("publish")
@command
def publish(file: FileArg, as_json: JsonOpt = False) -> None:
    """Store an immutable version; refuses invalid files, duplicates and earlier effective dates."""
    with services() as built:
        loaded, raw = service.read_file(file, limits=built.settings.policy)
        with built.database.session() as session:
            row = service.publish(session, loaded, raw, actor="cli")
            result = {"version": row.version, "effective": row.effective.isoformat(), "sha256": row.sha256}
    if as_json:
        emit_json(result)
    else:
        console.print(f"published version {result['version']}, effective {result['effective']}")


@app.command("versions")
@command
def versions(as_json: JsonOpt = False) -> None:
    """Every published version, oldest first, with the one in force today marked."""
    with services() as built, built.database.session() as session:
        rows = service.versions(session)
        current = service.in_force(session, date.today())
        listed: list[dict[str, Any]] = [
            {
                "version": r.version,
                "effective": r.effective.isoformat(),
                "in_force": current is not None and r.id == current.id,
                "published_at": r.published_at.isoformat(),
                "published_by": r.published_by,
                "sha256": r.sha256,
            }
            for r in rows
        ]
    if as_json:
        emit_json(listed)
        return
    table = Table()
    for name in ("version", "effective", "in force", "published", "by", "sha256"):
        table.add_column(name)
    for r in listed:
        table.add_row(
            r["version"],
            r["effective"],
            "yes" if r["in_force"] else "",
            r["published_at"][:19],
            r["published_by"],
            r["sha256"][:12],
        )
    console.print(table)
