"""The policy diff: what changed, and which changes must be announced (P-STM-2)."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from charter.policy.diff import Change, diff
from charter.policy.schema import Statement
from tests.strategies import example_documents, statements

MIRROR = {"added": "removed", "removed": "added", "changed": "changed"}


def _examples() -> tuple[Statement, Statement]:
    old, new = example_documents()
    return Statement.model_validate(old), Statement.model_validate(new)


def _by_path(changes: list[Change]) -> dict[str, Change]:
    return {c.path: c for c in changes}


@given(statements())
@settings(max_examples=40, deadline=None)
def test_diff_of_a_statement_with_itself_is_empty(statement: Statement) -> None:
    """P-STM-2: nothing to announce when nothing changed."""
    assert diff(statement, statement) == []


@given(statements(), statements())
@settings(max_examples=40, deadline=None)
def test_every_change_is_mirrored_in_the_reverse_diff(a: Statement, b: Statement) -> None:
    forward, backward = diff(a, b), _by_path(diff(b, a))
    assert len(forward) == len(backward)
    for change in forward:
        mirror = backward[change.path]
        assert mirror.kind == MIRROR[change.kind]
        assert (mirror.old, mirror.new) == (change.new, change.old)


@given(st.sampled_from(example_documents()), st.integers(min_value=1, max_value=30))
@settings(max_examples=20, deadline=None)
def test_longer_retention_is_substantive_and_shorter_is_not(document: dict, years: int) -> None:
    """P-RET-1 / P-STM-2: keeping data longer must be announced."""
    longer = copy.deepcopy(document)
    rule = longer["retention"]["rules"][0]
    rule["period"] = "1 day"
    base = Statement.model_validate(longer)
    rule["period"] = f"{years} years"
    extended = Statement.model_validate(longer)
    [up] = diff(base, extended)
    [down] = diff(extended, base)
    assert up.substantive and "longer" in up.reason
    assert not down.substantive


def test_contact_details_and_wording_are_not_substantive() -> None:
    doc = copy.deepcopy(example_documents()[1])
    doc["contacts"][0]["name"] = "Someone Else"
    doc["contacts"][0]["address"] = ["1 New Street"]
    doc["introduction"] = "New words."
    doc["purposes"][0]["description"] = "Said differently."
    changes = diff(Statement.model_validate(example_documents()[1]), Statement.model_validate(doc))
    assert changes and not any(c.substantive for c in changes)


def test_2019_to_2023_surfaces_the_real_changes_of_the_seeds() -> None:
    """The West statements: the changes a person must be told of are found and explained."""
    old, new = _examples()
    changes = _by_path(diff(old, new))
    substantive = {path for path, c in changes.items() if c.substantive}

    assert changes["collection.minimum_age.age"].old == 13
    assert changes["collection.minimum_age.age"].new == 18
    assert "collection.minimum_age.age" in substantive
    assert "organization.name" in substantive
    assert "regimes[data_analytics]" in substantive  # P-USE-5: analytics by explicit consent
    assert any(p.startswith("purposes[analytics_") for p in substantive)
    assert "transfers.mechanisms[privacy_shield]" in substantive  # Privacy Shield gone
    assert "transfers.mechanisms[standard_contractual_clauses]" in substantive  # P-SHR-5: SCCs
    assert "regimes[schoolmessenger]" in substantive  # school-data protections dropped
    assert "retention.deletion_may_be_refused_for_legal_obligation" in substantive  # P-RET-2
    assert "rights.jurisdictions[california]" in changes  # CCPA rights added (good news)
    assert not changes["rights.jurisdictions[california]"].substantive
    assert not changes["purposes[sell_personal_information]"].substantive  # named only to forbid it
    assert not changes["regimes[never_sold]"].substantive  # P-USE-6 adds a protection
    assert not any(c.substantive for p, c in changes.items() if p.startswith("contacts"))


def test_consent_becoming_required_is_substantive() -> None:
    doc = copy.deepcopy(example_documents()[1])
    purpose = next(p for p in doc["purposes"] if p["consent"] == "none")
    old = Statement.model_validate(doc)
    purpose["consent"] = "opt_in"
    [change] = diff(old, Statement.model_validate(doc))
    assert change.substantive and "consent" in change.reason


def test_a_narrowed_right_is_substantive() -> None:
    doc = copy.deepcopy(example_documents()[1])
    jurisdiction = doc["rights"]["jurisdictions"][0]
    removed = jurisdiction["rights"].pop()
    changes = diff(Statement.model_validate(example_documents()[1]), Statement.model_validate(doc))
    assert [(c.kind, c.substantive) for c in changes] == [("removed", True)]
    assert changes[0].old["right"] == removed["right"]


def test_a_new_recipient_or_country_is_substantive() -> None:
    doc = copy.deepcopy(example_documents()[1])
    doc["transfers"]["countries"].append("BR")
    doc["recipients"].append(
        {
            "id": "new_cloud",
            "name": "New cloud",
            "kind": "processor",
            "description": "Hosts data.",
            "basis": "contract",
            "promises": ["P-SHR-1"],
            "cite": "Sharing",
        }
    )
    changes = diff(Statement.model_validate(example_documents()[1]), Statement.model_validate(doc))
    assert {(c.path, c.substantive) for c in changes} == {
        ("transfers.countries[BR]", True),
        ("recipients[new_cloud]", True),
    }
