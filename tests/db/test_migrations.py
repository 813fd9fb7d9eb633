"""The migrations create exactly the tables the models describe, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from charter.db import Database, migrate
from charter.db.models import metadata


def test_models_and_migrations_agree(database: Database) -> None:
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == [], "write a migration: charter's models changed without one"


def test_upgrade_is_idempotent(database: Database) -> None:
    migrate(database)
    migrate(database)
