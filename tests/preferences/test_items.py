"""What the statement lets a person change, in its own words, and what each change records.

Promises: P-USE-5 (analytics only with consent, withdrawable), P-USE-6
(sale is never offered), P-USE-2 (marketing preferences), P-TRK-2 (sale and
sharing opt-out, GPC), P-TRK-3 (unsubscribe), P-COL-4 (the statement's version).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from charter.decisions.state import EMPTY, Consent
from charter.ledger.events import EventKind, Source
from charter.ledger.projection import project
from charter.policy.loader import load
from charter.policy.render import render
from charter.policy.schema import Statement
from charter.preferences.errors import InvalidChoice
from charter.preferences.items import (
    EMAIL_KEY,
    SALE_SHARING_KEY,
    ItemKind,
    allowed,
    changes,
    events_for,
    fingerprint,
    items_of,
    parse_choices,
)
from tests.conftest import EXAMPLES

AT = datetime(2024, 3, 1, 12, tzinfo=UTC)
ANALYTICS = "consent.analytics_trends_benchmarks"


def statement(name: str) -> Statement:
    text = (EXAMPLES / name).read_text()
    return load(text, source=name, max_bytes=10_000_000, max_nodes=1_000_000).statement


@pytest.fixture(scope="module")
def s2023() -> Statement:
    return statement("statement-2023.yaml")


def test_the_2023_statement_offers_analytics_consents_opt_outs_sale_and_email(s2023: Statement) -> None:
    items = items_of(s2023)
    keys = [i.key for i in items]
    consents = [i for i in items if i.kind is ItemKind.CONSENT]
    assert sum(k.startswith("consent.analytics_") for k in keys) == 9  # P-USE-5: the nine purposes
    assert "consent.sell_personal_information" not in keys  # P-USE-6: forbidden for everyone
    assert "opt_out.marketing_new_services" in keys  # P-USE-2
    assert keys[-2:] == [SALE_SHARING_KEY, EMAIL_KEY]
    assert keys.index(consents[-1].key) < keys.index("opt_out.marketing_new_services")
    analytics = next(i for i in items if i.key == ANALYTICS)
    assert analytics.label == "Data analytics: Aggregate data to identify trends and benchmarks"
    assert analytics.written and "written notice" in analytics.note and "not a condition" in analytics.note
    assert analytics.anchor == "/privacy/versions/2023-01-01#purpose-analytics_trends_benchmarks"
    assert "Global Privacy Control" in next(i for i in items if i.key == SALE_SHARING_KEY).note
    assert "open an e-mail" in next(i for i in items if i.key == EMAIL_KEY).note


@pytest.mark.parametrize("name", ["statement-2019.yaml", "statement-2023.yaml"])
def test_every_link_lands_on_an_anchor_of_the_rendered_statement(name: str) -> None:
    document = statement(name)
    ids = set(re.findall(r'id="([^"]+)"', render(document, "html")))
    items = items_of(document)
    assert items
    for item in items:
        path, _, anchor = item.anchor.partition("#")
        assert path == f"/privacy/versions/{document.version}"
        assert anchor in ids, item.key


def test_current_answers_come_from_the_ledger_state(s2023: Statement) -> None:
    items = {i.key: i for i in items_of(s2023)}
    assert not allowed(items[ANALYTICS], EMPTY)  # opt-in: no until given
    assert allowed(items["opt_out.marketing_new_services"], EMPTY)  # opt-out: yes until refused
    assert allowed(items[SALE_SHARING_KEY], EMPTY) and allowed(items[EMAIL_KEY], EMPTY)
    state = EMPTY.__class__(
        consents={"analytics_trends_benchmarks": Consent(given=True, at=AT)},
        opted_out=frozenset({"marketing_new_services"}),
        sale_sharing_opt_out=True,
        unsubscribed=True,
    )
    assert allowed(items[ANALYTICS], state)
    assert not any(allowed(items[k], state) for k in ("opt_out.marketing_new_services", SALE_SHARING_KEY, EMAIL_KEY))


def test_only_the_answers_that_differ_become_events_under_the_statement(s2023: Statement) -> None:
    items = items_of(s2023)
    form = {
        ANALYTICS: "yes",
        "consent.analytics_customer_insight": "no",  # never given: no event
        "opt_out.marketing_new_services": "no",
        SALE_SHARING_KEY: "no",
        EMAIL_KEY: "yes",  # already subscribed: no event
        "csrf_token": "ignored",
        "consent.telepathy": "yes",  # not an item: ignored
    }
    found = changes(items, EMPTY, parse_choices(items, form))
    assert [c.item.key for c in found] == [ANALYTICS, "opt_out.marketing_new_services", SALE_SHARING_KEY]
    events = events_for(found, at=AT, statement_version="2023-01-01", evidence={"form_sha256": fingerprint(items)})
    assert [e.kind for e in events] == [
        EventKind.CONSENT_GIVEN,
        EventKind.OPTED_OUT,
        EventKind.SALE_SHARING_OPTED_OUT,
    ]
    assert all(e.source is Source.PRIVACY_CENTER and e.statement_version == "2023-01-01" for e in events)
    assert events[0].data == {"purpose": "analytics_trends_benchmarks"}
    assert len(events[0].evidence["form_sha256"]) == 64
    state = project(events)
    assert state.consented("analytics_trends_benchmarks") and state.sale_sharing_opt_out

    back = changes(
        items,
        state,
        parse_choices(
            items, {ANALYTICS: "no", "opt_out.marketing_new_services": "yes", SALE_SHARING_KEY: "yes", EMAIL_KEY: "no"}
        ),
    )
    undo = events_for(back, at=AT, statement_version="2023-01-01")
    assert [e.kind for e in undo] == [
        EventKind.CONSENT_WITHDRAWN,
        EventKind.OPTED_IN,
        EventKind.SALE_SHARING_OPTED_IN,
        EventKind.UNSUBSCRIBED,
    ]
    assert undo[0].data == {"purpose": "analytics_trends_benchmarks", "written": True}  # P-USE-5: written notice
    after = project(undo, state)
    assert not after.consented("analytics_trends_benchmarks") and after.consents["analytics_trends_benchmarks"].written


@pytest.mark.parametrize("value", ["on", "", "YES", "true", "1"])
def test_an_answer_that_was_not_offered_is_refused(s2023: Statement, value: str) -> None:
    with pytest.raises(InvalidChoice, match="must be yes or no"):
        parse_choices(items_of(s2023), {ANALYTICS: value})


def test_the_fingerprint_changes_with_the_wording(s2023: Statement) -> None:
    items = items_of(s2023)
    assert fingerprint(items) == fingerprint(items_of(s2023))
    assert fingerprint(items) != fingerprint(items[1:])
