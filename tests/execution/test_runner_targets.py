"""The runner on a real MariaDB target (the demo shop loaded into it), and a correction.

Promises: P-RGT-3 (erasure on the stores organizations run), P-RGT-2
(correction written into the system of record).
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from charter.db import Database
from charter.demo import people, stores
from charter.execution import service
from charter.execution.certificate import certificate_of
from charter.execution.runner import Runner
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.execution.conftest import ANA, DATAMAP, approved, table

SYSTEMS = """
systems:
  - id: shop
    kind: sql
    url_env: WEST_SHOP_URL
    datasets: [west_shop]
  - id: support
    kind: sql
    url: sqlite:///support.db
    datasets: [west_support]
"""


@pytest.fixture
def shop_on_mariadb(mariadb_url: str) -> Iterator[str]:
    engine = create_engine(mariadb_url)
    stores.shop.drop_all(engine)
    stores.fill(engine, stores.shop, stores.customers, stores.shop_rows(people.emails(30), random.Random(1)))
    engine.dispose()
    yield mariadb_url
    engine = create_engine(mariadb_url)
    stores.shop.drop_all(engine)
    engine.dispose()


def _rows(url: str, table_name: str) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(select(stores.shop.tables[table_name]).order_by("id")).mappings()
            return [dict(r) for r in found]
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_deletion_on_mariadb_is_erased_and_verified(
    database: Database, config: Settings, vault: Vault, tmp_path: Path, shop_on_mariadb: str
) -> None:
    folder = tmp_path / "datamap"
    shutil.copytree(DATAMAP / "datasets", folder / "datasets")
    (folder / "systems.yaml").write_text(SYSTEMS)
    datamap = service.load_datamap(config, folder)
    customers_before = _rows(shop_on_mariadb, "customers")
    ana = next(r for r in customers_before if r["email"] == ANA)
    public_id = approved(database, config, vault, RequestKind.DELETION)
    runner = Runner(database, config, vault, datamap, env={"WEST_SHOP_URL": shop_on_mariadb}, sleep=lambda _s: None)
    outcome = runner.run(public_id)
    assert outcome.status == "completed", outcome.error
    after = {r["id"]: r for r in _rows(shop_on_mariadb, "customers")}
    assert after[ana["id"]]["email"] != ANA and after[ana["id"]]["phone"] is None
    assert after[ana["id"]]["birth_date"].month == 1 and after[ana["id"]]["birth_date"].day == 1
    assert [after[r["id"]] for r in customers_before if r["id"] != ana["id"]] == [
        r for r in customers_before if r["id"] != ana["id"]
    ]
    assert not [r for r in _rows(shop_on_mariadb, "addresses") if r["customer_id"] == ana["id"]]
    assert certificate_of(database, public_id)["systems"] == ["shop", "support"]


def test_a_correction_writes_the_value_into_the_named_field(
    database: Database, config: Settings, vault: Vault, home: Path
) -> None:
    datamap = service.load_datamap(config, DATAMAP)
    others = [r for r in table(home, "customers") if r["email"] != ANA]
    public_id = approved(database, config, vault, RequestKind.CORRECTION, field="last_name", value="Costa-Silva")
    outcome = Runner(database, config, vault, datamap, sleep=lambda _s: None).run(public_id)
    assert outcome.status == "completed", outcome.error
    rows = table(home, "customers")
    assert [r["last_name"] for r in rows if r["email"] == ANA] == ["Costa-Silva"]
    assert [r for r in rows if r["email"] != ANA] == others


def test_a_deletion_on_redis_deletes_keys_and_rewrites_hash_fields(
    database: Database, config: Settings, vault: Vault, tmp_path: Path, redis_prefix: tuple[str, str]
) -> None:
    import redis

    url, prefix = redis_prefix
    client = redis.Redis.from_url(url, decode_responses=True)
    client.hset(f"{prefix}:cart:{ANA}", mapping={"email": ANA, "items": "2"})
    client.hset(f"{prefix}:cart:ben@example.org", mapping={"email": "ben@example.org", "items": "1"})
    client.hset(f"{prefix}:profile:1", mapping={"email": ANA, "name": "Ana Costa", "plan": "gold"})
    client.hset(f"{prefix}:profile:2", mapping={"email": "ben@example.org", "name": "Ben Brandt", "plan": "free"})
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "cache.yaml").write_text(
        f"""\
systems: [{{id: cache, kind: redis, url_env: CACHE_URL, datasets: [cache]}}]
dataset:
  - fides_key: cache
    collections:
      - name: carts
        charter: {{key: "{prefix}:cart:{{email}}", erasure: delete_row}}
        fields:
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {{identity: email}}
          - name: items
            data_categories: [user.behavior.purchase_history]
      - name: profiles
        charter: {{key: "{prefix}:profile:*"}}
        fields:
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {{identity: email}}
            charter: {{erasure: keyed_hash}}
          - name: name
            data_categories: [user.name]
            charter: {{erasure: redact_text}}
          - name: plan
            data_categories: [system.operations]
"""
    )
    datamap = service.load_datamap(config, folder)
    public_id = approved(database, config, vault, RequestKind.DELETION)
    runner = Runner(database, config, vault, datamap, env={"CACHE_URL": url}, sleep=lambda _s: None)
    outcome = runner.run(public_id)
    assert outcome.status == "completed", outcome.error
    assert not client.exists(f"{prefix}:cart:{ANA}")
    assert client.hgetall(f"{prefix}:cart:ben@example.org") == {"email": "ben@example.org", "items": "1"}
    profile = client.hgetall(f"{prefix}:profile:1")
    assert profile["name"] == "(erased)" and profile["email"] != ANA and profile["plan"] == "gold"
    assert client.hgetall(f"{prefix}:profile:2")["name"] == "Ben Brandt"
    client.close()
