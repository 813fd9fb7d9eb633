"""``charter datamap import-fides``: a Fides user moves in in one step (issue 11; P-RGT-3).

Fixtures are written for this project in the shape Fides' API answers with
(``{"items": [...]}``), never copied from another project.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from charter.cli.main import app
from charter.datamap import fides_import
from charter.datamap.fides_import import FidesImportInvalid
from tests.conftest import EXAMPLES

POLICIES = {
    "items": [
        {
            "name": "Shop erasure",
            "key": "shop_erasure",
            "execution_timeframe": 30,
            "rules": [
                {
                    "name": "Hash contact details",
                    "key": "hash_contact",
                    "action_type": "erasure",
                    "storage_destination": None,
                    "masking_strategy": {"strategy": "hash", "configuration": {"algorithm": "SHA-256"}},
                    "targets": [{"name": "contact", "key": "contact", "data_category": "user.contact"}],
                },
                {
                    "name": "Null the rest",
                    "key": "null_rest",
                    "action_type": "erasure",
                    "masking_strategy": {"strategy": "null_rewrite", "configuration": {}},
                    "targets": [{"name": "user", "key": "user", "data_category": "user"}],
                },
            ],
        },
        {
            "name": "Access",
            "key": "shop_access",
            "rules": [{"key": "all", "action_type": "access", "targets": [{"data_category": "user"}]}],
        },
    ]
}
CONNECTIONS = {
    "items": [
        {
            "name": "Shop database",
            "key": "shop",
            "connection_type": "postgres",
            "access": "write",
            "secrets": {
                "host": "db.internal",
                "port": 5433,
                "dbname": "shop",
                "username": "dsr",
                "password": "hunter2!",
            },
            "dataset_configs": [{"fides_key": "west_shop_config", "ctl_dataset_fides_key": "west_shop"}],
        },
        {"name": "Support", "key": "support", "connection_type": "mariadb", "datasets": ["west_support"]},
        {"name": "Billing SaaS", "key": "billing_saas", "connection_type": "saas"},
    ]
}


def test_a_policy_and_connections_become_an_erasure_policy_and_systems() -> None:
    moved = fides_import.convert([POLICIES, CONNECTIONS])
    assert moved.erasure_policy == {
        "key": "shop_erasure",
        "rules": [
            {
                "key": "hash_contact",
                "action_type": "erasure",
                "masking_strategy": {"strategy": "hash", "configuration": {"algorithm": "SHA-256"}},
                "targets": [{"data_category": "user.contact"}],
            },
            {
                "key": "null_rest",
                "action_type": "erasure",
                "masking_strategy": {"strategy": "null_rewrite"},
                "targets": [{"data_category": "user"}],
            },
        ],
        "name": "Shop erasure",
    }
    assert [s["id"] for s in moved.systems] == ["shop", "support"]
    assert moved.systems[0]["datasets"] == ["west_shop"] and moved.systems[0]["url_env"] == "CHARTER_STORE_SHOP_URL"
    assert moved.environment["CHARTER_STORE_SHOP_URL"] == "postgresql+psycopg://dsr:PASSWORD@db.internal:5433/shop"
    assert moved.environment["CHARTER_STORE_SUPPORT_URL"].startswith("mysql+pymysql://")
    assert any("'billing_saas' (saas): Charter does not connect to this type" in n for n in moved.notes)
    assert "hunter2" not in json.dumps(moved.as_dict())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p["items"][0]["rules"][0]["masking_strategy"].update(strategy="aes_encrypt"), "aes_encrypt is"),
        (
            lambda p: p["items"][0]["rules"][0]["masking_strategy"].update(configuration={"algorithm": "SHA-512"}),
            "rule 'hash_contact': hash: algorithm 'SHA-512' is not supported",
        ),
        (lambda p: p["items"][0]["rules"][1].update(targets=[]), "rule 'null_rest': no targets"),
        (lambda p: p["items"].append({**p["items"][0], "key": "other"}), "several erasure policies"),
    ],
)
def test_what_cannot_be_carried_over_is_refused_by_name(change: object, message: str) -> None:
    exported = json.loads(json.dumps(POLICIES))
    change(exported)  # type: ignore[operator]
    with pytest.raises(FidesImportInvalid, match=message):
        fides_import.convert([exported])


def test_a_connection_without_datasets_is_refused_with_the_fix() -> None:
    with pytest.raises(FidesImportInvalid, match=r"connection 'x': name the datasets it holds"):
        fides_import.convert([{"key": "x", "connection_type": "postgres"}])


def test_the_cli_writes_a_map_that_checks_clean(tmp_path: Path) -> None:
    (tmp_path / "policies.json").write_text(json.dumps(POLICIES))
    (tmp_path / "connections.json").write_text(json.dumps(CONNECTIONS))
    datasets = [str(p) for p in sorted((EXAMPLES / "datamap" / "datasets").glob("*.yaml"))]
    out = tmp_path / "map"
    args = ["datamap", "import-fides", str(tmp_path / "policies.json"), str(tmp_path / "connections.json"), *datasets]
    env = {"CHARTER_HOME": str(tmp_path / "home")}
    result = CliRunner().invoke(app, [*args, "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "export CHARTER_STORE_SHOP_URL='postgresql+psycopg://dsr:PASSWORD@db.internal:5433/shop'" in result.stdout
    assert sorted(p.name for p in out.rglob("*.yaml")) == [
        "erasure_policy.yaml",
        "shop.yaml",
        "support.yaml",
        "systems.yaml",
    ]
    assert "hunter2" not in "".join(p.read_text() for p in out.rglob("*.yaml")) + result.output
    check = CliRunner().invoke(app, ["datamap", "check", str(out)], env=env)
    assert check.exit_code == 0, check.output
    again = CliRunner().invoke(app, [*args, "--out", str(out)], env=env)  # never over a map already there
    assert again.exit_code == 2 and "already holds files" in again.stderr
