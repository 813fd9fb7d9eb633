"""A banner choice checked against the banner served and turned into ledger events (P-TRK-1, P-COL-4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from charter.banner.choices import (
    Choice,
    IncompleteChoice,
    StaleBanner,
    UnknownCookieClass,
    allowed_purposes,
    check,
    choice_events,
)
from charter.banner.view import BannerView
from charter.decisions.state import EMPTY
from charter.ledger.events import EventKind, Source
from charter.ledger.projection import project

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
COOKIE = "0123456789abcdef0123456789abcdef"


def choice(view: BannerView, **choices: bool) -> Choice:
    return Choice(COOKIE, choices, view.sha256, view.statement_version)


def test_check_gives_every_refusable_class_in_order(v2023: BannerView) -> None:
    got = check(v2023, choice(v2023, marketing=True, analytics=False, functional=True))
    assert list(got.items()) == [("functional", True), ("analytics", False), ("marketing", True)]


def test_a_stale_version_or_text_is_a_conflict(v2023: BannerView) -> None:
    ok = choice(v2023, functional=True, analytics=False, marketing=False)
    with pytest.raises(StaleBanner, match="2023-01-01 is"):
        check(v2023, Choice(COOKIE, ok.choices, ok.banner_sha256, "2019-04-04"))
    with pytest.raises(StaleBanner, match="text changed"):
        check(v2023, Choice(COOKIE, ok.choices, "0" * 64, ok.statement_version))
    assert StaleBanner.status == 409


def test_unknown_required_and_missing_classes_are_named(v2023: BannerView) -> None:
    with pytest.raises(UnknownCookieClass, match="cookie class tracking is not in statement 2023-01-01"):
        check(v2023, choice(v2023, functional=True, analytics=False, marketing=False, tracking=True))
    with pytest.raises(UnknownCookieClass, match=r"\(not a class name\)"):
        check(v2023, Choice(COOKIE, {"<script>": True}, v2023.sha256, v2023.statement_version))
    with pytest.raises(UnknownCookieClass, match="necessary is required"):
        check(v2023, choice(v2023, necessary=False, functional=True, analytics=False, marketing=False))
    with pytest.raises(IncompleteChoice, match="nothing about analytics, marketing"):
        check(v2023, choice(v2023, functional=True))


def test_refusing_analytics_withdraws_each_of_its_purposes(v2023: BannerView) -> None:
    choices = {"functional": True, "analytics": False, "marketing": True}
    events = choice_events(v2023, choices, EMPTY, at=AT)
    assert {e.source for e in events} == {Source.BANNER}
    assert {e.statement_version for e in events} == {"2023-01-01"}
    assert {e.evidence["banner_sha256"] for e in events} == {v2023.sha256}
    state = project(events)
    for purpose in ("content_measurement", "measure_marketing_effectiveness", "improve_services"):
        assert not state.consented(purpose)
    assert state.consented("remember_preferences") and state.consented("cross_site_tracking")
    # content_measurement is an opt-out purpose: the engine's opt-out rules see the refusal too.
    assert state.opted_out == {"content_measurement"}
    assert state.preferences == {"cookies.functional": True, "cookies.analytics": False, "cookies.marketing": True}
    assert "provide_services" not in state.consents  # the necessary class is not a choice


def test_accepting_again_opts_back_in_only_what_was_opted_out(v2023: BannerView) -> None:
    refused = project(choice_events(v2023, {"functional": False, "analytics": False, "marketing": False}, EMPTY, at=AT))
    assert refused.opted_out == {"remember_preferences", "content_measurement", "cross_site_tracking"}
    again = choice_events(v2023, {"functional": False, "analytics": True, "marketing": False}, refused, at=AT)
    assert [e.data["purpose"] for e in again if e.kind == EventKind.OPTED_IN] == ["content_measurement"]
    assert not [e for e in again if e.kind == EventKind.OPTED_OUT]  # already opted out: not said twice
    state = project(again, refused)
    assert state.opted_out == {"remember_preferences", "cross_site_tracking"}
    assert state.consented("improve_services")


def test_a_purpose_in_two_classes_needs_both(v2023: BannerView) -> None:
    from dataclasses import replace

    functional = v2023.class_of("functional")
    analytics = v2023.class_of("analytics")
    assert functional is not None and analytics is not None
    shared = replace(functional, purposes=(*functional.purposes, analytics.purposes[2]))
    view = replace(v2023, classes=tuple(shared if c.id == "functional" else c for c in v2023.classes))
    allowed = allowed_purposes(view, {"functional": True, "analytics": False, "marketing": True})
    assert allowed["improve_services"] is False
    assert allowed["remember_preferences"] is True
