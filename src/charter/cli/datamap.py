"""``charter datamap``: check the data map against itself and, with --live, against the stores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from charter.cli.output import command, console, emit_json, errors
from charter.datamap import service
from charter.datamap.errors import DatamapInvalid
from charter.datamap.findings import error
from charter.errors import InvalidInput
from charter.settings import Settings

app = typer.Typer(no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@app.command("check")
@command
def check(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="A data-map folder or file (default: CHARTER_DATAMAP_PATH, 'datamap').", show_default=False
        ),
    ] = None,
    live: Annotated[bool, typer.Option("--live", help="Also connect to each system and compare.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings count as drift (exit 1).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check a data map: exit 0 clean, 1 drift found (--live), 2 invalid files (FILE:LINE:COL: path: message)."""
    settings = Settings.load()
    target = path or settings.datamap.path
    try:
        report = service.check_path(target, settings, live=live)
    except DatamapInvalid as exc:
        if not as_json:
            raise
        emit_json({"ok": False, "findings": [error(p).as_dict() for p in exc.problems], "detail": exc.detail})
        raise typer.Exit(exc.exit_code) from None
    code = report.exit_code(strict=strict)
    if as_json:
        emit_json(report.as_dict(strict=strict))
        raise typer.Exit(code)
    for finding in report.findings:
        out = errors if finding.severity == "error" else console
        out.print(finding.render(), markup=False, highlight=False, soft_wrap=True)
    summary = report.summary()
    counts = f"{summary['errors']} errors, {summary['drift']} drift, {summary['warnings']} warnings"
    if summary["notes"]:
        counts += f", {summary['notes']} notes"
    scope = (
        f"{len(report.datamap.systems)} systems, {len(report.datamap.datasets)} datasets, "
        f"{summary['collections']} collections"
    )
    if live:
        scope += f"; live: {', '.join(report.checked_systems) or 'no system'} reached"
    verdict = {0: "ok", 1: "drift found", 2: "invalid"}[code]
    console.print(f"{target}: {verdict} — {scope}; {counts}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command("erasure")
@command
def erasure(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="A data-map folder or file (default: CHARTER_DATAMAP_PATH, 'datamap').", show_default=False
        ),
    ] = None,
    personal_only: Annotated[
        bool, typer.Option("--personal", help="Only fields with a personal (user.*) category.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """What a deletion does to each field, and why: the field's own strategy, the collection's, the erasure
    policy's rule, or why it is left as it is. Exit 2 if the map is invalid."""
    settings = Settings.load()
    datamap = service.load(path or settings.datamap.path, settings)
    fates = [f for f in service.erasure_table(datamap) if f.personal or not personal_only]
    if as_json:
        emit_json({"fields": [f.as_dict() for f in fates]})
        return
    for fate in fates:
        what = fate.strategy or "left"
        line = f"{fate.collection}.{fate.field}: {what} — {fate.why}"
        console.print(line, markup=False, highlight=False, soft_wrap=True)


@app.command("import-fides")
@command
def import_fides(
    sources: Annotated[
        list[Path],
        typer.Argument(
            help="Fides exports: DSR policies and connection configs (JSON from Fides' API, or YAML), and the "
            "Fides dataset files to carry over.",
            show_default=False,
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="The folder to write the data map into.")],
    policy: Annotated[
        str | None, typer.Option("--policy", help="The key of the erasure policy, if the export holds several.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Write into a folder that already holds files.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Turn a Fides erasure policy and connection configs into Charter's data-map files, in one step.

    Writes erasure_policy.yaml, systems.yaml and datasets/ under --out, checks them, and prints the environment
    variables to set (a password is never written). Exit 2 if the export cannot be carried over as it is."""
    settings = Settings.load()
    if out.exists() and any(out.iterdir()) and not force:
        raise InvalidInput(f"{out} already holds files; choose an empty folder or add --force")
    moved = service.import_fides(((str(p), _read(p)) for p in sources), settings, policy=policy)
    for name, text in moved.files.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    if as_json:
        emit_json({"out": str(out), **moved.as_dict()})
        raise typer.Exit(moved.report.exit_code())
    for name in sorted(moved.files):
        console.print(f"wrote {out / name}", markup=False, highlight=False)
    for note in moved.notes:
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    for finding in moved.report.findings:
        target_console = errors if finding.severity == "error" else console
        target_console.print(finding.render(), markup=False, highlight=False, soft_wrap=True)
    if moved.environment:
        console.print("set, with the real password, before charter datamap check --live:", markup=False)
        for variable, url in sorted(moved.environment.items()):
            console.print(f"  export {variable}='{url}'", markup=False, highlight=False)
    raise typer.Exit(moved.report.exit_code())


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    return path.read_bytes()
