"""Start-up refuses a database another version of Charter migrated: one line naming the fix, never a deep failure.

Seen while upgrading a home without ``charter db upgrade``: every console page answered "the database did not
answer", which is false and sends the operator the wrong way.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from charter.cli.main import app
from charter.db import SCHEMA_REVISION, Database, SchemaOutdated, migrate, require_schema
from charter.db.engine import alembic_config


def test_the_revision_the_code_needs_is_the_newest_migration() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert script.get_current_head() == SCHEMA_REVISION


def test_an_older_or_empty_database_is_refused_with_the_fix(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'charter.db'}")
    try:
        with pytest.raises(SchemaOutdated, match=r"is at no migration; .* run 'charter db upgrade' first"):
            require_schema(database)
        migrate(database, "0011")
        with pytest.raises(SchemaOutdated, match=f"is at migration 0011; this version needs {SCHEMA_REVISION}"):
            require_schema(database)
        migrate(database)
        require_schema(database)
    finally:
        database.dispose()


def test_charter_serve_and_worker_refuse_to_start_on_an_old_database(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'charter.db'}")
    migrate(database, "0011")
    database.dispose()
    env = {"CHARTER_HOME": str(tmp_path), "CHARTER_DATABASE_URL": f"sqlite:///{tmp_path / 'charter.db'}"}
    for args in (["serve", "--port", "0"], ["worker", "--sweep-once"]):
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert "run 'charter db upgrade' first" in result.stderr and "Traceback" not in result.output
