"""``charter suppression``: is an identity on the suppression list, and what the list holds (P-RGT-3).

``check`` exits 0 when the identity is not listed and 1 when it is (or when
Charter cannot tell, e.g. the database is down: a script that skips on a
non-zero exit then errs on the side of not contacting); bad input exits 2.
``list`` prints keyed hashes and reasons, never an identity. Both are audited.
"""

from __future__ import annotations

from typing import Annotated

import typer

from charter.cli.consent import split_identity
from charter.cli.context import services
from charter.cli.output import command, console, emit_json
from charter.errors import InvalidInput
from charter.suppression import service as suppression

app = typer.Typer(no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
ACTOR = "cli"


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


@app.command("check")
@command
def check(
    email: Annotated[str | None, typer.Option("--email", help="An e-mail address.")] = None,
    identity: Annotated[
        str | None, typer.Option("--identity", "-i", help="KIND:VALUE, e.g. phone:+4915112345678.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Is this identity on the suppression list? Exit 0: no; exit 1: yes (do not contact)."""
    if (email is None) == (identity is None):
        raise InvalidInput("name the identity with --email or with --identity KIND:VALUE (one of them)")
    kind, value = ("email", email) if email is not None else split_identity(identity or "")
    with services() as built, built.database.session() as session:
        row = suppression.check(session, built.vault, kind, value, actor=ACTOR)
        document = {"listed": False, "kind": kind} if row is None else {"listed": True, **suppression.document(row)}
    if as_json:
        emit_json(document)
    elif row is None:
        _say(f"not listed: this {kind} identity is not on the suppression list")
    else:
        _say(
            f"listed: {document['reason']} by request {document['request']} on {str(document['suppressed_at'])[:10]}"
            " — do not contact"
        )
    if row is not None:
        raise typer.Exit(1)


@app.command("list")
@command
def list_(
    after: Annotated[int, typer.Option("--after", help="Show entries after this id (the cursor).")] = 0,
    limit: Annotated[int, typer.Option("--limit", help="At most this many entries (1-1000).")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """The suppression list in the order it grew: keyed hashes, reasons and requests, never an identity."""
    with services() as built, built.database.session() as session:
        rows = suppression.listed(session, after_id=after, limit=limit)
        entries = [suppression.document(row) for row in rows]
        suppression.audit_listed(session, len(entries), actor=ACTOR)
    if as_json:
        emit_json({"entries": entries})
        return
    for entry in entries:
        _say(
            f"{entry['id']}  {entry['kind']}  {entry['lookup_hash']}  {entry['reason']}  "
            f"request {entry['request']}  {str(entry['suppressed_at'])[:19]}"
        )
    if not entries:
        _say("the suppression list is empty" if after == 0 else "no more entries")
