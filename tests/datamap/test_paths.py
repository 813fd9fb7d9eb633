"""Field paths: nesting comes from the YAML's ``fields:``, never from a dot in a name (issue 11).

A field named ``addr.line1`` (a SQL column, a Redis hash field) and ``line1`` nested in ``addr`` are two
fields, indexed, checked, shown and referred to apart. Promises: P-RGT-1 (access reads every declared field),
P-RGT-3 (a deletion erases them) need the two told apart.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charter.datamap import paths
from charter.datamap.erasure_policy import Resolver
from charter.datamap.service import erasure_table
from tests.datamap.conftest import Check, rendered

Write = Callable[[str, str], Path]

#: one store, one collection: a column named ``addr.line1`` beside a JSON column ``addr`` holding ``line1``
DOTTED = """\
systems:
  - {id: shop, kind: sql, url: "sqlite:///shop.db", datasets: [shop]}
dataset:
  - fides_key: shop
    collections:
      - name: member
        fields:
          - {name: id, data_categories: [system.operations], fides_meta: {primary_key: true}}
          - {name: email, data_categories: [user.contact.email], fides_meta: {identity: email}}
          - name: addr.line1
            data_categories: [user.contact.address.street]
            charter: {erasure: {strategy: redact_text}}
          - name: addr
            data_categories: [user.contact.address]
            fides_meta: {data_type: object}
            fields:
              - {name: line1, data_categories: [user.contact.address.street]}
      - name: parcel
        fields:
          - {name: id, data_categories: [system.operations], fides_meta: {primary_key: true}}
          - name: member_id
            data_categories: [system.operations]
            fides_meta: {references: [{dataset: shop, field: member.id, direction: from}]}
          - name: street.copy
            data_categories: [user.contact.address.street]
"""


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (("addr", "line1"), "addr.line1"),
        (("addr.line1",), '"addr.line1"'),
        (("addr", "line.1"), 'addr."line.1"'),
        (('say "hi".now',), '"say ""hi"".now"'),
        (('plain"quote',), '"plain""quote"'),
        (("email",), "email"),
        (("Straße", "Nummer"), "Straße.Nummer"),
    ],
)
def test_a_path_is_shown_without_losing_where_the_dots_are(path: tuple[str, ...], text: str) -> None:
    assert paths.shown(path) == text
    assert paths.parse(text) == path


@given(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=4).map(tuple))
def test_every_path_reads_back_as_itself(path: tuple[str, ...]) -> None:
    assert paths.parse(paths.shown(path)) == path


@pytest.mark.parametrize("text", ["", ".", "a.", ".a", "a..b", '"a', 'a"b"', '"a"b', '"a".'])
def test_a_malformed_path_is_refused(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked where a person reads it (the check)
        paths.parse(text)


def test_a_dotted_name_and_a_nested_field_are_two_fields(write: Write, check: Check) -> None:
    """The loader indexes ``addr.line1`` (one name) and ``addr`` → ``line1`` (nested) apart; both are erased."""
    report = check(write("shop.yaml", DOTTED))
    assert [f.render() for f in report.findings if f.severity == "error"] == []
    member = report.datamap.collection("shop.member")
    assert member is not None
    flat, nested = member.fields[("addr.line1",)], member.fields[("addr", "line1")]
    assert (flat.top, flat.column, flat.name, flat.key) == (
        True,
        "addr.line1",
        '"addr.line1"',
        'shop.member."addr.line1"',
    )
    assert (nested.top, nested.column, nested.name, nested.key) == (
        False,
        "addr",
        "addr.line1",
        "shop.member.addr.line1",
    )
    assert member.column("addr.line1") is flat and member.column("addr") is not None
    assert member.columns() == ["id", "email", "addr.line1", "addr"]
    resolver = Resolver(report.datamap)
    decided = resolver.field(member, flat, set())
    assert decided.erasure is not None and decided.erasure.strategy == "redact_text"
    inside = resolver.field(member, nested, set())  # goes with 'addr', which the default policy nulls
    assert inside.erasure is None and inside.within == "addr" and "nested in 'addr'" in inside.why
    fates = {(f.collection, f.field): f.strategy for f in erasure_table(report.datamap)}
    assert fates[("shop.member", '"addr.line1"')] == "redact_text"
    assert fates[("shop.member", "addr")] == "set_null"
    assert fates[("shop.member", "addr.line1")] is None
    # nothing is reported untouched: the nested field goes with its column
    assert not any("untouched" in line for line in rendered(report, "warning"))


def test_a_reference_names_a_dotted_field_in_quotes_and_a_nested_one_by_its_path(write: Write, check: Check) -> None:
    quoted = DOTTED.replace("field: member.id,", 'field: member."addr.line1",')
    report = check(write("shop.yaml", quoted))
    assert [f.render() for f in report.findings if f.severity == "error"] == []
    bare = check(write("bare.yaml", DOTTED.replace("field: member.id,", "field: member.addr.line2,")))
    line = rendered(bare)[0]
    assert "dangling reference: 'shop.member' has no field 'addr.line2'; did you mean 'addr.line1'?" in line
    spelt = check(write("spelt.yaml", DOTTED.replace("field: member.id,", 'field: member."addr.line2",')))
    assert "has no field '\"addr.line2\"'; did you mean '\"addr.line1\"'?" in rendered(spelt)[0]
    malformed = check(write("malformed.yaml", DOTTED.replace("field: member.id,", "field: '\"member.id',")))
    assert "must be written 'collection.field'" in rendered(malformed)[0]


def test_a_reference_through_a_nested_field_is_refused(write: Write, check: Check) -> None:
    """Stores are read by top-level field: a search inside a document would compare the whole document."""
    text = DOTTED.replace("field: member.id,", "field: member.addr.line1,")
    lines = rendered(check(write("shop.yaml", text)))
    assert any(
        "'shop.member.addr.line1' is a nested field (inside 'addr') and cannot be a reference's end" in x for x in lines
    )


def test_a_nested_identity_is_refused(write: Write, check: Check) -> None:
    text = DOTTED.replace(
        "              - {name: line1, data_categories: [user.contact.address.street]}",
        "              - {name: line1, data_categories: [user.contact.email], fides_meta: {identity: email}}",
    )
    lines = rendered(check(write("shop.yaml", text)))
    assert any(
        "'shop.member.addr.line1' is a nested field (inside 'addr') and cannot be an identity" in x for x in lines
    )


def test_a_strategy_on_a_nested_field_names_its_column_as_shown(write: Write, check: Check) -> None:
    text = DOTTED.replace(
        "              - {name: line1, data_categories: [user.contact.address.street]}",
        "              - {name: line1, data_categories: [user.contact.address.street],"
        " charter: {erasure: {strategy: set_null}}}",
    )
    lines = rendered(check(write("shop.yaml", text)))
    assert any("'addr.line1' is a nested field" in x and "put a strategy on 'addr'" in x for x in lines), lines


def test_unfollowed_and_key_patterns_name_top_level_fields_as_they_are_spelt(write: Write, check: Check) -> None:
    text = DOTTED.replace(
        "      - name: parcel\n", "      - name: parcel\n        charter: {unfollowed: [street.copy]}\n"
    )
    assert [f.render() for f in check(write("shop.yaml", text)).findings if f.severity == "error"] == []
    nested = DOTTED.replace(
        "      - name: member\n", "      - name: member\n        charter: {unfollowed: [addr.line2]}\n"
    )
    assert "'addr.line2' is not a field of 'shop.member'" in rendered(check(write("n.yaml", nested)))[0]
