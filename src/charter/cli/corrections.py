"""``charter requests correction ID``: a correction's sealed before/after, opened for staff (P-RGT-2).

Registered in the ``requests`` group (``cli/main.py``). The opening is
audited; a request that is not a correction exits 2, an unknown one 1.
"""

from __future__ import annotations

from typing import Annotated

import typer

from charter.cli.context import services
from charter.cli.output import command, console, emit_json
from charter.execution import corrections
from charter.requests import review

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
ACTOR = "cli"


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


@command
def correction(public_id: str, as_json: JsonOpt = False) -> None:
    """What a completed correction changed: each field's value before and after, per row (audited)."""
    with services() as built, built.database.session() as session:
        document = corrections.read(session, built.vault.keys, review.get(session, public_id), actor=ACTOR)
    if as_json:
        emit_json(document)
        return
    _say(f"correction {document['request']}")
    for record in document["records"]:
        _say(f"  {record['system']}/{record['collection']} (record {record['record']}, sha256 {record['sha256']})")
        for row in record["rows"]:
            for name in record["fields"]:
                before, after = row["before"].get(name), row["after"].get(name)
                _say(f"    {record['key']}={row['key']} {name}: {before!r} -> {after!r}")
