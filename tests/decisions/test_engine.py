"""The decision engine on the two real statements: every case of the issue's list."""

from __future__ import annotations

from datetime import timedelta

import pytest

from charter.decisions import CompiledStatement, DecisionRequest, StatementHistory, decide, decide_at
from charter.decisions.state import PersonState
from charter.errors import InvalidInput
from tests.decisions.conftest import IN_2020, IN_2024, event, person

NOBODY = PersonState()
BOTH = pytest.mark.parametrize("name", ["s2019", "s2023"])


def ask(statement: CompiledStatement, state: PersonState = NOBODY, **fields: object) -> bool:
    fields.setdefault("at", IN_2024 if statement.version.startswith("2023") else IN_2020)
    categories = fields.pop("categories", ("user.contact.email",))
    return decide(DecisionRequest(categories=tuple(categories), **fields), statement, state).allowed  # type: ignore[arg-type]


@BOTH
def test_cpni_for_billing_is_allowed_without_consent(name: str, request: pytest.FixtureRequest) -> None:
    """P-USE-3 (a): provide, repair, bill and collect."""
    assert ask(request.getfixturevalue(name), purpose="cpni_a_provide_service", categories=("user.cpni.billing",))


@BOTH
def test_cpni_marketing_outside_services_bought_needs_opt_in(name: str, request: pytest.FixtureRequest) -> None:
    """P-USE-3: marketing other categories of service needs consent; within them it does not (e)."""
    statement = request.getfixturevalue(name)
    other = {"purpose": "cpni_e_market_services", "categories": ("user.cpni",), "within_subscribed_services": False}
    assert not ask(statement, **other)
    at = IN_2024 if name == "s2023" else IN_2020
    consented = person(event("consent.given", at=at, purpose="cpni_e_market_services"))
    assert ask(statement, consented, **other)
    assert ask(statement, purpose="cpni_e_market_services", categories=("user.cpni",), within_subscribed_services=True)


def test_sale_is_refused_for_everyone_whatever_they_consented_to(s2023: CompiledStatement) -> None:
    """P-USE-6 (2023): PI is never sold, even with consent."""
    eager = person(event("consent.given", at=IN_2024, purpose="sell_personal_information"))
    for state in (NOBODY, eager):
        decision = decide(DecisionRequest("sell_personal_information", ("user.contact.email",), IN_2024), s2023, state)
        assert not decision.allowed and decision.reasons[0].promises == ("P-USE-6",)


def test_school_data_is_never_sold_in_2019(s2019: CompiledStatement) -> None:
    """P-SHR-4: student data never sold, traded, leased or lent."""
    assert not ask(s2019, purpose="sell_trade_lease_loan", categories=("user.student",), service="schoolmessenger")


def test_analytics_needs_explicit_consent_and_stops_after_withdrawal(s2023: CompiledStatement) -> None:
    """P-USE-5: analytics only with explicit consent; after withdrawal, none."""
    purpose = {"purpose": "analytics_trends_benchmarks"}
    assert not ask(s2023, **purpose)
    given = event("consent.given", at=IN_2024 - timedelta(days=2), purpose="analytics_trends_benchmarks")
    assert ask(s2023, person(given), **purpose)
    withdrawn = event(
        "consent.withdrawn", at=IN_2024 - timedelta(days=1), purpose="analytics_trends_benchmarks", written=True
    )
    decision = decide(
        DecisionRequest("analytics_trends_benchmarks", ("user.contact.email",), IN_2024),
        s2023,
        person(given, withdrawn),
    )
    assert not decision.allowed and "withdrawn" in decision.reasons[0].message


@pytest.mark.parametrize(
    ("name", "age", "allowed"), [("s2019", 12, False), ("s2019", 13, True), ("s2023", 17, False), ("s2023", 18, True)]
)
def test_collection_below_the_minimum_age_is_refused(
    name: str, age: int, allowed: bool, request: pytest.FixtureRequest
) -> None:
    """P-COL-2: 13 in 2019, 18 in 2023."""
    statement = request.getfixturevalue(name)
    at = IN_2024 if name == "s2023" else IN_2020
    state = person(event("age.attested", at=at, age=age))
    decision = decide(
        DecisionRequest("provide_services", ("user.contact.email",), at, action="collect"), statement, state
    )
    assert decision.allowed is allowed
    if not allowed:
        assert "P-COL-2" in decision.reasons[0].promises


def test_student_data_via_the_school_within_the_proof_deadline(s2019: CompiledStatement) -> None:
    """P-COL-3: a child's login data via the school needs parental proof within the deadline, or goes."""
    request = DecisionRequest(
        "provide_services",
        ("user.student.credentials",),
        IN_2020,
        action="collect",
        service="schoolmessenger",
        source="direct",
    )
    child = event("age.attested", age=10)
    pending = person(child, event("parental_proof.required", deadline=(IN_2020 + timedelta(days=5)).isoformat()))
    decision = decide(request, s2019, pending)
    assert decision.allowed
    assert any(o.kind == "parental_consent_proof" for o in decision.obligations)
    late = decide(
        DecisionRequest(
            "provide_services",
            ("user.student.credentials",),
            IN_2020 + timedelta(days=6),
            action="collect",
            service="schoolmessenger",
            source="direct",
        ),
        s2019,
        pending,
    )
    assert not late.allowed and "must be deleted" in late.reasons[0].message
    proven = person(child, event("parental_proof.received"))
    assert decide(request, s2019, proven).allowed
    outside_school = DecisionRequest("provide_services", ("user.contact.email",), IN_2020, action="collect")
    assert not decide(outside_school, s2019, person(child)).allowed


@BOTH
@pytest.mark.parametrize("kind", ["processing.restricted", "processing.objected"])
def test_a_restricted_or_objected_purpose_is_refused(name: str, kind: str, request: pytest.FixtureRequest) -> None:
    """P-RGT-4."""
    statement = request.getfixturevalue(name)
    at = IN_2024 if name == "s2023" else IN_2020
    fields = {"purpose": "improve_services", "categories": ("user.behavior",)}
    assert ask(statement, **fields)
    assert not ask(statement, person(event(kind, at=at, purpose="improve_services")), **fields)
    assert not ask(statement, person(event(kind, at=at, purpose="*")), **fields)
    # a legal obligation is not stopped by a restriction (P-RET-2)
    assert ask(statement, person(event(kind, at=at, purpose="*")), purpose="legal_compliance")


@BOTH
def test_dnt_refuses_cross_site_tracking(name: str, request: pytest.FixtureRequest) -> None:
    """P-TRK-2."""
    statement = request.getfixturevalue(name)
    fields = {"purpose": "cross_site_tracking", "categories": ("user.device.cookie_id",)}
    assert ask(statement, **fields)
    assert not ask(statement, person(event("signal.dnt", on=True)), **fields)


def test_gpc_refuses_sale_sharing_and_cross_site_tracking(s2023: CompiledStatement) -> None:
    """P-TRK-2: under CCPA, GPC is an opt-out of sale and sharing."""
    gpc = person(event("signal.gpc", at=IN_2024, on=True))
    assert not ask(s2023, gpc, purpose="cross_site_tracking", categories=("user.device.cookie_id",))
    decision = decide(DecisionRequest("sell_personal_information", ("user.contact.email",), IN_2024), s2023, gpc)
    assert not decision.allowed
    assert "sell_personal_information" in s2023.signal_denies["gpc"]


@BOTH
def test_transfers_need_a_recorded_mechanism_and_china_needs_consent(name: str, request: pytest.FixtureRequest) -> None:
    """P-SHR-5."""
    statement = request.getfixturevalue(name)
    at = IN_2024 if name == "s2023" else IN_2020
    base = {"purpose": "provide_services", "action": "transfer", "destination": "US"}
    assert ask(statement, origin="DE", **base)
    assert not ask(statement, origin="CN", **base)
    assert ask(statement, person(event("transfer_consent.given", at=at, origin="CN")), origin="CN", **base)


def test_a_destination_the_statement_does_not_name_is_refused(s2023: CompiledStatement) -> None:
    """P-SHR-5: a transfer needs a recorded mechanism; here none exists once '*' is not listed."""
    statement = s2023.statement.model_copy(
        update={"transfers": s2023.statement.transfers.model_copy(update={"countries": ["US", "GB"]})}
    )
    from charter.decisions import compile_statement

    narrowed = compile_statement(statement)
    decision = decide(
        DecisionRequest(
            "provide_services", ("user.contact.email",), IN_2024, action="transfer", origin="US", destination="BR"
        ),
        narrowed,
        NOBODY,
    )
    assert not decision.allowed and "BR" in decision.reasons[0].message


def test_school_data_never_goes_to_advertisers_or_brokers(s2019: CompiledStatement) -> None:
    """P-SHR-4."""
    for recipient in ("advertisers", "data_brokers", "direct_marketers"):
        assert not ask(
            s2019,
            purpose="share_with_permission",
            categories=("user.student",),
            action="disclose",
            recipient=recipient,
            service="schoolmessenger",
        )


def test_a_disclosure_carries_the_duty_to_record_it(s2023: CompiledStatement) -> None:
    """P-SHR-1: every disclosure is recorded."""
    decision = decide(
        DecisionRequest("share_with_client", ("user.contact.email",), IN_2024, action="disclose", recipient="clients"),
        s2023,
        NOBODY,
    )
    assert decision.allowed
    assert [o.kind for o in decision.obligations].count("record_disclosure") == 1


def test_a_person_who_refused_disclosure_is_not_shared(s2023: CompiledStatement) -> None:
    """P-SHR-3."""
    refused = person(event("disclosure.refused", at=IN_2024))
    consented = person(
        event("disclosure.refused", at=IN_2024), event("consent.given", at=IN_2024, purpose="share_with_permission")
    )
    fields = {"purpose": "share_with_permission", "action": "disclose", "recipient": "permitted_third_parties"}
    assert ask(s2023, person(event("consent.given", at=IN_2024, purpose="share_with_permission")), **fields)
    assert not ask(s2023, refused, **fields)
    assert not ask(s2023, consented, **fields)


def test_unsubscribed_people_get_no_open_tracking_or_marketing_email(s2023: CompiledStatement) -> None:
    """P-TRK-3 and P-USE-2."""
    gone = person(event("email.unsubscribed", at=IN_2024))
    assert ask(s2023, purpose="email_open_tracking", categories=("user.contact.email",))
    assert not ask(s2023, gone, purpose="email_open_tracking", categories=("user.contact.email",))
    assert ask(s2023, purpose="marketing_new_services", channel="email")
    assert not ask(s2023, gone, purpose="marketing_new_services", channel="email")
    no_sms = person(event("preference.set", at=IN_2024, key="marketing.sms", value=False))
    assert not ask(s2023, no_sms, purpose="marketing_new_services", channel="sms")
    assert ask(s2023, no_sms, purpose="marketing_new_services", channel="email")


def test_a_decision_at_time_t_uses_the_statement_in_force_at_t(history: StatementHistory) -> None:
    """P-STM-1: analytics did not exist as a purpose in 2019; sale turned from unlisted to forbidden."""
    sale_2020 = decide_at(DecisionRequest("sell_trade_lease_loan", ("user.contact.email",), IN_2020), history, NOBODY)
    assert sale_2020.statement_version == "2019-04-04"
    sale_2024 = decide_at(
        DecisionRequest("sell_personal_information", ("user.contact.email",), IN_2024), history, NOBODY
    )
    assert sale_2024.statement_version == "2023-01-01"
    assert decide_at(
        DecisionRequest("provide_services", ("user.contact.email",), IN_2020.replace(year=2010)), history, NOBODY
    ).reasons[0].promises == ("P-STM-1",)
    with pytest.raises(InvalidInput, match="unknown purpose 'analytics_trends_benchmarks'"):
        decide_at(DecisionRequest("analytics_trends_benchmarks", ("user.contact.email",), IN_2020), history, NOBODY)


def test_unknown_purpose_category_or_recipient_is_bad_input(s2023: CompiledStatement) -> None:
    with pytest.raises(InvalidInput, match="unknown purpose 'nope'"):
        decide(DecisionRequest("nope", ("user.contact.email",), IN_2024), s2023, NOBODY)
    with pytest.raises(InvalidInput, match=r"unknown data category 'user\.nope'"):
        decide(DecisionRequest("provide_services", ("user.nope",), IN_2024), s2023, NOBODY)
    with pytest.raises(InvalidInput, match="unknown recipient"):
        decide(
            DecisionRequest("provide_services", ("user.name",), IN_2024, action="disclose", recipient="x"),
            s2023,
            NOBODY,
        )
    with pytest.raises(InvalidInput, match="must name its recipient"):
        decide(DecisionRequest("provide_services", ("user.name",), IN_2024, action="disclose"), s2023, NOBODY)


def test_a_use_no_rule_covers_is_refused(s2023: CompiledStatement) -> None:
    """P-USE-1: only the purposes collected for."""
    decision = decide(DecisionRequest("provide_services", ("user.biometric.retinal",), IN_2024), s2023, NOBODY)
    assert not decision.allowed and decision.reasons[0].promises == ("P-USE-1",)
