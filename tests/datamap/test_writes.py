"""Static checks of what an erasure strategy writes: the key it writes by, nesting, width, type.

A map that passes the check must not fail half-way through a deletion with
some steps already erased (P-RGT-3): each case here is one the runner would
only discover while erasing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.datamap.conftest import BASE, Check, rendered

Write = Callable[[str, str], Path]


def with_collection(fields: str, *, meta: str = "") -> str:
    """BASE plus a collection 'contacts' reachable from customers, with the given field lines (already indented)."""
    return BASE + (
        "      - name: contacts\n"
        f"{meta}"
        "        fields:\n"
        "          - name: customer_id\n"
        "            fides_meta:\n"
        "              references: [{dataset: shop, field: customers.id, direction: from}]\n"
        f"{fields}"
    )


def test_a_field_strategy_on_a_collection_without_a_primary_key_is_an_error(write: Write, check: Check) -> None:
    # P-RGT-3: the runner rewrites fields WHERE key = …; without a key it stops after earlier steps erased
    path = write(
        "shop.yaml",
        with_collection(
            "          - name: email\n"
            "            data_categories: [user.contact.email]\n"
            "            charter: {erasure: keyed_hash}\n"
        ),
    )
    [line] = rendered(check(path))
    assert line.startswith(f"{path}:30:23: dataset[0].collections[2].fields[1].charter.erasure: ")
    assert "collection 'shop.contacts' has no primary key" in line
    assert "declare fides_meta.primary_key on the key column" in line and "delete_row" in line


def test_a_composite_primary_key_is_an_error_naming_its_columns(write: Write, check: Check) -> None:
    # P-RGT-3
    path = write(
        "shop.yaml",
        with_collection(
            "          - name: kind\n"
            "            fides_meta: {primary_key: true}\n"
            "          - name: owner\n"
            "            fides_meta: {primary_key: true}\n"
            "          - name: phone\n"
            "            data_categories: [user.contact.phone_number]\n"
            "            charter: {erasure: set_null}\n"
        ),
    )
    [line] = rendered(check(path))
    assert "dataset[0].collections[2].fields[3].charter.erasure" in line
    assert "composite primary key (kind, owner)" in line and "delete_row" in line


def test_row_deletion_needs_no_single_key(write: Write, check: Check) -> None:
    text = with_collection(
        "          - name: email\n            data_categories: [user.contact.email]\n",
        meta="        charter: {erasure: delete_row}\n",
    )
    assert rendered(check(write("shop.yaml", text))) == []


def test_a_strategy_on_a_nested_field_is_refused(write: Write, check: Check) -> None:
    # P-RGT-3: the runner rewrites top-level columns only
    path = write(
        "shop.yaml",
        with_collection(
            "          - name: id\n"
            "            fides_meta: {primary_key: true}\n"
            "          - name: details\n"
            "            fields:\n"
            "              - name: email\n"
            "                data_categories: [user.contact.email]\n"
            "                charter: {erasure: redact_text}\n"
        ),
    )
    [line] = rendered(check(path))
    assert "dataset[0].collections[2].fields[2].fields[0].charter.erasure" in line
    assert "'details.email' is a nested field" in line and "top-level columns only" in line
    assert "strategy on 'details'" in line


def test_a_collection_strategy_reaching_a_nested_personal_field_is_refused(write: Write, check: Check) -> None:
    # P-RGT-3: the planner gives the collection's strategy to every personal field, nested ones too
    path = write(
        "shop.yaml",
        with_collection(
            "          - name: id\n"
            "            fides_meta: {primary_key: true}\n"
            "          - name: details\n"
            "            fields:\n"
            "              - name: email\n"
            "                data_categories: [user.contact.email]\n",
            meta="        charter: {erasure: keyed_hash}\n",
        ),
    )
    # the erasure policy leaves nested fields alone (the runner rewrites top-level columns): said as a warning
    report = check(path)
    assert rendered(report) == []
    [line] = [w for w in rendered(report, "warning") if "collections[2]" in w]
    assert "details.email (nested field: Charter rewrites top-level columns only)" in line


@pytest.mark.parametrize(
    ("erasure", "length", "needed"),
    [
        ("keyed_hash", 20, 32),
        ("random_token", 16, 24),
        ("{strategy: redact_text, replacement: '[removed on request]'}", 12, 20),
        ("redact_text", 6, 8),
        ("generalize_date", 8, 10),
    ],
)
def test_a_strategy_wider_than_fides_meta_length_is_an_error(
    write: Write, check: Check, erasure: str, length: int, needed: int
) -> None:
    # P-RGT-3: Fides' length is the most the column takes; a longer value fails or is cut
    path = write(
        "shop.yaml",
        with_collection(
            "          - name: id\n"
            "            fides_meta: {primary_key: true}\n"
            "          - name: contact\n"
            "            data_categories: [user.contact]\n"
            f"            fides_meta: {{length: {length}}}\n"
            f"            charter: {{erasure: {erasure}}}\n"
        ),
    )
    [line] = rendered(check(path))
    assert "dataset[0].collections[2].fields[2].charter.erasure" in line
    assert f"writes {needed} characters but fides_meta.length is {length}" in line
    assert f"at least {needed}" in line


def test_a_strategy_that_fits_fides_meta_length_is_clean(write: Write, check: Check) -> None:
    text = with_collection(
        "          - name: id\n"
        "            fides_meta: {primary_key: true}\n"
        "          - name: contact\n"
        "            data_categories: [user.contact]\n"
        "            fides_meta: {length: 32}\n"
        "            charter: {erasure: keyed_hash}\n"
    )
    assert rendered(check(write("shop.yaml", text))) == []


def test_a_collection_strategy_is_checked_on_each_field_it_reaches(write: Write, check: Check) -> None:
    # P-RGT-3: keyed_hash from the collection would write text into an integer field
    path = write(
        "shop.yaml",
        with_collection(
            "          - name: id\n"
            "            fides_meta: {primary_key: true}\n"
            "          - name: age\n"
            "            data_categories: [user.demographic.age_range]\n"
            "            fides_meta: {data_type: integer}\n"
            "          - name: nickname\n"
            "            data_categories: [user.name]\n"
            "            fides_meta: {length: 10}\n",
            meta="        charter: {erasure: keyed_hash}\n",
        ),
    )
    lines = rendered(check(path))
    assert len(lines) == 2, lines
    assert "fields[2].name" in lines[0] and "keyed_hash writes text, but the field's data_type is integer" in lines[0]
    assert "(the collection's strategy for its personal fields)" in lines[0]
    assert "fields[3].name" in lines[1] and "writes 32 characters but fides_meta.length is 10" in lines[1]


def test_the_widths_are_what_the_runner_writes() -> None:
    from charter.datamap import writes
    from charter.execution.erasure import DEFAULT_REPLACEMENT, Strategies, generalize
    from charter.execution.steps import FieldErasure

    strategies = Strategies(b"k" * 32)
    assert len(strategies.keyed_hash("ana@example.org")) == writes.KEYED_HASH_WIDTH
    token = strategies.new_value(FieldErasure("email", "random_token"), "a@x.org", where=("r", "shop.c", 1))
    assert len(token) == writes.RANDOM_TOKEN_WIDTH
    assert writes.DEFAULT_REPLACEMENT == DEFAULT_REPLACEMENT
    assert len(generalize("2001-05-17", "month")) == writes.DATE_WIDTH
