"""``charter requests submit``: a request the privacy office takes down (a call, a letter), with or without e-mail.

With ``--identity email:…`` the code is mailed as from the privacy center. With
another kind the data map declares (``phone:+1 512 555 0102``,
``loyalty_id:L-1002``) the facts the caller answered (``--fact
postal_code=78702``) are compared with the stores, and the status secret is
printed **once** for the office to read to the caller (issue 11,
docs/design/identity-start.md). Bad input exits 2 with one line.
"""

from __future__ import annotations

from typing import Annotated

import typer

from charter.cli.context import services
from charter.cli.output import command, console, emit_json
from charter.errors import InvalidInput
from charter.execution.facts_lookup import lookup_for, start_kinds
from charter.requests import intake, status_secret
from charter.requests.kinds import RequestKind


@command
def submit_request(
    type_: Annotated[RequestKind, typer.Option("--type", help="What the person asks for.")],
    identity: Annotated[str, typer.Option("--identity", "-i", help="KIND:VALUE, e.g. phone:+15125550102.")],
    fact: Annotated[
        list[str] | None,
        typer.Option("--fact", help="KIND=VALUE a fact the caller answered (postal_code, phone_last4, date_of_birth)."),
    ] = None,
    jurisdiction: Annotated[str | None, typer.Option("--jurisdiction", help="Default: the configured one.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Record a request for a person; without an e-mail address, print its status secret once."""
    kind, sep, value = identity.partition(":")
    if not sep:
        raise InvalidInput("--identity is KIND:VALUE, e.g. phone:+15125550102 or email:name@example.org")
    given: dict[str, str] = {}
    for item in fact or []:
        name, eq, answer = item.partition("=")
        if not eq:
            raise InvalidInput("--fact is KIND=VALUE, e.g. postal_code=78702")
        given[name.strip()] = answer
    with services() as built:
        received = intake.submit(
            built.database,
            built.mailer,
            intake.Submission(type_, kind, value, jurisdiction=jurisdiction, facts=given),
            vault=built.vault,
            settings=built.settings,
            starts=start_kinds(built.settings),
            lookup=lookup_for(built.settings),
        )
        url = None if received.secret is None else status_secret.status_url(built.settings.base_url, received.secret)
    if as_json:
        emit_json(
            {
                "id": received.public_id,
                "due_at": received.due_at.isoformat(),
                "status_secret": received.secret,
                "status_url": url,
            }
        )
        return
    console.print(f"request {received.public_id}: due {received.due_at:%Y-%m-%d}", markup=False, highlight=False)
    if url is None:
        console.print("the code was e-mailed to the address given", markup=False, highlight=False)
    else:
        console.print(f"status link (shown once, give it to the person): {url}", markup=False, highlight=False)
