"""``make demo``: a working Charter on the embedded default in one command.

Creates the SQLite database under CHARTER_HOME, publishes the example
statements in order (2019, then 2023), creates a demo admin whose generated
password is printed once, adds a synthetic population with consent histories
(:mod:`charter.demo.people`), and serves the privacy center. Safe to run
again: what exists is kept.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

from sqlalchemy.orm import Session

from charter.auth import passwords
from charter.auth.roles import Role
from charter.auth.users import create_user, find_user
from charter.db import migrate
from charter.demo import people, site, stores
from charter.errors import CharterError
from charter.policy import service as policy
from charter.services import Services
from charter.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "west"
STATEMENTS = ("statement-2019.yaml", "statement-2023.yaml")
ADMIN = "admin"


def publish_examples(session: Session, settings: Settings, folder: Path) -> list[str]:
    """Publish each example not yet published; return the versions published now."""
    published = []
    existing = {row.version for row in policy.versions(session)}
    for name in STATEMENTS:
        loaded, raw = policy.read_file(folder / name, limits=settings.policy)
        if loaded.statement.version in existing:
            continue
        policy.publish(session, loaded, raw, actor="demo")
        published.append(loaded.statement.version)
    return published


def ensure_admin(session: Session) -> str | None:
    """Create the demo admin; return its password, or None if it already exists."""
    if find_user(session, ADMIN) is not None:
        return None
    password = passwords.generate()
    create_user(session, username=ADMIN, role=Role.ADMIN, password=password, display_name="Demo admin", actor="demo")
    return password


def prepare(services: Services, folder: Path = EXAMPLES) -> tuple[list[str], str | None]:
    migrate(services.database)
    with services.database.session() as session:
        published = publish_examples(session, services.settings, folder)
        password = ensure_admin(session)
    with services.database.session() as session:
        added = people.populate(session, services.vault)
    if added:
        print(f"Added {added} synthetic people with consent histories to the ledger.")
    for name, count in stores.create(services.settings.home).items():  # the shop's own databases (data map)
        if count:
            print(f"Created the demo store {name} with {count} of those people.")
    return published, password


#: What the demo sets unless the environment says otherwise: its own data map (the demo stores),
#: and requests carried out as soon as they are approved, so a newcomer sees a request through in
#: the browser (a real organization usually looks at the plan first: autorun is off by default).
DEMO_DEFAULTS = {
    "CHARTER_DATAMAP_PATH": str(EXAMPLES / "datamap"),
    "CHARTER_EXECUTION_AUTORUN": "true",
}


def demo_defaults(environ: MutableMapping[str, str]) -> None:
    for name, value in DEMO_DEFAULTS.items():
        environ.setdefault(name, value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="charter-demo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--shop-port", type=int, default=None, help="Port of the example shop (default: port + 1).")
    parser.add_argument("--no-serve", action="store_true", help="Prepare the demo without serving it.")
    args = parser.parse_args(argv)

    url = f"http://{args.host}:{args.port}"
    demo_defaults(os.environ)
    # Links in e-mails and the banner's privacy link point at this run unless CHARTER_BASE_URL says otherwise.
    services = Services(Settings.load() if "CHARTER_BASE_URL" in os.environ else Settings.load(base_url=url))
    try:
        published, password = prepare(services)
    except CharterError as exc:
        print(f"demo: {exc.detail}", file=sys.stderr)
        for problem in exc.problems:
            print(problem.render(), file=sys.stderr)
        return exc.exit_code
    print(f"Charter demo database: {services.settings.database_url}")
    if published:
        print(f"Published statement versions: {', '.join(published)}")
    if password:
        print(f"Demo admin created. Sign in at {url}/login as '{ADMIN}' with password: {password}")
        print("(shown once; reset it with: charter users set-password admin)")
    else:
        print(f"Demo admin '{ADMIN}' already exists (reset: charter users set-password {ADMIN}).")
    print(f"\nOpen {url}/privacy  (the statement in force; 'What changed' compares 2019 and 2023)")
    outbox = (services.settings.home / "outbox").resolve()
    where = f"written to {outbox}/" if services.settings.mail.backend == "outbox" else "sent by SMTP"
    print(f"Change a person's choices at {url}/privacy/preferences  (e-mailed codes are {where})")
    print(f"Make a privacy request at {url}/privacy/requests; answer it at {url}/console/requests")
    print(
        f"  (approved requests are carried out at once in the demo stores under {services.settings.home}, "
        f"data map {services.settings.datamap.path}; guide: docs/guide/first-request.md)"
    )
    print("\nAsk the decision engine about a demo person (exit 0 allow, 1 deny), in another shell:")
    for person in people.NAMED:
        print(f"  {person.email:<20} {person.story}")
    print(
        "  CHARTER_HOME=var/demo .venv/bin/charter decide --identity email:ben@example.org "
        "--purpose analytics_trends_benchmarks -c user.contact.email\n"
    )
    if args.no_serve:
        return 0
    import uvicorn

    from charter.web.app import create_app, sweeping

    shop_port = args.shop_port or args.port + 1
    shop_host = "localhost" if args.host == "127.0.0.1" else args.host  # another site, so cookies never mix
    site.serve_shop(EXAMPLES, args.host, shop_port, url)
    print(f"An example shop embedding the cookie banner: http://{shop_host}:{shop_port}/shop.html\n")
    uvicorn.run(create_app(services, lifespan=sweeping(services)), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
