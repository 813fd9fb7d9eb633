"""``charter decide``: ask the decision engine one question from the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from charter.cli.context import services
from charter.cli.output import command, console, emit_json
from charter.decisions.model import DecisionRequest
from charter.decisions.service import PersonRef, Question, decide_many
from charter.errors import InvalidInput


def _person(identity: str | None, person: str | None) -> PersonRef | None:
    if identity and person:
        raise InvalidInput("--identity and --person name the same thing; give one")
    if person:
        return PersonRef(public_id=person)
    if identity:
        kind, sep, value = identity.partition(":")
        if not sep or not kind or not value:
            raise InvalidInput("--identity is KIND:VALUE, e.g. email:ana@example.org")
        return PersonRef(identity_kind=kind, identity_value=value)
    return None


def _moment(at: str | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise InvalidInput(f"--at {at!r} is not an ISO date-time, e.g. 2024-06-01T12:00:00+00:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@command
def decide(
    purpose: Annotated[str, typer.Option(help="Purpose id of the statement in force.")],
    category: Annotated[list[str], typer.Option("--category", "-c", help="Data category key (repeat).")],
    identity: Annotated[str | None, typer.Option(help="The person, as KIND:VALUE (email:ana@example.org).")] = None,
    person: Annotated[str | None, typer.Option(help="The person's Charter public id.")] = None,
    action: Annotated[str, typer.Option(help="use, collect, disclose or transfer.")] = "use",
    at: Annotated[str | None, typer.Option(help="When (ISO date-time); now by default.")] = None,
    recipient: Annotated[str | None, typer.Option(help="Recipient id, for a disclosure.")] = None,
    service: Annotated[str | None, typer.Option(help="Service id of the statement.")] = None,
    jurisdiction: Annotated[str | None, typer.Option(help="Where the person is, e.g. US-CA, DE.")] = None,
    channel: Annotated[str | None, typer.Option(help="email, sms, phone, post, web or in_app.")] = None,
    origin: Annotated[str | None, typer.Option(help="Country the data leaves, for a transfer.")] = None,
    destination: Annotated[str | None, typer.Option(help="Country the data goes to, for a transfer.")] = None,
    subscribed: Annotated[
        bool | None, typer.Option("--within-subscribed/--outside-subscribed", help="CPNI: services already bought?")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Decide one use of personal data. Exit 0 when allowed, 1 when denied, 2 on bad input."""
    if action not in ("use", "collect", "disclose", "transfer"):
        raise InvalidInput(f"--action {action!r}: use one of use, collect, disclose, transfer")
    if channel is not None and channel not in ("email", "sms", "phone", "post", "web", "in_app"):
        raise InvalidInput(f"--channel {channel!r}: use one of email, sms, phone, post, web, in_app")
    request = DecisionRequest(
        purpose=purpose,
        categories=tuple(category),
        at=_moment(at),
        action=action,  # type: ignore[arg-type]
        recipient=recipient,
        service=service,
        jurisdiction=jurisdiction,
        channel=channel,  # type: ignore[arg-type]
        origin=origin,
        destination=destination,
        within_subscribed_services=subscribed,
        system="cli",
    )
    with services() as built, built.database.session() as session:
        [decision] = decide_many(
            session,
            [Question(request, _person(identity, person))],
            vault=built.vault,
            sample_rate=built.settings.decisions.log_sample_rate,
            system="cli",
        )
    if as_json:
        emit_json(
            {
                "outcome": decision.outcome,
                "statement_version": decision.statement_version,
                "reasons": [
                    {"promises": list(r.promises), "clause": r.clause, "message": r.message} for r in decision.reasons
                ],
                "obligations": [
                    {"kind": o.kind, "detail": o.detail, "promises": list(o.promises)} for o in decision.obligations
                ],
            }
        )
    else:
        console.print(f"[bold]{decision.outcome.upper()}[/] under statement {decision.statement_version or '-'}")
        for reason in decision.reasons:
            console.print(
                f"  because ({', '.join(reason.promises)}; {reason.clause}): {reason.message}",
                markup=False,
                highlight=False,
            )
        for duty in decision.obligations:
            console.print(f"  then: {duty.kind} {duty.detail}".rstrip(), markup=False, highlight=False)
    if not decision.allowed:
        raise typer.Exit(1)
