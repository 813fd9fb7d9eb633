"""``make demo`` prepares a working organization: statements, an admin, a population with histories."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from charter import demo
from charter.db import Database
from charter.decisions.model import DecisionRequest
from charter.decisions.service import PersonRef, Question, decide_many
from charter.ledger import service as ledger
from charter.ledger.models import LedgerEvent
from charter.services import Services
from charter.settings import DatabaseSettings, Settings
from charter.subjects.models import Person


def _services(database: Database, tmp_path: Path) -> Services:
    return Services(Settings.load(env="test", home=tmp_path / "home", database=DatabaseSettings(url=database.url)))


def test_demo_is_ready_and_idempotent(database: Database, tmp_path: Path) -> None:
    services = _services(database, tmp_path)
    published, password = demo.prepare(services)
    assert published == ["2019-04-04", "2023-01-01"] and password
    with services.database.session() as session:
        people = session.scalar(select(func.count()).select_from(Person))
        events = session.scalar(select(func.count()).select_from(LedgerEvent))
    assert people == 250 and events and events > people
    assert demo.prepare(services) == ([], None)
    with services.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == people
        assert ledger.rebuild(session).changed == 0
    services.close()


def test_the_named_demo_people_behave_as_the_guide_says(database: Database, tmp_path: Path) -> None:
    """P-USE-5: Ana consented to analytics, Ben withdrew; P-TRK-2: Chloe's GPC refuses sale."""
    services = _services(database, tmp_path)
    demo.prepare(services)

    def ask(email: str, purpose: str) -> str:
        when = datetime(2025, 1, 1, tzinfo=UTC)
        request = DecisionRequest(purpose=purpose, categories=("user.contact.email",), at=when)
        with services.database.session() as session:
            [decision] = decide_many(
                session,
                [Question(request, PersonRef(identity_kind="email", identity_value=email))],
                vault=services.vault,
                sample_rate=0.0,
                system="test",
            )
        return decision.outcome

    assert ask("ana@example.org", "analytics_trends_benchmarks") == "allow"
    assert ask("ben@example.org", "analytics_trends_benchmarks") == "deny"
    assert ask("chloe@example.org", "cross_site_tracking") == "deny"
    services.close()


def test_the_example_shop_embeds_this_runs_charter(tmp_path: Path) -> None:
    """The demo's shop, on its own origin, names the Charter URL of the run and serves nothing else."""
    import socket
    import urllib.error
    import urllib.request

    from charter.demo import site

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = site.serve_shop(demo.EXAMPLES, "127.0.0.1", port, "http://127.0.0.1:9999")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/shop.html") as response:
            page = response.read().decode()
        assert 'src="http://127.0.0.1:9999/static/charter-consent.js"' in page
        assert "127.0.0.1:8000" not in page
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/../pyproject.toml")
    finally:
        server.shutdown()
        server.server_close()


def test_the_demo_carries_requests_out_in_its_own_stores_unless_told_otherwise() -> None:
    """A newcomer approving a request in the demo console sees it done (P-RGT-3), in the demo stores."""
    environ: dict[str, str] = {}
    demo.demo_defaults(environ)
    assert environ["CHARTER_EXECUTION_AUTORUN"] == "true"
    assert Path(environ["CHARTER_DATAMAP_PATH"]).joinpath("systems.yaml").is_file()
    chosen = {"CHARTER_DATAMAP_PATH": "/srv/charter/datamap", "CHARTER_EXECUTION_AUTORUN": "false"}
    demo.demo_defaults(chosen)
    assert chosen == {"CHARTER_DATAMAP_PATH": "/srv/charter/datamap", "CHARTER_EXECUTION_AUTORUN": "false"}
