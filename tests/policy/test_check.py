"""Meaning checks: references resolve and promises are keepable."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from charter.errors import PolicyInvalid
from charter.policy.check import ensure_valid
from charter.policy.loader import load
from tests.conftest import EXAMPLES


def check_lines(document: dict) -> list[str]:
    with pytest.raises(PolicyInvalid) as caught:
        ensure_valid(load(yaml.safe_dump(document, sort_keys=False), source="p.yaml"))
    return [p.render() for p in caught.value.problems]


@pytest.fixture
def document() -> dict:
    return yaml.safe_load((EXAMPLES / "statement-2023.yaml").read_text())


@pytest.mark.parametrize("name", ["statement-2019.yaml", "statement-2023.yaml"])
def test_the_examples_are_valid(name: str) -> None:
    path: Path = EXAMPLES / name
    ensure_valid(load(path.read_text(), source=str(path)))


def test_unknown_category_suggests_a_known_one(document: dict) -> None:
    document["rules"][0]["categories"] = ["user.contact.emial"]
    [line] = check_lines(document)
    assert (
        "rules[0].categories[0]: unknown data category 'user.contact.emial'; did you mean 'user.contact.email'?" in line
    )
    assert line.startswith("p.yaml:")


def test_rule_citing_an_unknown_purpose(document: dict) -> None:
    document["rules"][0]["purposes"] = ["no_such_purpose"]
    [line] = check_lines(document)
    assert "rules[0].purposes[0]: unknown purpose 'no_such_purpose'" in line


def test_retention_period_that_is_not_a_duration(document: dict) -> None:
    document["retention"]["rules"][0]["period"] = "forever-ish"
    [line] = check_lines(document)
    assert "retention.rules[0].period" in line and "is not a duration" in line


def test_offered_right_without_a_deadline(document: dict) -> None:
    jurisdiction = document["rights"]["jurisdictions"][0]
    jurisdiction.pop("deadline", None)
    jurisdiction["rights"][0].pop("deadline", None)
    lines = check_lines(document)
    assert any("has no deadline" in line for line in lines)


def test_duplicate_ids_and_unknown_services(document: dict) -> None:
    document["purposes"].append(copy.deepcopy(document["purposes"][0]))
    document["rules"][0].setdefault("when", {})["services"] = ["nowhere"]
    lines = check_lines(document)
    assert any("duplicate purpose id" in line for line in lines)
    assert any("unknown service 'nowhere'" in line for line in lines)


def test_promise_ids_and_citations_are_required(document: dict) -> None:
    document["rules"][0]["promises"] = []
    document["rules"][0]["cite"] = ""
    lines = check_lines(document)
    assert any("rules[0].promises" in line for line in lines)
    assert any("rules[0].cite" in line for line in lines)


def test_vocabulary_extension_needs_a_known_parent(document: dict) -> None:
    document.setdefault("vocabulary", {})["data_categories"] = [{"key": "user.nowhere.thing", "name": "Thing"}]
    [line] = check_lines(document)
    assert "parent 'user.nowhere'" in line
