"""``charter``: the command line. Each domain adds its group here."""

from __future__ import annotations

import typer

from charter.cli import (
    audit,
    consent,
    corrections,
    datamap,
    db,
    decide,
    ledger,
    mail,
    policy,
    serve,
    suppression,
    tokens,
    users,
)
from charter.cli import maillinks as mail_links
from charter.cli import requests as privacy_requests
from charter.cli import worker as worker_cli

app = typer.Typer(
    name="charter",
    help="Charter: the privacy statement as executable code.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db", help="Create and migrate Charter's database.")
app.add_typer(policy.app, name="policy", help="Check, render, diff and publish statements.")
app.add_typer(users.app, name="users", help="Console users and their roles.")
app.add_typer(tokens.app, name="tokens", help="Scoped API tokens for machines.")
app.add_typer(audit.app, name="audit", help="Verify and export the hash-chained audit log.")
app.add_typer(consent.app, name="consent", help="Record what people said: consents, withdrawals, opt-outs.")
app.add_typer(ledger.app, name="ledger", help="The consent ledger: import, rebuild, show a person's standing.")
app.add_typer(mail.app, name="mail", help="Check that Charter can send e-mail.")
app.add_typer(mail_links.app, name="mail-links", help="One-click unsubscribe and open-pixel links for e-mail.")
app.add_typer(datamap.app, name="datamap", help="The data map: which systems hold personal data; check it.")
app.add_typer(privacy_requests.app, name="requests", help="Privacy requests: the queue, decisions, deadlines.")
app.add_typer(privacy_requests.holds_app, name="holds", help="Legal holds on a person or a system (P-RET-3).")
app.add_typer(suppression.app, name="suppression", help="The suppression list: erased people, not to be contacted.")
privacy_requests.app.command("correction")(corrections.correction)  # P-RGT-2: a correction's before/after
app.command("decide")(decide.decide)
app.command("serve")(serve.serve)
app.command("worker")(worker_cli.worker)  # charter.jobs: Celery worker on Redis, and the sweeper


def run() -> None:
    app()
