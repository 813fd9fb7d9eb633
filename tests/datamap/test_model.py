"""The data map's index: a collection by its key, when a dataset key or a collection name holds a dot.

fideslang's ``FidesKey`` is ``^[a-zA-Z0-9_.<>-]+$``: ``shop.v2`` is a valid dataset key, and Fides loads it.
A collection's key is ``dataset.collection``; it was split at its first dot, so ``shop.v2.member`` named
dataset ``shop``'s collection ``v2.member``, and nothing (the check passed; every step of a request failed).
Now each dot is tried in turn; two collections whose keys would read the same are refused when the map is
built, so a key names one collection.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from charter.cli.main import app
from charter.datamap import service
from charter.settings import Settings
from tests.datamap.conftest import Check, rendered

Write = Callable[[str, str], Path]

DOTTED = """\
systems:
  - {id: shop, kind: sql, url: sqlite:///shop.db, datasets: [shop.v2, shop]}
dataset:
  - fides_key: shop.v2
    collections:
      - name: customers
        fields:
          - {name: id, fides_meta: {primary_key: true}}
          - {name: email, data_categories: [user.contact.email], fides_meta: {identity: email}}
      - name: audit.log
        fides_meta: {after: [shop.v2.customers]}
        fields:
          - {name: id, fides_meta: {primary_key: true}}
          - {name: email, data_categories: [user.contact.email], fides_meta: {identity: email}}
  - fides_key: shop
    collections:
      - name: v2
        fides_meta: {after: [shop.v2.audit.log]}
        fields:
          - {name: id, fides_meta: {primary_key: true}}
          - {name: email, data_categories: [user.contact.email], fides_meta: {identity: email}}
"""
#: dataset ``shop`` with a collection ``v2.customers`` beside dataset ``shop.v2`` with ``customers``
CLASHING = (
    DOTTED
    + """\
      - name: v2.customers
        fields:
          - {name: id, fides_meta: {primary_key: true}}
"""
)


def test_a_key_is_read_at_each_dot_until_it_names_a_collection(write: Write, check: Check, tmp_path: Path) -> None:
    path = write("shop.yaml", DOTTED)
    assert rendered(check(path)) == []  # ``after`` naming dotted keys resolves: nothing dangles
    datamap = service.load(path, Settings.load(env="test", home=tmp_path / "home"))
    customers = datamap.collection("shop.v2.customers")
    log = datamap.collection("shop.v2.audit.log")
    assert customers is not None and (customers.dataset, customers.name) == ("shop.v2", "customers")
    assert log is not None and (log.dataset, log.name) == ("shop.v2", "audit.log")
    v2 = datamap.collection("shop.v2")
    assert v2 is not None and (v2.dataset, v2.name) == ("shop", "v2")
    assert {c.key for c in datamap.collections()} == {"shop.v2.customers", "shop.v2.audit.log", "shop.v2"}
    for missing in ("shop.v2.orders", "shop", "shop.", ".v2", "shop.v3.customers", ""):
        assert datamap.collection(missing) is None, missing


def test_two_collections_with_the_same_key_are_refused_naming_both_and_the_fix(write: Write, check: Check) -> None:
    path = write("shop.yaml", CLASHING)
    [line] = rendered(check(path))
    assert line.startswith(f"{path}:") and "dataset[1].collections[1].name" in line
    assert (
        "collection 'v2.customers' of dataset 'shop' has the key 'shop.v2.customers', which collection "
        "'customers' of dataset 'shop.v2'"
    ) in line
    assert "rename one of them" in line


def test_the_cli_exits_2_on_a_clash(write: Write, tmp_path: Path) -> None:
    path = write("shop.yaml", CLASHING)
    env = {"CHARTER_HOME": str(tmp_path / "home"), "CHARTER_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}"}
    result = CliRunner().invoke(app, ["datamap", "check", str(path)], env=env)
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert "shop.yaml" in line and "has the key 'shop.v2.customers'" in line and "rename one" in line
