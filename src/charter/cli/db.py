"""``charter db``: schema migrations."""

from __future__ import annotations

import typer

from charter.cli.context import services
from charter.cli.output import command, console
from charter.db import migrate

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade")
@command
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Create or migrate the database to the latest schema (safe to repeat)."""
    with services() as built:
        migrate(built.database, revision)
        console.print(f"database at {revision}: {built.database.engine.url.render_as_string()}")
