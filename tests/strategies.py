"""Hypothesis strategies for statements: the real examples, randomly changed.

Starting from the encoded seeds keeps every drawn statement realistic and
valid; the mutations are the kinds of edit a privacy office makes (a new
purpose, a dropped recipient, a longer retention, a new country …).
"""

from __future__ import annotations

import copy
import string
from collections.abc import Callable
from functools import cache
from typing import Any

import yaml
from hypothesis import strategies as st

from charter.policy.schema import Statement
from tests.conftest import EXAMPLES

Document = dict[str, Any]
NAME = st.text(alphabet=string.ascii_letters + " ", min_size=3, max_size=30).map(str.strip).filter(bool)
IDENT = st.text(alphabet=string.ascii_lowercase, min_size=3, max_size=12).map(lambda s: f"x_{s}")


@cache
def example_documents() -> tuple[Document, ...]:
    """The two examples as validated, plain documents."""
    docs = []
    for name in ("statement-2019.yaml", "statement-2023.yaml"):
        raw = yaml.safe_load((EXAMPLES / name).read_text())
        docs.append(Statement.model_validate(raw).model_dump(mode="json"))
    return tuple(docs)


def _add_purpose(doc: Document, ident: str, name: str) -> None:
    doc["purposes"].append(
        {
            "id": ident,
            "name": name,
            "data_use": "marketing.communications.email",
            "legal_basis": "consent",
            "consent": "opt_in",
            "promises": ["P-USE-1"],
            "cite": "Test",
        }
    )


def _drop_recipient(doc: Document, ident: str, name: str) -> None:
    used = {r for rule in Statement.model_validate(doc).all_rules() for r in rule.recipients}
    free = [r for r in doc["recipients"] if r["id"] not in used]
    if free:
        doc["recipients"].remove(free[len(ident) % len(free)])


def _add_recipient(doc: Document, ident: str, name: str) -> None:
    doc["recipients"].append(
        {
            "id": ident,
            "name": name,
            "kind": "processor",
            "description": f"{name} processes data.",
            "basis": "contract",
            "promises": ["P-SHR-1"],
            "cite": "Test",
        }
    )


def _longer_retention(doc: Document, ident: str, name: str) -> None:
    if doc["retention"]["rules"]:
        rule = doc["retention"]["rules"][len(ident) % len(doc["retention"]["rules"])]
        rule["period"] = f"{len(name) + 20} years"


def _add_country(doc: Document, ident: str, name: str) -> None:
    code = ident[2:4].upper()
    if code not in doc["transfers"]["countries"]:
        doc["transfers"]["countries"].append(code)


def _rename_contact(doc: Document, ident: str, name: str) -> None:
    if doc["contacts"]:
        doc["contacts"][0]["name"] = name


def _toggle_consent(doc: Document, ident: str, name: str) -> None:
    purpose = doc["purposes"][len(ident) % len(doc["purposes"])]
    purpose["consent"] = "none" if purpose["consent"] != "none" else "opt_in"


def _change_age(doc: Document, ident: str, name: str) -> None:
    if doc["collection"].get("minimum_age"):
        doc["collection"]["minimum_age"]["age"] = 13 + len(name) % 6


def _reword(doc: Document, ident: str, name: str) -> None:
    doc["introduction"] = f"{doc['introduction']} {name}".strip()


def _add_right(doc: Document, ident: str, name: str) -> None:
    jurisdiction = doc["rights"]["jurisdictions"][0]
    offered = {r["right"] for r in jurisdiction["rights"]}
    for right in ("complain", "know_transfers", "opt_out_sale", "limit_use"):
        if right not in offered:
            jurisdiction["rights"].append({"right": right, "deadline": "30 days"})
            return


MUTATIONS: list[Callable[[Document, str, str], None]] = [
    _add_purpose,
    _drop_recipient,
    _add_recipient,
    _longer_retention,
    _add_country,
    _rename_contact,
    _toggle_consent,
    _change_age,
    _reword,
    _add_right,
]


@st.composite
def statements(draw: st.DrawFn) -> Statement:
    """A valid statement: one of the examples with up to five random edits."""
    doc = copy.deepcopy(draw(st.sampled_from(example_documents())))
    for mutate in draw(st.lists(st.sampled_from(MUTATIONS), max_size=5)):
        ident = draw(IDENT.filter(lambda i: i not in {p["id"] for p in doc["purposes"] + doc["recipients"]}))
        mutate(doc, ident, draw(NAME))
    return Statement.model_validate(doc)
