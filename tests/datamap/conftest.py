"""Writing data-map files for a test and checking them."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

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
