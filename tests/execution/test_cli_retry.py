"""``charter requests retry ID`` and ``charter requests give-up ID --reason TEXT`` against the demo stores.

Promises: P-RGT-3 (the office finishes a failed deletion from a shell, the erasures done once), P-RGT-8 (what
the failed run did is shown; the requester is told only when it completes or the office gives up).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from charter.cli.main import app
from charter.connectors.base import StoreRefused
from charter.db import Database
from charter.execution.runner import Runner
from charter.execution.steps import Action, Step
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.cli_runner import invoker
from tests.execution.conftest import ANA, DATAMAP, approved

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def _refuse_customers(where: str, step: Step) -> None:
    if where == "before" and step.action == Action.ERASE and step.collection == "west_shop.customers":
        raise StoreRefused("system 'shop': a column the data map names does not exist (OperationalError)")


def _failed(database: Database, config: Settings, vault: Vault, datamap: object) -> str:
    public_id = approved(database, config, vault, RequestKind.DELETION)
    runner = Runner(database, config, vault, datamap, fault=_refuse_customers, sleep=lambda _s: None)  # type: ignore[arg-type]
    assert runner.run(public_id).status == "failed"
    return public_id


def test_show_then_retry_a_failed_deletion_from_the_shell(
    database: Database, config: Settings, vault: Vault, home: Path, datamap: object
) -> None:
    invoke = invoker(app, database, home, CHARTER_ENV="test")
    public_id = _failed(database, config, vault, datamap)
    shown = invoke("requests", "show", public_id)
    assert shown.exit_code == 0, shown.stderr
    assert "run                failed" in shown.stdout and "ERROR StoreRefused" in shown.stdout
    # the erasures of the batch share a transaction per store: the failure rolled them back, nothing is half-done
    assert "pending  erase  shop/west_shop.addresses" in shown.stdout
    assert "done     fetch  shop/west_shop.addresses  rows 1, keys 1" in shown.stdout
    assert ANA not in shown.stdout
    again = invoke("requests", "run", public_id, "--datamap", str(DATAMAP))
    assert again.exit_code == 1 and f"charter requests retry {public_id}" in again.stdout

    done = invoke("requests", "retry", public_id, "--datamap", str(DATAMAP), "--json")
    assert done.exit_code == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["run"]["status"] == "completed" and answer["retry"]["retries"] == 1
    assert answer["retry"]["kept"] and answer["retry"]["new"] == [] and answer["retry"]["plan"] is None
    assert answer["retry"]["redone"] == []  # nothing done changed: only the failed step and those after it
    assert set(answer["run"]["executed"]) == set(answer["retry"]["remaining"])  # kept steps were not run again
    assert invoke("requests", "certificate", public_id).exit_code == 0


def test_a_retry_after_a_map_change_prints_the_new_plan(
    database: Database, config: Settings, vault: Vault, home: Path, datamap: object, tmp_path: Path
) -> None:
    invoke = invoker(app, database, home, CHARTER_ENV="test")
    public_id = _failed(database, config, vault, datamap)
    changed = tmp_path / "changed"
    shutil.copytree(DATAMAP, changed)
    shop = changed / "datasets" / "shop.yaml"
    shop.write_text(shop.read_text().replace("charter: {erasure: set_null}", "charter: {erasure: redact_text}", 1))
    done = invoke("requests", "retry", public_id, "--datamap", str(changed))
    assert done.exit_code == 0, done.stderr
    assert "retry 1 of request" in done.stdout and "steps kept" in done.stdout
    assert "the data map changed since the run started; the new plan:" in done.stdout
    assert "phone=redact_text" in done.stdout and "still to do" in done.stdout
    assert f"request {public_id}: completed" in done.stdout


def test_retry_and_give_up_refuse_a_request_that_is_not_failed_with_one_line(
    database: Database, config: Settings, vault: Vault, home: Path
) -> None:
    invoke = invoker(app, database, home, CHARTER_ENV="test")
    public_id = approved(database, config, vault, RequestKind.ACCESS)
    refused = invoke("requests", "retry", public_id, "--datamap", str(DATAMAP))
    assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "only a failed request can be retried" in refused.stderr
    gave = invoke("requests", "give-up", public_id, "--reason", "No.")
    assert gave.exit_code == 2 and len(gave.stderr.strip().splitlines()) == 1


def test_give_up_from_the_shell(
    database: Database, config: Settings, vault: Vault, home: Path, datamap: object
) -> None:
    invoke = invoker(app, database, home, CHARTER_ENV="test")
    public_id = _failed(database, config, vault, datamap)
    blank = invoke("requests", "give-up", public_id, "--reason", "  ")
    assert blank.exit_code == 2 and "reason" in blank.stderr and len(blank.stderr.strip().splitlines()) == 1
    reason = "The shop was closed and its database deleted by its new owner."
    done = invoke("requests", "give-up", public_id, "--reason", reason, "--json")
    assert done.exit_code == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["status"] == "given_up" and answer["execution"]["given_up"]["reason"] == reason
