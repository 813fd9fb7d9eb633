"""Planning a stored request, from the service and from ``charter requests plan``, on SQLite and PostgreSQL.

Promises: P-RGT-1/3 (the plan of an approved request's work), P-SEC-1 (the
sealed identity is opened only to be masked: no output holds it).
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from charter.cli.main import app
from charter.datamap.errors import DatamapInvalid
from charter.db import Database
from charter.db.base import utcnow
from charter.errors import NotFound
from charter.execution import service
from charter.execution.steps import Action
from charter.requests import intake
from charter.requests.kinds import RequestKind
from charter.settings import DatabaseSettings, Settings
from tests.cli_runner import Invoke, invoker
from tests.conftest import EXAMPLES
from tests.requests.conftest import Recorder
from tests.subjects.factories import make_vault, publish_examples

EMAIL = "ana.lopez@example.org"
DATAMAP = EXAMPLES / "datamap"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def config(database: Database, home: Path) -> Settings:
    publish_examples(database)
    return Settings.load(env="test", home=home, database=DatabaseSettings(url=database.url))


def received(database: Database, config: Settings, kind: RequestKind, **details: Any) -> str:
    """A verified request, as the privacy center leaves it (sealed with HOME's key, like the CLI's)."""
    vault = make_vault(config.secret_key())
    mailer = Recorder()
    now = utcnow()
    submission = intake.Submission(
        kind=kind, identity_kind="email", identity=EMAIL, jurisdiction="eu", details=dict(details)
    )
    done = intake.submit(database, mailer, submission, vault=vault, settings=config, now=now)
    intake.verify_code(
        database, done.public_id, mailer.code(), vault=vault, settings=config, now=now + timedelta(seconds=1)
    )
    return done.public_id


def test_the_service_plans_a_stored_deletion(database: Database, config: Settings) -> None:
    public_id = received(database, config, RequestKind.DELETION)
    datamap = service.load_datamap(config, DATAMAP)
    with database.session() as session:
        planned = service.plan_request(session, public_id, datamap, vault=make_vault(config.secret_key()))
    assert planned.request == public_id
    assert len(planned.of(Action.FETCH)) == 7 and len(planned.of(Action.ERASE)) == 5
    assert [i.as_dict() for i in planned.identities] == [{"kind": "email", "masked": "a***@e***.org"}]
    with database.session() as session, pytest.raises(NotFound):
        service.plan_request(session, "nope", datamap, vault=make_vault(config.secret_key()))


def test_a_stored_correction_plans_the_named_field(database: Database, config: Settings) -> None:
    public_id = received(database, config, RequestKind.CORRECTION, field="last_name", value="López")
    datamap = service.load_datamap(config, DATAMAP)
    with database.session() as session:
        planned = service.plan_request(session, public_id, datamap, vault=make_vault(config.secret_key()))
    assert [(s.action, s.collection) for s in planned.steps] == [
        (Action.FETCH, "west_shop.customers"),
        (Action.UPDATE, "west_shop.customers"),
    ]
    assert "López" not in json.dumps(planned.as_dict())


@pytest.fixture
def invoke(database: Database, home: Path, config: Settings) -> Invoke:
    return invoker(app, database, home, CHARTER_DATAMAP_PATH=str(DATAMAP))


def test_cli_prints_the_plan_without_the_identity(invoke: Invoke, database: Database, config: Settings) -> None:
    public_id = received(database, config, RequestKind.DELETION)
    shown = invoke("requests", "plan", public_id)
    assert shown.exit_code == 0, shown.output
    assert f"plan for deletion request {public_id} (email a***@e***.org): 17 steps" in shown.output
    assert "erase  shop/west_shop.customers" in shown.output
    assert "kept: west_shop.orders" in shown.output
    as_json = invoke("requests", "plan", public_id, "--json")
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.output)
    assert [s["action"] for s in document["steps"]].count("verify") == 5
    for output in (shown.output, as_json.output):
        assert EMAIL not in output and "ana.lopez" not in output


def test_cli_takes_another_datamap_and_reports_a_broken_one(
    invoke: Invoke, database: Database, config: Settings, tmp_path: Path
) -> None:
    public_id = received(database, config, RequestKind.ACCESS)
    empty = tmp_path / "other.yaml"
    empty.write_text("dataset:\n  - fides_key: other\n    collections: []\n")
    other = invoke("requests", "plan", public_id, "--datamap", str(empty), "--json")
    assert other.exit_code == 0, other.output
    assert json.loads(other.output)["steps"] == []
    broken = tmp_path / "broken.yaml"
    broken.write_text("dataset:\n  - fides_key: other\n    colections: []\n")
    failed = invoke("requests", "plan", public_id, "--datamap", str(broken))
    assert failed.exit_code == 2
    assert "Traceback" not in failed.output
    missing = invoke("requests", "plan", "no-such-request")
    assert missing.exit_code == 1


def test_the_data_map_is_read_again_only_when_a_file_changes(tmp_path: Path) -> None:
    """A worker loads the map for every run: an unchanged map is not parsed again, an edited, added or
    removed file is, and a map broken since is reported, not served from before."""
    config = Settings.load(env="test", home=tmp_path / "home")
    folder = tmp_path / "map"
    shutil.copytree(DATAMAP, folder)
    first = service.load_datamap(config, folder)
    assert service.load_datamap(config, folder) is first
    systems = folder / "systems.yaml"
    systems.write_text(systems.read_text().replace("description:", "description: Edited.", 1))
    edited = service.load_datamap(config, folder)
    assert edited is not first
    assert service.load_datamap(config, folder) is edited
    (folder / "extra.yaml").write_text("not: [valid")
    with pytest.raises(DatamapInvalid):
        service.load_datamap(config, folder)
    (folder / "extra.yaml").unlink()
    assert service.load_datamap(config, folder) is edited
