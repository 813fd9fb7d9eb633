"""``charter requests package ID --out FILE``: the privacy office's copy of what was disclosed (P-RGT-1, P-RGT-5);
``charter requests push ID``: send a portability copy whose delivery failed once more.

Writes the zip of a completed access or portability request, checked against
the SHA-256 its run recorded, and audits it (actor ``cli``). The file is
written whole to a temporary name next to ``FILE`` (mode 0600: it holds the
person's data) and renamed: a damaged package, or a failure half-way, leaves
no file and no half file. Bad input (not such a request, not completed, no
package) exits 1 or 2 with one line on stderr.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from charter.cli.context import services
from charter.cli.output import command, console, emit_json
from charter.delivery import push
from charter.delivery import service as delivery
from charter.errors import InvalidInput

ACTOR = "cli"


def _write(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None


@command
def package(
    public_id: str,
    out: Annotated[Path, typer.Option("--out", help="Where to write the zip (replaced if it exists).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Write the package of a completed access or portability request (zip), checked against its SHA-256."""
    if out.is_dir():
        raise InvalidInput(f"--out {out} is a folder; name the file to write")
    with services() as built:
        got = delivery.staff_copy(
            built.database, public_id, vault=built.vault, settings=built.settings, actor=ACTOR, via="cli"
        )
    _write(out, got.data)
    summary = {
        "file": str(out),
        "request": public_id,
        "sha256": got.sha256,
        "bytes": len(got.data),
        "collections": got.collections,
        "rows": got.rows,
    }
    if as_json:
        emit_json(summary)
        return
    console.print(
        f"wrote {out}: {got.collections} collections, {got.rows} rows, sha256 {got.sha256}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@command
def push_again(
    public_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Send a portability copy whose delivery to the third party failed once more (exit 1 if it fails again)."""
    with services() as built:
        delivery_id = push.retry(built.database, public_id, actor=ACTOR, via="cli")
        outcome = push.send(built.database, delivery_id, vault=built.vault, settings=built.settings)
    if as_json:
        emit_json(outcome.as_dict())
    else:
        console.print(
            f"delivery {outcome.delivery}: {outcome.status} after {outcome.attempts} tries"
            + (f" ({outcome.error})" if outcome.error else ""),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    push.require_sent(outcome)
