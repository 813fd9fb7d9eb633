"""What the check leaves alone, with a note: Fides files of other kinds, SaaS and catalogue datasets.

Fides loads a folder holding systems, policies, connections, SaaS configs and
catalogue datasets beside the datasets Charter uses; none of them may make
the whole map invalid. Strictness stays where it protects: a misspelt key in
a dataset Charter reads is still an error with "did you mean".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from charter.datamap import service
from charter.datamap.errors import DatamapInvalid
from tests.datamap.conftest import BASE, Check, rendered

Write = Callable[[str, str], Path]

FIDES_POLICY = """\
policy:
  - fides_key: default_erasure_policy
    name: Default erasure
    rules:
      - name: Mask personal data
        action_type: erasure
        masking_strategy: {strategy: null_rewrite}
        targets: [{data_category: user}]
"""
FIDES_SYSTEM = """\
system:
  - fides_key: web_shop
    name: Web shop
    system_type: Service
    privacy_declarations:
      - data_categories: [user.contact.email]
        data_use: essential.service
        data_subjects: [customer]
        dataset_references: [shop]
organization:
  - fides_key: default_organization
    name: West
"""
FIDES_CONNECTION = """\
connection:
  - key: newsletter_app
    name: Newsletter app
    connection_type: saas
    access: write
    datasets: [newsletter_instance]
data_category:
  - fides_key: user.custom.loyalty_tier
    name: Loyalty tier
    parent_key: user
"""
SAAS_DATASET = """\
dataset:
  - fides_key: newsletter_instance
    name: Newsletter app
    collections:
      - name: subscribers
        fields:
          - name: email
            data_categories: [user.contact.email]
            fidesops_meta: {identity: email, data_type: string, read_only: true}
          - name: list_id
            fidesops_meta:
              references: [{dataset: newsletter_config, field: lists.id, direction: from}]
"""
SAAS_CONFIG = """\
saas_config:
  fides_key: <instance_fides_key>
  name: Ticket desk
  type: ticket_desk
  connector_params: [{name: domain}, {name: api_key}]
  endpoints:
    - name: tickets
      requests:
        read: {method: GET, path: /api/tickets, param_values: [{name: email, identity: email}]}
dataset:
  - fides_key: <instance_fides_key>
    name: Ticket desk dataset
    collections:
      - name: tickets
        fields:
          - name: requester_email
            data_categories: [user.contact.email]
            fidesops_meta: {identity: email}
            fides_custom: {kept: true}
"""
CATALOGUE = """\
dataset:
  - fides_key: warehouse_events
    name: Analytics warehouse
    fides_meta: {namespace: {project_id: west-analytics, dataset_id: events, connection_type: bigquery}}
    collections:
      - name: page_views
        fields:
          - name: visitor_email
            data_categories: [user.contact.email]
          - name: url
  - fides_key: data_catalogue
    name: Catalogue of the marketing drive
    collections:
      - name: campaign_contacts
        fields:
          - name: email
            data_categories: [user.contact.email]
"""


def notes(report: service.Report) -> list[str]:
    return rendered(report, "note")


def test_fides_files_of_other_kinds_and_saas_datasets_are_skipped_with_a_note(write: Write, check: Check) -> None:
    write("shop.yaml", BASE)
    write("policy.yaml", FIDES_POLICY)
    write("system.yaml", FIDES_SYSTEM)
    write("connection.yaml", FIDES_CONNECTION)
    write("newsletter.yaml", SAAS_DATASET)
    path = write("ticket_desk.yaml", SAAS_CONFIG)
    report = check(path.parent)
    assert rendered(report) == [] and rendered(report, "warning") == []
    assert sorted(report.datamap.datasets) == ["shop"]
    said = notes(report)
    assert any("policy.yaml:1:1: policy: note: skipped: a Fides policy" in line for line in said), said
    assert any("system.yaml:" in line and "a Fides system" in line for line in said)
    assert any("system.yaml:" in line and "a Fides organization" in line for line in said)
    assert any("connection.yaml:" in line and "a Fides connection" in line for line in said)
    assert any("connection.yaml:" in line and "a Fides data_category" in line for line in said)
    assert any(
        "newsletter.yaml:2:5: dataset[0].fides_key: note: skipped: dataset 'newsletter_instance' belongs to the "
        "SaaS connection 'newsletter_app'" in line
        for line in said
    ), said
    assert any("ticket_desk.yaml:1:1: saas_config: note: skipped: a Fides SaaS connector" in line for line in said)
    assert report.exit_code(strict=True) == 0
    assert report.summary()["notes"] == len(said) == 7


def test_catalogue_datasets_are_skipped_with_a_note(write: Write, check: Check) -> None:
    write("shop.yaml", BASE)
    path = write("catalogue.yaml", CATALOGUE)
    report = check(path.parent)
    assert rendered(report) == []
    assert sorted(report.datamap.datasets) == ["shop"]
    assert sorted(report.datamap.skipped) == ["data_catalogue", "warehouse_events"]
    said = notes(report)
    assert len(said) == 2, said
    assert "catalogue.yaml:2:5: dataset[0].fides_key: note: skipped: dataset 'warehouse_events'" in said[0]
    assert "bigquery" in said[0]
    assert "dataset[1].fides_key: note: skipped: dataset 'data_catalogue' is a catalogue" in said[1]
    assert "no identity, no references, and no system holds it" in said[1]


def test_a_catalogue_dataset_a_system_holds_is_checked_as_any_other(write: Write, check: Check) -> None:
    text = BASE.replace("datasets: [shop]", "datasets: [shop, data_catalogue]")
    write("shop.yaml", text)
    path = write("catalogue.yaml", CATALOGUE)
    lines = rendered(check(path.parent))
    assert any("collection 'data_catalogue.campaign_contacts' is unreachable" in line for line in lines)


def test_an_unreachable_collection_without_categories_is_a_note(write: Write, check: Check) -> None:
    text = BASE + (
        "      - name: schema_migrations\n        fields:\n          - name: version\n          - name: applied_at\n"
    )
    report = check(write("shop.yaml", text))
    assert rendered(report) == []
    [line] = notes(report)
    assert "dataset[0].collections[2].name: note: collection 'shop.schema_migrations' is unreachable" in line
    assert "declares no data categories" in line


def test_an_unreachable_collection_with_categories_is_still_an_error(write: Write, check: Check) -> None:
    text = BASE + (
        "      - name: leads\n"
        "        fields:\n"
        "          - name: email\n"
        "            data_categories: [user.contact.email]\n"
    )
    lines = rendered(check(write("shop.yaml", text)))
    assert any("collection 'shop.leads' is unreachable" in line for line in lines), lines


def test_a_misspelt_top_level_key_is_still_an_error(write: Write, check: Check) -> None:
    path = write("shop.yaml", BASE.replace("dataset:\n", "datasets:\n"))
    with pytest.raises(DatamapInvalid) as caught:
        check(path)
    [problem] = caught.value.problems
    assert problem.render() == f"{path}:6:1: datasets: unknown key 'datasets'; did you mean 'dataset'?"


def test_a_charter_system_under_fides_system_key_is_an_error(write: Write, check: Check) -> None:
    path = write("systems.yaml", BASE.replace("systems:\n", "system:\n"))
    with pytest.raises(DatamapInvalid) as caught:
        check(path)
    [problem] = caught.value.problems
    assert problem.path == "system" and "did you mean 'systems'?" in problem.message


def test_a_misspelt_key_in_a_dataset_beside_fides_files_is_still_an_error(write: Write, check: Check) -> None:
    write("policy.yaml", FIDES_POLICY)
    write("shop.yaml", BASE.replace("fides_meta: {identity: email}", "fides_meta: {identiy: email}"))
    with pytest.raises(DatamapInvalid) as caught:
        check(write("system.yaml", FIDES_SYSTEM).parent)
    [problem] = caught.value.problems
    assert "unknown field 'identiy'; did you mean 'identity'?" in problem.message
