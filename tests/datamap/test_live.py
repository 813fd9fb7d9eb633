"""Live checks: the map against real stores (SQLite demo files, PostgreSQL, MariaDB, Redis)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import redis

from charter.datamap import service
from charter.demo import stores
from charter.settings import Settings
from tests.conftest import EXAMPLES
from tests.connectors.conftest import PEOPLE
from tests.datamap.conftest import rendered

WEST = EXAMPLES / "datamap"
Write = Callable[[str, str], Path]


def west_check(home: Path, **kwargs: object) -> service.Report:
    return service.check_path(WEST, Settings.load(env="test", home=home), live=True, env={}, **kwargs)  # type: ignore[arg-type]


def test_the_west_map_matches_the_demo_stores(tmp_path: Path) -> None:
    stores.create(tmp_path)
    report = west_check(tmp_path)
    assert [f.render() for f in report.findings] == []
    assert report.checked_systems == ["shop", "support"]
    assert report.exit_code() == 0


def test_missing_tables_and_columns_are_drift_and_unmapped_personal_data_a_warning(tmp_path: Path) -> None:
    stores.create(tmp_path)
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("DROP INDEX ix_customers_phone_folded")  # SQLite keeps no column an index still uses
        db.execute("ALTER TABLE customers DROP COLUMN phone")
        db.execute("DROP TABLE payments")
        db.execute("CREATE TABLE newsletter (id INTEGER PRIMARY KEY, email TEXT, signed_up TEXT)")
        db.execute("ALTER TABLE orders ADD COLUMN gift_email TEXT")
    report = west_check(tmp_path)
    drift = rendered(report, "drift")
    assert any(
        "shop.yaml:" in line and "column 'phone' is missing from table 'customers' in 'shop'" in line for line in drift
    )
    assert any("table 'payments' does not exist in system 'shop'" in line for line in drift)
    warnings = rendered(report, "warning")
    assert any("unmapped data: table 'newsletter' in 'shop'" in line and "(email)" in line for line in warnings)
    assert any("columns of 'orders' that look personal are not in the map (gift_email)" in line for line in warnings)
    assert report.exit_code() == 1


def test_an_unreachable_store_is_drift_naming_the_system(tmp_path: Path, write: Write) -> None:
    shutil.copytree(WEST / "datasets", tmp_path / "map" / "datasets")
    systems = (WEST / "systems.yaml").read_text().replace("url: sqlite:///shop.db", "url_env: SHOP_URL")
    path = write("systems.yaml", systems)
    settings = Settings.load(env="test", home=tmp_path)
    stores.create(tmp_path)
    report = service.check_path(path.parent, settings, live=True, env={})
    [line] = rendered(report, "drift")
    assert "systems.yaml:" in line and "system 'shop': the environment variable SHOP_URL is not set" in line
    env = {"SHOP_URL": "postgresql+psycopg://west:s3cretPW@127.0.0.1:1/shop"}
    report = service.check_path(path.parent, settings, live=True, env=env)
    [line] = rendered(report, "drift")
    assert "system 'shop' is unavailable" in line and "s3cretPW" not in line
    assert report.checked_systems == ["support"] and report.exit_code() == 1


def test_the_west_shop_map_matches_the_same_tables_on_every_backend(
    sql_store: tuple[str, str | None], tmp_path: Path, write: Write
) -> None:
    url, schema = sql_store
    dataset = (WEST / "datasets" / "shop.yaml").read_text()
    if schema:
        dataset = dataset.replace(
            "    name: West shop\n", f"    name: West shop\n    fides_meta: {{namespace: {{schema: {schema}}}}}\n"
        )
    write("shop.yaml", dataset)
    path = write("systems.yaml", "systems: [{id: shop, kind: sql, url_env: SHOP_URL, datasets: [west_shop]}]\n")
    report = service.check_path(path.parent, Settings.load(env="test", home=tmp_path), live=True, env={"SHOP_URL": url})
    assert [f.render() for f in report.findings if f.severity not in ("warning", "note")] == []
    # these stores lack the indexes the folded e-mail and phone matching would use: said as notes, nothing else
    notes = [f.render() for f in report.findings if f.severity == "note"]
    assert all("no index serves that comparison" in line for line in notes), notes
    # the store's user sees other schemas too (Charter's own tables beside the shop's on PostgreSQL, other
    # runs' databases on MariaDB, which may also vanish while being read): those may be named, the shop's never
    others = ("in a schema no dataset maps", "could not be read for unmapped data")
    assert all(any(o in line for o in others) for line in rendered(report, "warning"))
    assert report.checked_systems == ["shop"]


def test_a_strategy_the_live_column_cannot_take_is_drift(tmp_path: Path, write: Write) -> None:
    stores.create(tmp_path)
    shutil.copytree(WEST, tmp_path / "map", dirs_exist_ok=True)
    shop = tmp_path / "map" / "datasets" / "shop.yaml"
    text = shop.read_text().replace(
        "          - name: created_at\n            data_categories: [system.operations]\n",
        "          - name: created_at\n            data_categories: [system.operations]\n"
        "            charter: {erasure: set_null}\n",
    )
    shop.write_text(text)
    report = service.check_path(tmp_path / "map", Settings.load(env="test", home=tmp_path), live=True, env={})
    [line] = rendered(report, "drift")
    assert "set_null cannot work: column 'created_at' is NOT NULL in 'shop'" in line


def test_a_redis_system_is_checked_by_its_key_patterns(
    redis_prefix: tuple[str, str], tmp_path: Path, write: Write
) -> None:
    url, prefix = redis_prefix
    client = redis.Redis.from_url(url, decode_responses=True)
    client.hset(f"{prefix}:cart:{PEOPLE[0]}", mapping={"email": PEOPLE[0], "items": "2"})
    client.close()
    path = write(
        "cache.yaml",
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
              - name: wishlists
                charter: {{key: "{prefix}zz:wish:{{email}}", erasure: delete_row}}
                fields:
                  - name: email
                    fides_meta: {{identity: email}}
        """,
    )
    settings = Settings.load(env="test", home=tmp_path, connectors={"describe_keys": 1_000_000})
    report = service.check_path(path, settings, live=True, env={"CACHE_URL": url})
    assert rendered(report, "drift") == []
    assert report.checked_systems == ["cache"]
    assert any(f"no keys match '{prefix}zz:wish:*'" in line for line in rendered(report, "warning"))
