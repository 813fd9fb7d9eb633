"""Writing data-map files for a test and checking them; real stores to check them against."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from charter.datamap import service
from charter.settings import Settings

Check = Callable[..., service.Report]
DATA = Path(__file__).parent / "data"
#: a minimal valid map: one system, a customer with an identity and its orders
BASE = """\
systems:
  - id: shop
    kind: sql
    url: sqlite:///shop.db
    datasets: [shop]
dataset:
  - fides_key: shop
    collections:
      - name: customers
        fields:
          - name: id
            fides_meta: {primary_key: true}
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email}
      - name: orders
        fields:
          - name: id
            fides_meta: {primary_key: true}
          - name: customer_id
            fides_meta:
              references: [{dataset: shop, field: customers.id, direction: from}]
"""


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    def write_file(name: str, text: str) -> Path:
        path = tmp_path / "map" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    return write_file


@pytest.fixture
def check(tmp_path: Path) -> Check:
    def run(path: Path, *, live: bool = False, env: dict[str, str] | None = None) -> service.Report:
        settings = Settings.load(env="test", home=tmp_path / "home")
        return service.check_path(path, settings, live=live, env=env or {})

    return run


def rendered(report: service.Report, severity: str = "error") -> list[str]:
    return [f.render() for f in report.findings if f.severity == severity]


from tests.connectors.conftest import sql_store  # noqa: E402, F401 - the same real stores, for live checks


class Store:
    """A real PostgreSQL schema or MariaDB database of one test, with its own mixed-case name."""

    def __init__(self, backend: str, url: str, schema: str | None) -> None:
        self.backend = backend
        self.url = url
        self.schema = schema
        self.engine = create_engine(url)

    def q(self, name: str) -> str:
        """A quoted identifier in this backend's quotes."""
        return f"`{name}`" if self.backend == "mariadb" else f'"{name}"'

    def table(self, name: str) -> str:
        return f"{self.q(self.schema)}.{self.q(name)}" if self.schema else self.q(name)

    def run(self, *statements: str) -> None:
        with self.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))


@pytest.fixture(params=["postgresql", "mariadb"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """PostgreSQL: a fresh schema named in mixed case; MariaDB: the run's database, emptied afterwards."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        schema = f"Fit_{uuid.uuid4().hex[:8]}"
        made = Store("postgresql", url, schema)
        made.run(f'CREATE SCHEMA "{schema}"')
        yield made
        made.run(f'DROP SCHEMA "{schema}" CASCADE')
        made.engine.dispose()
        return
    made = Store("mariadb", request.getfixturevalue("mariadb_url"), None)
    yield made
    with made.engine.begin() as conn:
        conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
        for name in inspect(conn).get_table_names():
            conn.execute(text(f"DROP TABLE `{name}`"))
    made.engine.dispose()
