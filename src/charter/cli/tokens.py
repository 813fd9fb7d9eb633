"""``charter tokens``: scoped API tokens for machines.

A token is printed once, when it is created; Charter keeps only a digest.
"""

from __future__ import annotations

from datetime import datetime

import typer
from rich.table import Column, Table

from charter.auth import service as auth
from charter.auth.models import ApiToken
from charter.cli.context import services
from charter.cli.output import command, console, emit_json
from charter.db import utcnow

app = typer.Typer(no_args_is_help=True)

ACTOR = "cli"
JSON = typer.Option(False, "--json", help="Print JSON instead of text.")


def _when(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _day(value: object) -> str | None:
    return str(value)[:10] if value else None


def _state(token: ApiToken) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= utcnow():
        return "expired"
    return "active" if token.owner.active else "owner disabled"


def token_dict(token: ApiToken) -> dict[str, object]:
    return {
        "state": _state(token),
        "token_id": token.token_id,
        "user": token.owner.username,
        "name": token.name,
        "scopes": list(token.scopes),
        "created_at": _when(token.created_at),
        "expires_at": _when(token.expires_at),
        "revoked_at": _when(token.revoked_at),
        "last_used_at": _when(token.last_used_at),
    }


@app.command("create")
@command
def create(
    user: str = typer.Option(..., "--user", help="The user the token acts for."),
    name: str = typer.Option(..., "--name", help="What the token is for, e.g. 'ci-publish'."),
    scopes: list[str] = typer.Option(  # noqa: B008 - Typer declares options as defaults
        ..., "--scope", help="A permission, e.g. policy:read; repeat for more."
    ),
    expires_days: int | None = typer.Option(None, "--expires-days", help="Expire after N days (default: never)."),
    as_json: bool = JSON,
) -> None:
    """Issue a token; it is printed once. Scopes cannot exceed the user's role."""
    with services() as built, built.database.session() as session:
        secret, row = auth.create_token(
            session, username=user, name=name, scopes=scopes, expires_days=expires_days, actor=ACTOR
        )
        shown = token_dict(row)
    if as_json:
        emit_json({**shown, "token": secret})
        return
    console.print(
        f"created token {shown['token_id']} for {shown['user']} "
        f"with {', '.join(row.scopes)} (shown once, store it now):",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    typer.echo(secret)


@app.command("list")
@command
def list_(
    user: str | None = typer.Option(None, "--user", help="Only this user's tokens."),
    as_json: bool = JSON,
) -> None:
    """List tokens (never their secrets)."""
    with services() as built, built.database.session() as session:
        rows = [token_dict(token) for token in auth.list_tokens(session, username=user)]
    if as_json:
        emit_json(rows)
        return
    table = Table(
        Column("token id", no_wrap=True),
        "name",
        "user",
        Column("scopes", no_wrap=True),
        Column("expires", no_wrap=True),
        "state",
    )
    for row in rows:
        scopes = row["scopes"]
        table.add_row(
            str(row["token_id"]),
            str(row["name"]),
            str(row["user"]),
            "\n".join(scopes) if isinstance(scopes, list) else "",
            _day(row["expires_at"]) or "never",
            str(row["state"]),
        )
    console.print(table)


@app.command("revoke")
@command
def revoke(token_id: str = typer.Argument(..., help="The 12-character id from `charter tokens list`.")) -> None:
    """Stop a token working at once."""
    with services() as built, built.database.session() as session:
        shown = auth.revoke_token(session, token_id=token_id, actor=ACTOR).token_id
    console.print(f"token {shown} is revoked", markup=False, highlight=False)
