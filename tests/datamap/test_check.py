"""Static checks: each bad input is one clear FILE:LINE:COL problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from charter.datamap import graph
from charter.datamap.check import erase_order
from charter.datamap.errors import DatamapInvalid
from tests.datamap.conftest import BASE, Check, rendered

Write = Callable[[str, str], Path]


def test_the_base_map_is_clean_and_orders_children_first(write: Write, check: Check) -> None:
    report = check(write("shop.yaml", BASE))
    assert [f.render() for f in report.findings] == []
    assert erase_order(report.datamap) == [["shop.orders"], ["shop.customers"]]


def test_a_reference_cycle_is_reported_where_it_is_written(write: Write, check: Check) -> None:
    text = BASE.replace(
        "            fides_meta: {primary_key: true}\n          - name: email",
        "            fides_meta: {primary_key: true}\n"
        "          - name: last_order\n"
        "            fides_meta:\n"
        "              references: [{dataset: shop, field: orders.id, direction: from}]\n"
        "          - name: email",
    )
    path = write("shop.yaml", text)
    [line] = rendered(check(path))
    assert line.startswith(f"{path}:")
    assert "references form a cycle (shop.customers → shop.orders → shop.customers)" in line or (
        "references form a cycle (shop.orders → shop.customers → shop.orders)" in line
    )
    with pytest.raises(graph.CycleError):
        erase_order(check(path).datamap)


def test_a_dangling_reference_names_what_is_missing_with_a_suggestion(write: Write, check: Check) -> None:
    path = write("shop.yaml", BASE.replace("field: customers.id", "field: customers.idd"))
    lines = rendered(check(path))
    assert lines[0] == (
        f"{path}:22:44: dataset[0].collections[1].fields[1].fides_meta.references[0].field: "
        "dangling reference: 'shop.customers' has no field 'idd'; did you mean 'id'?"
    )
    # orders is no longer reachable from an identity either, but declares no data categories: a note, not an error
    assert len(lines) == 1
    [note] = rendered(check(path), "note")
    assert "'shop.orders' is unreachable and declares no data categories" in note


def test_a_reference_to_an_unknown_dataset_or_collection(write: Write, check: Check) -> None:
    lines = rendered(
        check(
            write("a.yaml", BASE.replace("{dataset: shop, field: customers.id", "{dataset: shp, field: customers.id"))
        )
    )
    assert "dangling reference: no dataset 'shp'; did you mean 'shop'?" in lines[0]
    lines = rendered(check(write("b.yaml", BASE.replace("field: customers.id", "field: customer.id"))))
    assert any("has no collection 'customer'; did you mean 'customers'?" in line for line in lines)


def test_an_unknown_category_is_named_with_a_suggestion(write: Write, check: Check) -> None:
    path = write("shop.yaml", BASE.replace("user.contact.email", "user.contact.emial"))
    assert rendered(check(path)) == [
        f"{path}:14:31: dataset[0].collections[0].fields[1].data_categories[0]: "
        "unknown data category 'user.contact.emial'; did you mean 'user.contact.email'?"
    ]


def test_a_collection_without_a_path_from_an_identity_is_unreachable(write: Write, check: Check) -> None:
    path = write("shop.yaml", BASE.replace("fides_meta: {identity: email}", "fides_meta: {}"))
    lines = rendered(check(path))
    assert len(lines) == 1  # orders, unreachable too, has no data categories: a note
    assert lines[0].startswith(
        f"{path}:9:9: dataset[0].collections[0].name: collection 'shop.customers' is unreachable"
    )


@pytest.mark.parametrize(
    ("field_yaml", "message"),
    [
        ("fides_meta: {primary_key: true}\n            charter: {erasure: set_null}", "would rewrite a primary key"),
        (
            "fides_meta: {primary_key: false, data_type: boolean}\n            charter: {erasure: generalize_date}",
            "generalize_date needs a date, but the field's data_type is boolean",
        ),
        (
            "fides_meta: {data_type: integer}\n            charter: {erasure: keyed_hash}",
            "keyed_hash writes text, but the field's data_type is integer",
        ),
        ("charter: {erasure: delete_row}", "delete_row erases whole rows; set it on the collection"),
        ("fides_meta: {read_only: true}\n            charter: {erasure: redact_text}", "the field is read_only"),
    ],
)
def test_a_strategy_that_cannot_work_on_its_field(write: Write, check: Check, field_yaml: str, message: str) -> None:
    text = BASE.replace(
        "      - name: orders\n        fields:\n          - name: id\n            fides_meta: {primary_key: true}",
        f"      - name: orders\n        fields:\n          - name: id\n            {field_yaml}",
    )
    if "primary_key: true" not in field_yaml:
        text = text.replace(
            "          - name: customer_id\n",
            "          - name: pk\n            fides_meta: {primary_key: true}\n          - name: customer_id\n",
        )
    path = write("shop.yaml", text)
    [line] = rendered(check(path))
    assert line.startswith(f"{path}:")
    assert "dataset[0].collections[1].fields[0]" in line and message in line


def test_a_field_strategy_inside_a_row_deleting_collection_never_runs(write: Write, check: Check) -> None:
    text = BASE.replace(
        "      - name: customers\n", "      - name: customers\n        charter: {erasure: delete_row}\n"
    )
    text = text.replace(
        "fides_meta: {identity: email}", "fides_meta: {identity: email}\n            charter: {erasure: set_null}"
    )
    [line] = rendered(check(write("shop.yaml", text)))
    assert "the collection deletes its rows, so set_null on this field would never run" in line


def test_duplicates_and_unknown_datasets_of_systems(write: Write, check: Check) -> None:
    text = BASE.replace("datasets: [shop]", "datasets: [shop, shopp]").replace(
        "      - name: orders\n", "      - name: customers\n        fields: [{name: x}]\n      - name: orders\n"
    )
    lines = rendered(check(write("shop.yaml", text)))
    assert any("duplicate collection 'customers'" in line for line in lines)
    assert any("dataset 'shopp' is not defined in any file; did you mean 'shop'?" in line for line in lines)


def test_a_fides_masking_strategy_charter_refuses_is_an_error_naming_why(write: Write, check: Check) -> None:
    """P-RGT-3: a strategy that does not erase (reversible encryption) is refused, never silently skipped."""
    text = BASE.replace(
        "fides_meta: {identity: email}",
        "fides_meta: {identity: email, masking_strategy_override: {strategy: aes_encrypt}}",
    )
    with pytest.raises(DatamapInvalid) as raised:
        check(write("shop.yaml", text))
    [problem] = raised.value.problems
    assert "masking_strategy_override" in problem.render()
    assert "aes_encrypt is reversible" in problem.message and "use hash or random_string_rewrite" in problem.message


def test_redis_collections_need_a_key_pattern_naming_their_fields(write: Write, check: Check) -> None:
    text = """\
    systems:
      - {id: cache, kind: redis, url_env: CACHE_URL, datasets: [cache]}
    dataset:
      - fides_key: cache
        collections:
          - name: carts
            charter: {key: "cart:{mail}"}
            fields:
              - name: email
                fides_meta: {identity: email}
          - name: sessions
            fields:
              - name: email
                fides_meta: {identity: email}
    """
    lines = rendered(check(write("cache.yaml", text)))
    assert any("key pattern names '{mail}', which is not a field here; did you mean 'email'?" in line for line in lines)
    assert any("needs charter.key" in line for line in lines)


def test_a_redis_key_that_spells_an_identity_is_deleted_not_rewritten(write: Write, check: Check) -> None:
    """P-RGT-3: rewriting ``cart:{email}`` leaves the key naming the person; only delete_row (or keep) is right."""
    text = """\
    systems:
      - {id: cache, kind: redis, url_env: CACHE_URL, datasets: [cache]}
    dataset:
      - fides_key: cache
        collections:
          - name: carts
            charter: {key: "cart:{email}"}
            fields:
              - name: email
                data_categories: [user.contact.email]
                fides_meta: {identity: email}
          - name: wishlists
            charter: {key: "wish:{email}", erasure: delete_row}
            fields:
              - name: email
                data_categories: [user.contact.email]
                fides_meta: {identity: email}
    """
    lines = [line for line in rendered(check(write("cache.yaml", text))) if "is in the key pattern" in line]
    assert len(lines) == 1 and "'cart:{email}'" in lines[0] and "delete_row" in lines[0]
