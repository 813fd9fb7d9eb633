"""Planning, pure: the West data map for every request type, and random reference graphs.

Promises: P-RGT-1/5 (every collection the identities reach is read once),
P-RGT-3 (children erased before parents, then verified), P-RGT-2
(correction updates the named fields), P-SEC-1 (no identity value in a plan).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from charter.datamap import service as datamaps
from charter.datamap.model import DataMap
from charter.errors import InvalidInput
from charter.execution import plan
from charter.execution.steps import Action, Plan, mask
from charter.requests.kinds import LEDGER_KINDS, RequestKind
from charter.settings import Settings
from tests.conftest import EXAMPLES

EMAIL = "ana.lopez@example.org"
PHONE = "+14155550123"
SETTINGS = Settings.load(env="test", home=Path("/nonexistent/charter-home"))


def west() -> DataMap:
    return datamaps.load(EXAMPLES / "datamap", SETTINGS)


WEST = west()


def planned(kind: RequestKind, identities: dict[str, list[str]] | None = None, **extra: Any) -> Plan:
    wanted = plan.PlanRequest("req-1", kind, identities or {"email": [EMAIL]}, **extra)
    return plan.build(WEST, wanted)


def keys(result: Plan, action: Action) -> list[str]:
    return [s.collection for s in result.of(action)]


def assert_ordered(result: Plan) -> None:
    """Every dependency comes earlier in the list; ids are unique."""
    seen: set[str] = set()
    for step in result.steps:
        assert set(step.depends_on) <= seen, step
        seen.add(step.id)
    assert len(seen) == len(result.steps)


@pytest.mark.parametrize("kind", [RequestKind.ACCESS, RequestKind.PORTABILITY])
def test_access_reads_every_west_collection_once_from_the_email(kind: RequestKind) -> None:
    result = planned(kind)
    assert_ordered(result)
    assert {s.action for s in result.steps} == {Action.FETCH}
    assert keys(result, Action.FETCH) == [
        "west_shop.customers",
        "west_support.tickets",
        "west_shop.addresses",
        "west_shop.orders",
        "west_support.messages",
        "west_shop.order_items",
        "west_shop.payments",
    ]
    customers, tickets, _addresses, orders, messages, items, _payments = result.steps
    assert [i.render() for i in customers.inputs] == ["email IN identity:email"]
    assert (customers.system, tickets.system) == ("shop", "support")
    assert [i.render() for i in messages.inputs] == [f"ticket_id IN {tickets.id}.id"]
    assert items.depends_on == (orders.id,)
    assert result.not_searched == () and result.kept == ()


def test_deletion_erases_children_first_keeps_orders_and_verifies() -> None:
    result = planned(RequestKind.DELETION)
    assert_ordered(result)
    erased = keys(result, Action.ERASE)
    assert set(erased) == {
        "west_shop.addresses",
        "west_shop.payments",
        "west_shop.customers",
        "west_support.messages",
        "west_support.tickets",
    }
    assert erased.index("west_support.messages") < erased.index("west_support.tickets")
    assert erased.index("west_shop.addresses") < erased.index("west_shop.customers")
    assert erased.index("west_shop.payments") < erased.index("west_shop.customers")
    by_key = {s.collection: s for s in result.of(Action.ERASE)}
    assert by_key["west_shop.addresses"].strategy == "delete_row"
    customers = by_key["west_shop.customers"]
    assert [f.render() for f in customers.fields] == [
        "birth_date=generalize_date to year",
        "email=keyed_hash",
        "first_name=redact_text",
        "last_name=redact_text",
        "phone=set_null",
    ]
    assert customers.fields[2].replacement == "(erased)"
    # payments are erased before customers although orders (kept) sit between them
    assert by_key["west_shop.payments"].id in customers.depends_on
    # every erasure waits for the whole discovery
    fetch_ids = {s.id for s in result.of(Action.FETCH)}
    assert all(fetch_ids <= set(s.depends_on) for s in result.of(Action.ERASE))
    # erasure works on the rows discovery found, by primary key
    assert [i.render() for i in by_key["west_support.tickets"].inputs] == [f"id IN {result.of(Action.FETCH)[1].id}.id"]
    assert sorted(keys(result, Action.VERIFY)) == sorted(erased)
    assert result.steps[-1].action == Action.VERIFY
    fetch_of = {s.collection: s for s in result.of(Action.FETCH)}
    for verify in result.of(Action.VERIFY):
        assert verify.inputs == fetch_of[verify.collection].inputs
        assert set(verify.depends_on) == {s.id for s in result.of(Action.ERASE)}
    assert [k.collection for k in result.kept] == ["west_shop.order_items", "west_shop.orders"]
    assert "tax records, kept 10 years (p-ret-2)" in result.kept[1].reason.lower()


def test_correction_updates_the_named_field_and_reads_only_what_leads_there() -> None:
    result = planned(RequestKind.CORRECTION, fields=["last_name"])
    assert [(s.action, s.collection) for s in result.steps] == [
        (Action.FETCH, "west_shop.customers"),
        (Action.UPDATE, "west_shop.customers"),
    ]
    update = result.steps[1]
    assert [f.field for f in update.fields] == ["last_name"]
    assert update.depends_on == (result.steps[0].id,)
    by_category = planned(RequestKind.CORRECTION, fields=["user.name"])
    assert {(s.collection, tuple(f.field for f in s.fields)) for s in by_category.of(Action.UPDATE)} == {
        ("west_shop.customers", ("first_name", "last_name")),
        ("west_shop.payments", ("card_holder",)),
    }
    assert_ordered(by_category)


def test_a_correction_naming_no_known_field_says_so() -> None:
    result = planned(RequestKind.CORRECTION, fields=["shoe size"])
    assert result.of(Action.UPDATE) == []
    assert result.steps == ()
    assert any("matches no field" in note for note in result.notes)


@pytest.mark.parametrize("kind", sorted(LEDGER_KINDS))
def test_ledger_kinds_have_no_data_store_steps(kind: RequestKind) -> None:
    result = planned(kind)
    assert result.steps == ()
    assert "consent ledger" in result.notes[0]


def test_phone_number_alias_and_two_identities() -> None:
    result = planned(RequestKind.ACCESS, {"email": [EMAIL], "phone_number": [PHONE]})
    customers = result.steps[0]
    assert [i.render() for i in customers.inputs] == ["email IN identity:email", "phone IN identity:phone"]
    assert [i.kind for i in result.identities] == ["email", "phone"]


def test_unknown_identity_kind_names_the_kind_and_the_known_ones() -> None:
    with pytest.raises(plan.UnknownIdentityKind) as caught:
        planned(RequestKind.ACCESS, {"loyalty_card": ["12345"]})
    assert caught.value.status == 422
    assert "'loyalty_card'" in caught.value.detail
    assert "email, phone" in caught.value.detail and "account_id" in caught.value.detail
    assert "12345" not in caught.value.detail


def test_no_identity_value_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        planned(RequestKind.ACCESS, {"email": []})


def test_identities_that_reach_nothing_give_an_honest_empty_plan() -> None:
    result = planned(RequestKind.DELETION, {"account_id": ["acct-77"]})
    assert result.steps == ()
    assert len(result.not_searched) == 7
    reasons = {n.collection: n.reason for n in result.not_searched}
    assert "(account_id)" in reasons["west_shop.orders"]
    assert "email, phone would reach it" in reasons["west_shop.orders"]
    assert "email, phone would reach it" in reasons["west_support.messages"]  # phone: via the e-mail on her row
    assert any("reach no collection" in note for note in result.notes)


def test_phone_alone_reaches_support_through_the_e_mail_on_her_own_rows() -> None:
    """Issue 11, finding 7: an identity found on the person's own rows is theirs (P-RGT-1)."""
    result = planned(RequestKind.ACCESS, {"phone": [PHONE]})
    fetches = {s.collection: s for s in result.of(Action.FETCH)}
    assert "west_support.tickets" in fetches and result.not_searched == ()
    customers = fetches["west_shop.customers"]
    assert [i.render() for i in fetches["west_support.tickets"].inputs] == [f"email IN {customers.id}.email"]
    assert [i.render() for i in customers.inputs] == ["phone IN identity:phone"]


@pytest.mark.parametrize("kind", list(RequestKind))
def test_a_plan_never_contains_an_identity_value(kind: RequestKind) -> None:
    result = planned(kind, {"email": [EMAIL], "phone": [PHONE]}, fields=["phone"])
    text = json.dumps(result.as_dict()) + repr(result)
    for value in (EMAIL, PHONE, "ana.lopez", "example.org", "5550123"):
        assert value not in text
    assert {i.masked for i in result.identities} == {"a***@e***.org", "***23"}


def test_masks_show_little() -> None:
    assert mask("email", "a@b.co") == "a***@b***.co"
    assert mask("email", "nodomain") == "n***"
    assert mask("phone", "+1415") == "***"
    assert mask("account_id", "abc") == "***"
    assert mask("account_id", "acct-77") == "a***"


def test_step_ids_depend_on_the_request() -> None:
    one, other = (
        planned(RequestKind.DELETION),
        plan.build(WEST, plan.PlanRequest("req-2", RequestKind.DELETION, {"email": [EMAIL]})),
    )
    assert [s.id for s in one.steps] == [s.id for s in planned(RequestKind.DELETION).steps]
    assert not {s.id for s in one.steps} & {s.id for s in other.steps}


# -- random acyclic reference graphs -------------------------------------


@st.composite
def reference_maps(draw: st.DrawFn) -> tuple[str, dict[int, list[int]], set[int], set[int]]:
    """A one-system map of n collections; c{i} may reference the primary key of any c{j} with j < i.

    Returns (YAML text, parents of each collection, collections with an e-mail identity, erased ones).
    """
    n = draw(st.integers(min_value=1, max_value=7))
    parents = {i: sorted(draw(st.sets(st.integers(0, i - 1), max_size=3))) if i else [] for i in range(n)}
    with_identity = draw(st.sets(st.integers(0, n - 1), max_size=n))
    erased = draw(st.sets(st.integers(0, n - 1), max_size=n))
    directed = draw(st.booleans())
    collections: list[dict[str, Any]] = []
    for i in range(n):
        fields: list[dict[str, Any]] = [{"name": "id", "fides_meta": {"primary_key": True}}]
        if i in with_identity:
            fields.append(
                {"name": "email", "data_categories": ["user.contact.email"], "fides_meta": {"identity": "email"}}
            )
        for j in parents[i]:
            reference: dict[str, Any] = {"dataset": "d", "field": f"c{j}.id"}
            if directed:
                reference["direction"] = "from"
            fields.append({"name": f"c{j}_id", "fides_meta": {"references": [reference]}})
        collection: dict[str, Any] = {"name": f"c{i}", "fields": fields}
        if i in erased:
            collection["charter"] = {"erasure": "delete_row"}
        collections.append(collection)
    document = {
        "systems": [{"id": "s", "kind": "sql", "url": "sqlite:///s.db", "datasets": ["d"]}],
        "dataset": [{"fides_key": "d", "collections": collections}],
    }
    return yaml.safe_dump(document), parents, with_identity, erased


def reachable(parents: dict[int, list[int]], starts: set[int], directed: bool) -> set[int]:
    children: dict[int, set[int]] = {i: set() for i in parents}
    for child, ps in parents.items():
        for p in ps:
            children[p].add(child)
    seen = set(starts)
    frontier = list(starts)
    while frontier:
        node = frontier.pop()
        nexts = children[node] | (set() if directed else set(parents[node]))
        for successor in nexts - seen:
            seen.add(successor)
            frontier.append(successor)
    return seen


@settings(max_examples=150, deadline=None)
@given(reference_maps())
def test_random_reference_graphs(drawn: tuple[str, dict[int, list[int]], set[int], set[int]]) -> None:
    text, parents, with_identity, erased = drawn
    report = datamaps.check_sources([("gen.yaml", text)], SETTINGS)
    datamap = report.datamap
    directed = "direction" in text
    result = plan.build(datamap, plan.PlanRequest("r", RequestKind.DELETION, {"email": ["x@example.org"]}))
    again = plan.build(datamap, plan.PlanRequest("r", RequestKind.DELETION, {"email": ["x@example.org"]}))
    assert_ordered(result)
    assert [s.id for s in result.steps] == [s.id for s in again.steps]  # stable across runs
    expected = {f"d.c{i}" for i in reachable(parents, with_identity, directed)}
    fetched = keys(result, Action.FETCH)
    assert sorted(fetched) == sorted(expected) and len(fetched) == len(set(fetched))  # each exactly once
    assert {n.collection for n in result.not_searched} == {f"d.c{i}" for i in range(len(parents))} - expected
    position = {s.collection: n for n, s in enumerate(result.of(Action.ERASE))}
    # erased: delete_row, else the identity field by the default erasure policy (P-RGT-3, issue 11 finding 1)
    assert set(position) == {f"d.c{i}" for i in erased | with_identity} & expected
    for child, ps in parents.items():
        for parent in ps:
            a, b = f"d.c{child}", f"d.c{parent}"
            if a in position and b in position:
                assert position[a] < position[b]  # children first
                erases = result.of(Action.ERASE)
                assert erases[position[a]].id in erases[position[b]].depends_on


LINKED = """\
systems: [{id: s, kind: sql, url: "sqlite:///s.db", datasets: [d]}]
dataset:
  - fides_key: d
    collections:
      - name: customer
        fields:
          - {name: id, fides_meta: {primary_key: true}}
          - {name: email, data_categories: [user.contact.email], fides_meta: {identity: email}}
          - {name: phone, data_categories: [user.contact.phone_number], fides_meta: {identity: phone_number}}
      - name: ticket
        fields:
          - {name: id, fides_meta: {primary_key: true}}
          - name: customer_id
            fides_meta: {references: [{dataset: d, field: customer.id, direction: from}]}
          - {name: email, data_categories: [user.contact.email], fides_meta: {identity: email}}
      - name: call
        fields:
          - {name: id, fides_meta: {primary_key: true}}
          - name: ticket_id
            fides_meta: {references: [{dataset: d, field: ticket.id, direction: from}]}
          - {name: phone, data_categories: [user.contact.phone_number], fides_meta: {identity: phone_number}}
"""


def test_linked_identities_never_cost_a_reference_its_input() -> None:
    """Issue 11: a ticket with an e-mail of its own is still searched by its customer's id (the model-based test
    found it lost once identities were linked); a call reached by its ticket and by the customer's phone is
    searched both ways (P-RGT-1)."""
    datamap = datamaps.check_sources([("linked.yaml", LINKED)], SETTINGS).datamap
    result = plan.build(datamap, plan.PlanRequest("r", RequestKind.ACCESS, {"email": ["a@example.org"]}))
    fetch = {s.collection: s for s in result.of(Action.FETCH)}
    customer, ticket = fetch["d.customer"].id, fetch["d.ticket"].id
    assert sorted(i.render() for i in fetch["d.ticket"].inputs) == sorted(
        ["email IN identity:email", f"customer_id IN {customer}.id", f"email IN {customer}.email"]
    )
    assert sorted(i.render() for i in fetch["d.call"].inputs) == sorted(
        [f"phone IN {customer}.phone", f"ticket_id IN {ticket}.id"]
    )
