"""``charter requests run`` and ``charter requests certificate`` against the demo stores.

Promises: P-RGT-1/3 (the office runs an approved request from a shell and
reads the certificate).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from charter.cli.main import app
from charter.db import Database
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.cli_runner import invoker
from tests.execution.conftest import ANA, DATAMAP, approved


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_run_and_certificate_from_the_shell(database: Database, config: Settings, vault: Vault, home: Path) -> None:
    invoke = invoker(app, database, home, CHARTER_ENV="test")
    public_id = approved(database, config, vault, RequestKind.DELETION)
    missing = invoke("requests", "certificate", public_id)
    assert missing.exit_code == 1 and "no certificate" in missing.stderr

    done = invoke("requests", "run", public_id, "--datamap", str(DATAMAP), "--json")
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "completed"
    shown = invoke("requests", "certificate", public_id)
    assert shown.exit_code == 0
    assert "shop/west_shop.addresses: delete_row" in shown.stdout
    assert ANA not in shown.stdout
    again = invoke("requests", "run", public_id, "--datamap", str(DATAMAP))
    assert again.exit_code == 0 and "completed (0 of 17 steps run now)" in again.stdout
