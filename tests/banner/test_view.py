"""The banner built from a statement: classes, purposes, defaults, signals, evidence hash (P-TRK-1/2)."""

from __future__ import annotations

import json

from charter.banner.view import POLICY_PATH, BannerView, banner_sha256, build
from charter.policy.schema import CookieClass, Statement, Tracking


def test_classes_come_from_the_statement_in_its_order(v2023: BannerView) -> None:
    assert [c.id for c in v2023.classes] == ["necessary", "functional", "analytics", "marketing"]
    assert [c.id for c in v2023.choosable] == ["functional", "analytics", "marketing"]
    analytics = v2023.class_of("analytics")
    assert analytics is not None
    assert analytics.name == "Analytics cookies and transparent images"
    assert [p.id for p in analytics.purposes] == [
        "content_measurement",
        "measure_marketing_effectiveness",
        "improve_services",
    ]
    assert analytics.purposes[0].name == "Measure which website content is effective"
    necessary = v2023.class_of("necessary")
    assert necessary is not None and necessary.required and necessary.off_under == ()


def test_signals_switch_off_what_the_statement_says_and_always_marketing(v2019: BannerView, v2023: BannerView) -> None:
    """P-TRK-2: the 2023 statement lists GPC and DNT; the 2019 one only DNT, yet GPC still covers marketing."""
    assert v2023.off_under("gpc") == ["marketing"]
    assert v2023.off_under("dnt") == ["marketing"]
    assert v2019.off_under("dnt") == ["marketing"]
    assert v2019.off_under("gpc") == ["marketing"]


def test_a_class_whose_purpose_a_signal_denies_starts_off(st2023: Statement) -> None:
    signals = [s.model_copy(update={"denies": [*s.denies, "content_measurement"]}) for s in st2023.tracking.signals]
    changed = st2023.model_copy(update={"tracking": st2023.tracking.model_copy(update={"signals": signals})})
    assert build(changed).off_under("gpc") == ["analytics", "marketing"]


def test_defaults_follow_the_purposes_consent_modes(st2023: Statement) -> None:
    """Opt-out purposes start on in the settings; an opt-in purpose keeps its class off."""
    assert all(c.default for c in build(st2023).classes)
    purposes = [
        p.model_copy(update={"consent": "opt_in"}) if p.id == "cross_site_tracking" else p for p in st2023.purposes
    ]
    view = build(st2023.model_copy(update={"purposes": purposes}))
    marketing = view.class_of("marketing")
    assert marketing is not None and not marketing.default


def test_the_hash_covers_everything_shown(v2023: BannerView, st2023: Statement) -> None:
    assert v2023.sha256 == banner_sha256(v2023)
    assert len(v2023.sha256) == 64
    assert build(st2023).sha256 == v2023.sha256  # a pure function of the statement
    cookies = [
        c.model_copy(update={"description": c.description + " Changed."}) if c.id == "analytics" else c
        for c in st2023.tracking.cookies
    ]
    changed = st2023.model_copy(update={"tracking": st2023.tracking.model_copy(update={"cookies": cookies})})
    assert build(changed).sha256 != v2023.sha256
    assert build(st2023.model_copy(update={"version": "2023-01-02"})).sha256 != v2023.sha256


def test_the_document_is_the_public_config(v2023: BannerView) -> None:
    document = v2023.document("https://charter.example" + POLICY_PATH)
    assert document["statement_version"] == "2023-01-01"
    assert document["policy_url"] == "https://charter.example/privacy#tracking"
    assert document["banner_sha256"] == v2023.sha256
    assert document["signals"] == {"gpc": ["marketing"], "dnt": ["marketing"]}
    assert document["classes"][2]["purposes"][0] == {
        "id": "content_measurement",
        "name": "Measure which website content is effective",
    }
    assert "consent" not in json.dumps(document["classes"])  # consent modes are not shown
    assert document["text"]["title"] == "Cookies on West websites"
    assert "analytics cookies and transparent images; and cross-site" in document["text"]["body"]
    assert document["text"]["signal_note"].startswith("Your browser asked us not to sell or share")


def test_a_statement_with_only_necessary_cookies(st2023: Statement) -> None:
    tracking = Tracking(cookies=[CookieClass(id="necessary", name="Necessary", description="Needed.", required=True)])
    view = build(st2023.model_copy(update={"tracking": tracking}))
    assert view.choosable == ()
    assert view.text.body == "West uses only the cookies this site needs to work."
    assert view.off_under("gpc") == []
