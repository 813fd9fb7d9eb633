"""``charter mail-links``: mint the unsubscribe link, headers and open pixel of one message (P-TRK-3)."""

from __future__ import annotations

from typing import Annotated

import typer

from charter.cli.consent import split_identity
from charter.cli.context import services
from charter.cli.output import command, console, emit_json
from charter.errors import InvalidInput
from charter.maillinks.service import MailLinks, recipient

app = typer.Typer(no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@app.command("mint")
@command
def mint(
    list_id: Annotated[str, typer.Option("--list", help="A marketing purpose id of the statement in force.")],
    identity: Annotated[
        str | None, typer.Option("--identity", "-i", help="KIND:VALUE, e.g. email:ana@example.org.")
    ] = None,
    person: Annotated[
        str | None, typer.Option("--person", help="The person's public id (instead of --identity).")
    ] = None,
    campaign: Annotated[str | None, typer.Option(help="Campaign or Message-ID, free text (200 characters).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Mint the links of one message to the person known by --identity (created if new) or --person."""
    if (identity is None) == (person is None):
        raise InvalidInput("give --identity KIND:VALUE or --person ID (one of them)")
    named = None if identity is None else split_identity(identity)
    with services() as built:
        vault = built.vault
        links = MailLinks.from_settings(built.settings)
        with built.database.session() as session:
            found = recipient(session, vault, identity=named, public_id=person)
            minted = links.mint(session, found, list_id, campaign, actor="cli")
    if as_json:
        emit_json(minted.as_dict())
        return
    for name, value in minted.headers().items():
        console.print(f"{name}: {value}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"unsubscribe link: {minted.unsubscribe_url}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"open pixel: {minted.open_pixel_url}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"person {minted.person}; works until {minted.expires_at:%Y-%m-%d}", markup=False, highlight=False)
