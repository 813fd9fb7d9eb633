"""``charter users``: console users and their roles.

Passwords are never taken as arguments (they would land in shell history
and process lists): pipe one line with ``--password-stdin`` or let Charter
generate one, which is printed once.
"""

from __future__ import annotations

import sys
from datetime import datetime

import typer
from rich.table import Column, Table

from charter.auth import passwords
from charter.auth import service as auth
from charter.auth.models import User
from charter.cli.context import services
from charter.cli.output import command, console, emit_json
from charter.errors import InvalidInput

app = typer.Typer(no_args_is_help=True)

ACTOR = "cli"

PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="Read the password from the first line of standard input."
)
JSON = typer.Option(False, "--json", help="Print JSON instead of text.")


def read_password_line() -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise InvalidInput("--password-stdin read an empty line; send the password on standard input")
    return line


def _when(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def user_dict(user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "role": user.role.value,
        "active": user.active,
        "created_at": _when(user.created_at),
        "last_login_at": _when(user.last_login_at),
    }


def _show_generated(username: str, password: str) -> None:
    typer.echo(f"generated password for {username} (shown once, store it now):")
    typer.echo(password)


@app.command("create")
@command
def create(
    username: str = typer.Argument(..., help="3 to 64 characters of a-z, 0-9, '.', '_' and '-'."),
    role: str = typer.Option(..., "--role", help="admin, privacy_officer, analyst, engineer, auditor or investigator."),
    display_name: str = typer.Option("", "--display-name", help="The name the console shows."),
    email: str | None = typer.Option(None, "--email", help="Contact address (optional)."),
    password_stdin: bool = PASSWORD_STDIN,
    as_json: bool = JSON,
) -> None:
    """Add a console user. Without --password-stdin a strong password is generated and shown once."""
    auth.parse_role(role)  # a bad role fails before the password is read
    generated = not password_stdin
    password = read_password_line() if password_stdin else passwords.generate()
    with services() as built, built.database.session() as session:
        user = auth.create_user(
            session,
            username=username,
            role=role,
            password=password,
            display_name=display_name,
            email=email,
            actor=ACTOR,
        )
        shown = user_dict(user)
    # Printed only after the commit: a failed create never shows a password.
    if as_json:
        emit_json({**shown, "password": password if generated else None})
        return
    console.print(f"created {shown['username']} ({shown['role']})", markup=False, highlight=False, soft_wrap=True)
    if generated:
        _show_generated(str(shown["username"]), password)


@app.command("list")
@command
def list_(as_json: bool = JSON) -> None:
    """List users, active or not."""
    with services() as built, built.database.session() as session:
        rows = [user_dict(user) for user in auth.list_users(session)]
    if as_json:
        emit_json(rows)
        return
    table = Table(Column("username", no_wrap=True), "display name", "role", "active", "last sign-in")
    for row in rows:
        last = row["last_login_at"]
        table.add_row(
            str(row["username"]),
            str(row["display_name"]),
            str(row["role"]),
            "yes" if row["active"] else "no",
            str(last)[:16].replace("T", " ") if last else "never",
        )
    console.print(table)


@app.command("set-role")
@command
def set_role(
    username: str = typer.Argument(..., help="The user to change."),
    role: str = typer.Argument(..., help="The new role."),
) -> None:
    """Change a user's role (their sessions and tokens follow at once)."""
    with services() as built, built.database.session() as session:
        user = auth.set_role(session, username=username, role=role, actor=ACTOR)
        name, new_role = user.username, user.role.value
    console.print(f"{name} is now {new_role}", markup=False, highlight=False, soft_wrap=True)


@app.command("disable")
@command
def disable(username: str = typer.Argument(..., help="The user to disable.")) -> None:
    """Stop a user signing in; ends their sessions; their tokens stop working."""
    with services() as built, built.database.session() as session:
        name = auth.disable_user(session, username=username, actor=ACTOR).username
    console.print(f"{name} is disabled", markup=False, highlight=False, soft_wrap=True)


@app.command("set-password")
@command
def set_password(
    username: str = typer.Argument(..., help="The user whose password to replace."),
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Replace a user's password and sign them out everywhere."""
    generated = not password_stdin
    password = read_password_line() if password_stdin else passwords.generate()
    with services() as built, built.database.session() as session:
        name = auth.set_password(session, username=username, password=password, actor=ACTOR).username
    console.print(
        f"password of {name} replaced; their sessions are ended", markup=False, highlight=False, soft_wrap=True
    )
    if generated:
        _show_generated(name, password)
