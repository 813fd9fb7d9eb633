"""Preference-center domain tests: both backends, both example statements, a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from charter.db import Database
from charter.settings import PreferenceSettings
from charter.subjects.service import Vault
from tests.subjects.factories import make_vault, publish_examples

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(database: Database) -> Database:
    publish_examples(database)
    return database


@pytest.fixture
def vault() -> Vault:
    return make_vault()


@pytest.fixture
def prefs() -> PreferenceSettings:
    return PreferenceSettings()
