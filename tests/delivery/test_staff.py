"""The privacy office's copy of what was disclosed: checked, audited, never a half file (P-RGT-1, P-SEC-1)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from charter.audit.models import AuditEntry
from charter.cli.main import app
from charter.datamap.model import DataMap
from charter.db import Database
from charter.delivery import service as delivery
from charter.delivery.errors import NoCopy
from charter.errors import NotFound
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.cli_runner import invoker
from tests.delivery.conftest import completed
from tests.execution.conftest import approved, sealed_package, store_package


def test_staff_copy_is_the_package_and_is_audited(
    database: Database, config: Settings, vault: Vault, datamap: DataMap
) -> None:
    public_id = completed(database, config, vault, datamap)
    got = delivery.staff_copy(database, public_id, vault=vault, settings=config, actor="user:po", via="api")
    assert zipfile.ZipFile(io.BytesIO(got.data)).read("package.json")
    with database.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "package.staff_downloaded")).one()
    assert entry.actor == "user:po" and entry.data == {"package_sha256": got.sha256, "via": "api"}


def test_no_copy_for_other_kinds_or_before_completion(
    database: Database, config: Settings, vault: Vault, datamap: DataMap
) -> None:
    deletion = approved(database, config, vault, RequestKind.DELETION)
    with pytest.raises(NoCopy, match="only access and portability"):
        delivery.staff_copy(database, deletion, vault=vault, settings=config, actor="cli", via="cli")
    waiting = approved(database, config, vault, RequestKind.ACCESS, "ben@example.org")
    with pytest.raises(NoCopy, match="is approved"):
        delivery.staff_copy(database, waiting, vault=vault, settings=config, actor="cli", via="cli")
    with pytest.raises(NotFound):
        delivery.staff_copy(database, "0" * 32, vault=vault, settings=config, actor="cli", via="cli")


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_charter_requests_package_from_the_shell(
    database: Database, config: Settings, vault: Vault, datamap: DataMap, home: Path, tmp_path: Path
) -> None:
    """``charter requests package ID --out FILE [--json]``; bad input exits 2 or 1, never a half file."""
    invoke = invoker(app, database, home, CHARTER_ENV="test")
    public_id = completed(database, config, vault, datamap)
    out = tmp_path / "copy.zip"

    done = invoke("requests", "package", public_id, "--out", str(out), "--json")
    assert done.exit_code == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["file"] == str(out) and summary["collections"] == 7 and summary["rows"] > 0
    assert summary["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert os.stat(out).st_mode & 0o777 == 0o600
    assert "package.json" in zipfile.ZipFile(out).namelist()

    text = invoke("requests", "package", public_id, "--out", str(out))
    assert text.exit_code == 0 and f"sha256 {summary['sha256']}" in text.stdout

    folder = invoke("requests", "package", public_id, "--out", str(tmp_path))
    assert folder.exit_code == 2 and "is a folder" in folder.stderr
    nowhere = invoke("requests", "package", public_id, "--out", str(tmp_path / "missing" / "x.zip"))
    assert nowhere.exit_code == 2 and "cannot write" in nowhere.stderr

    deletion = approved(database, config, vault, RequestKind.DELETION, "ben@example.org")
    refused = invoke("requests", "package", deletion, "--out", str(tmp_path / "d.zip"))
    assert refused.exit_code == 1 and "only access and portability" in refused.stderr
    assert not (tmp_path / "d.zip").exists()

    sealed = sealed_package(database, public_id)
    assert sealed is not None
    store_package(database, public_id, sealed[:-3])
    damaged = invoke("requests", "package", public_id, "--out", str(tmp_path / "t.zip"))
    assert damaged.exit_code == 1 and "altered" in damaged.stderr
    assert not (tmp_path / "t.zip").exists() and list(tmp_path.glob(".t.zip*")) == []
