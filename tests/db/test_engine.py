"""The unit of work: database failures become Charter errors, never raw driver errors."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from charter.db import Database
from charter.errors import InvalidInput, Unavailable


def test_a_value_the_database_refuses_is_invalid_input(postgres_url: str) -> None:
    """PostgreSQL refuses NUL characters (SQLite stores anything, so it has no such case)."""
    database = Database(postgres_url)
    with pytest.raises(InvalidInput) as caught, database.session() as session:
        session.execute(text("SELECT CAST(:value AS INTEGER)"), {"value": "not a number \x00"})
    database.dispose()
    assert "\x00" not in caught.value.detail and "not a number" not in caught.value.detail


def test_an_unreachable_database_is_unavailable() -> None:
    database = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(Unavailable), database.session() as session:
        session.execute(text("SELECT 1"))
    database.dispose()
