"""``charter mail test``: send a test message through the configured backend (CHARTER_MAIL_*)."""

from __future__ import annotations

from typing import Annotated

import typer

from charter.cli.context import services
from charter.cli.output import command, console, emit_json
from charter.mail import compose
from charter.subjects.normalize import IdentityKind, normalize

app = typer.Typer(no_args_is_help=True)

TEXT = (
    "This is a test message from Charter.\n\n"
    "If you can read it, Charter can send e-mail (verification codes for the preference center).\n"
)


@app.command("test")
@command
def send_test(
    to: Annotated[str, typer.Option("--to", help="The address to send the test message to.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Send one test message; exit 0 when it was handed over, 1 when the server is unavailable, 2 for a bad address."""
    _kind, address = normalize(IdentityKind.EMAIL, to)
    with services() as built:
        mailer = built.mailer
        where = mailer.send(compose(built.settings.mail, to=address, subject="Charter test message", text=TEXT))
        backend = built.settings.mail.backend
    if as_json:
        emit_json({"sent": True, "backend": backend, "via": mailer.description, "where": where})
        return
    if backend == "outbox":
        console.print(f"wrote a test message to {where}", markup=False, highlight=False, soft_wrap=True)
    else:
        console.print(f"sent a test message through {mailer.description}", markup=False, highlight=False)
