"""Ledger tests run on both backends with both example statements published."""

from __future__ import annotations

import pytest

from charter.db import Database
from tests.subjects.factories import publish_examples


@pytest.fixture
def ledger_db(database: Database) -> Database:
    """The ``database`` fixture with the 2019 and 2023 statements published."""
    publish_examples(database)
    return database
