"""Properties of decisions that must hold for any history of a person."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from charter.decisions import CompiledStatement, DecisionRequest, decide
from charter.ledger.events import Event
from charter.ledger.projection import project
from tests.decisions.conftest import IN_2024, _statement

S2023: CompiledStatement = _statement("statement-2023.yaml")
CONSENT_PURPOSES = sorted(p.id for p in S2023.statement.purposes if p.consent == "opt_in")
ALL_PURPOSES = sorted(S2023.purposes)
REQUESTS = [
    DecisionRequest(p, ("user.contact.email",), IN_2024, channel=channel)
    for p in ALL_PURPOSES
    for channel in (None, "email")
]


def _event(kind: str, minutes: int, **data: object) -> Event:
    return Event(
        kind=kind,
        at=IN_2024 - timedelta(days=30) + timedelta(minutes=minutes),
        source="api",  # type: ignore[arg-type]
        data=data,
    )


@st.composite
def histories(draw: st.DrawFn, purposes: list[str] = ALL_PURPOSES) -> list[Event]:
    """Random, time-ordered events of every kind a person can say."""
    purpose = st.sampled_from([*purposes, "*"])
    makers = [
        purpose.map(lambda p: ("consent.given", {"purpose": p})),
        purpose.map(lambda p: ("consent.withdrawn", {"purpose": p})),
        purpose.map(lambda p: ("purpose.opted_out", {"purpose": p})),
        purpose.map(lambda p: ("processing.restricted", {"purpose": p})),
        purpose.map(lambda p: ("processing.objected", {"purpose": p})),
        st.booleans().map(lambda on: ("signal.gpc", {"on": on})),
        st.booleans().map(lambda on: ("signal.dnt", {"on": on})),
        st.just(("email.unsubscribed", {})),
        st.just(("sale_sharing.opted_out", {})),
        st.just(("disclosure.refused", {})),
    ]
    drawn = draw(st.lists(st.one_of(makers), max_size=12))
    return [_event(kind, minute, **data) for minute, (kind, data) in enumerate(drawn)]


@given(histories(), st.sampled_from(CONSENT_PURPOSES))
@settings(max_examples=150, deadline=None)
def test_a_withdrawal_after_a_consent_always_denies(history: list[Event], purpose: str) -> None:
    """P-USE-5: after withdrawal, no use for that purpose, whatever came before."""
    events = [
        *history,
        _event("consent.given", 1000, purpose=purpose),
        _event("consent.withdrawn", 1001, purpose=purpose),
    ]
    decision = decide(DecisionRequest(purpose, ("user.contact.email",), IN_2024), S2023, project(events))
    assert not decision.allowed


@given(histories(), st.sampled_from(REQUESTS), st.data())
@settings(max_examples=200, deadline=None)
def test_an_unrelated_event_never_changes_a_decision(
    history: list[Event], request: DecisionRequest, data: st.DataObject
) -> None:
    """What a person says about purpose Q never changes a decision about purpose P."""
    other = data.draw(st.sampled_from([p for p in ALL_PURPOSES if p != request.purpose]))
    kind = data.draw(
        st.sampled_from(
            [
                "consent.given",
                "consent.withdrawn",
                "purpose.opted_out",
                "purpose.opted_in",
                "processing.restricted",
                "processing.objected",
            ]
        )
    )
    unrelated = [
        _event(kind, 2000, purpose=other),
        _event("preference.set", 2001, key="marketing.post", value=False),
        _event("service.subscribed", 2002, service="webcasting"),
    ]
    before = decide(request, S2023, project(history))
    after = decide(request, S2023, project([*history, data.draw(st.sampled_from(unrelated))]))
    assert (before.allowed, before.reasons) == (after.allowed, after.reasons)


@given(histories(purposes=CONSENT_PURPOSES), st.sampled_from(CONSENT_PURPOSES))
@settings(max_examples=100, deadline=None)
def test_consent_purposes_are_never_allowed_without_a_standing_consent(history: list[Event], purpose: str) -> None:
    """P-USE-5 / P-COL-4: opt-in purposes need a consent that still stands."""
    state = project(history)
    decision = decide(DecisionRequest(purpose, ("user.contact.email",), IN_2024), S2023, state)
    if decision.allowed:
        assert state.consented(purpose)
