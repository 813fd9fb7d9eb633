"""``charter``: the command line. Each domain adds its group here.

``charter serve`` and ``charter worker`` start processes that live for weeks:
:func:`run` gives them a command line holding only their own command
(:data:`SERVICES`). The full one imports every command module, and with them
every domain's services (the ledger's, the policy renderer's, the consent
CLI's tables...): about 4 MB that a worker or a server would carry for its
whole life without calling them. What each command does is the same either
way; ``charter --help`` and every other command go through the full app.
A plain service command line does not even load Typer
(:mod:`charter.cli.service_argv`).
"""

from __future__ import annotations

import functools
import sys
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

NAME = "charter"
HELP = "Charter: the privacy statement as executable code."
#: the long-lived commands and where each is defined (module, function)
SERVICES = {"serve": ("charter.cli.serve", "serve"), "worker": ("charter.cli.worker", "worker")}


def _typer() -> typer.Typer:
    import typer

    return typer.Typer(name=NAME, help=HELP, no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)


@functools.cache
def full_app() -> typer.Typer:
    """Every command: what ``charter`` is, except when it starts a service (see :func:`run`)."""
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
        suppression,
        tokens,
        users,
    )
    from charter.cli import maillinks as mail_links
    from charter.cli import requests as privacy_requests

    app = _typer()
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
    for name in SERVICES:
        _add_service(app, name)  # serve; worker: charter.jobs, Celery worker on Redis, and the sweeper
    return app


def _add_service(app: typer.Typer, name: str) -> None:
    module, function = SERVICES[name]
    app.command(name)(getattr(import_module(module), function))


def service_app(name: str) -> typer.Typer:
    """A command line with the one service ``name``, called as in the full app (``charter NAME [OPTIONS]``)."""
    app = _typer()
    app.callback()(_group)  # a group, not a lone command: the command keeps its name on the command line
    _add_service(app, name)
    return app


def _group() -> None:
    """Charter: the privacy statement as executable code."""


def __getattr__(name: str) -> typer.Typer:
    """``app``: the full command line, built when first asked for (tests and ``CliRunner`` use it)."""
    if name == "app":
        return full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command in SERVICES:
        from charter.cli import service_argv

        parsed = service_argv.parse(command, sys.argv[2:])
        if parsed is not None:
            service_argv.start(command, parsed)
            return
    (service_app(command) if command in SERVICES else full_app())()
