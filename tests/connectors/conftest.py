"""Real data stores holding the demo shop's tables: SQLite, PostgreSQL and MariaDB.

``sql_store`` gives (URL, schema) for each backend, filled with the first
twenty demo people; PostgreSQL stores live in a schema of their own, MariaDB
stores in the run's own database, and every table is dropped afterwards.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from charter.demo import people, stores

PEOPLE = people.emails(20)


def _fill(url: str, schema: str | None) -> None:
    engine = create_engine(url)
    target = engine.execution_options(schema_translate_map={None: schema}) if schema else engine
    try:
        stores.fill(target, stores.shop, stores.customers, stores.shop_rows(PEOPLE, random.Random(1)))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
        _fill(url, None)
        yield url, None
        return
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        schema = f"store_{uuid.uuid4().hex[:10]}"
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        _fill(url, schema)
        yield url, schema
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
        return
    url = request.getfixturevalue("mariadb_url")
    _fill(url, None)
    yield url, None
    engine = create_engine(url)
    stores.shop.drop_all(engine)
    engine.dispose()
