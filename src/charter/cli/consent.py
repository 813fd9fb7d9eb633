"""``charter consent``: record what a person said (consent, withdrawal, opt-out, signal …) in the ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from charter.cli.context import services
from charter.cli.output import command, console, emit_json
from charter.errors import InvalidInput
from charter.ledger import service as ledger
from charter.ledger.events import EventKind, Source
from charter.ledger.importer import RowError, check_row
from charter.subjects import service as subjects

app = typer.Typer(no_args_is_help=True)

KINDS = ", ".join(k.value for k in EventKind)
SOURCES = ", ".join(s.value for s in Source)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def split_identity(text: str) -> tuple[str, str]:
    """``KIND:VALUE`` → (kind, value); the value is never shown in an error."""
    kind, sep, value = text.partition(":")
    if not sep or not kind:
        raise InvalidInput("--identity is written KIND:VALUE, e.g. email:name@example.org")
    return kind, value


def _json_object(option: str, text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise InvalidInput(f"{option} must be a JSON object") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{option} must be a JSON object")
    return value


@app.command("record")
@command
def record(
    identity: Annotated[str, typer.Option("--identity", "-i", help="KIND:VALUE, e.g. email:ana@example.org.")],
    kind: Annotated[str, typer.Option("--kind", "-k", help=f"Event kind: {KINDS}.")],
    purpose: Annotated[str | None, typer.Option(help="Purpose id of the statement (consent, opt-out …).")] = None,
    on: Annotated[bool | None, typer.Option("--on/--off", help="For signal.gpc and signal.dnt.")] = None,
    written: Annotated[bool, typer.Option("--written", help="A written withdrawal (P-USE-5).")] = False,
    origin: Annotated[str | None, typer.Option(help="Country of origin for transfer consent, e.g. CN.")] = None,
    service: Annotated[str | None, typer.Option(help="Service category for service.(un)subscribed.")] = None,
    data: Annotated[str | None, typer.Option(help="Other event data as a JSON object.")] = None,
    evidence: Annotated[str | None, typer.Option(help="Evidence as a JSON object of strings.")] = None,
    source: Annotated[str, typer.Option(help=f"Channel: {SOURCES}.")] = Source.API.value,
    at: Annotated[str | None, typer.Option(help="When it was said (ISO 8601 with zone); now by default.")] = None,
    statement_version: Annotated[str | None, typer.Option(help="Statement shown; the one in force by default.")] = None,
    jurisdiction: Annotated[str | None, typer.Option(help="e.g. US-CA, EU, CN.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record one event for the person known by --identity (created if new); prints their public id."""
    identity_kind, value = split_identity(identity)
    fields: dict[str, Any] = {
        "identity_kind": identity_kind,
        "identity": value,
        "kind": kind,
        "at": at or datetime.now(UTC).isoformat(),
        "source": source,
        "statement_version": statement_version,
        "jurisdiction": jurisdiction,
        "data": _json_object("--data", data),
        "evidence": _json_object("--evidence", evidence),
    }
    extra = {"purpose": purpose, "on": on, "origin": origin, "service": service, "written": written or None}
    fields.update({k: v for k, v in extra.items() if v is not None})
    with services() as built:
        vault = built.vault
        with built.database.session() as session:
            try:
                row = check_row({k: v for k, v in fields.items() if v is not None}, vault=vault, from_csv=False, line=1)
            except RowError as exc:
                raise InvalidInput(f"{exc.field}: {exc.reason}") from None
            event = ledger.check_purposes(session, row.event)
            person = subjects.resolve(session, row.kind, row.identity, vault=vault, create=True)
            assert person is not None
            stored = ledger.record(session, person, event, actor="cli")
            result = {
                "person": person.public_id,
                "event": stored.id,
                "kind": event.kind.value,
                "at": event.at.isoformat(),
                "statement_version": event.statement_version,
            }
    if as_json:
        emit_json(result)
        return
    version = f" under statement {result['statement_version']}" if result["statement_version"] else ""
    console.print(f"recorded {result['kind']} for person {result['person']}{version}")
