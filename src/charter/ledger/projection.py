"""Folding events into a person's standing. Pure: the same events give the same state.

Storage applies each event as it is written (the live projection) and
``rebuild`` applies them all again from the start; both use ``apply``, so
they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime

from charter.decisions.state import EMPTY, Consent, PersonState
from charter.ledger.events import Event, EventKind


def _purpose(event: Event) -> str:
    return str(event.data["purpose"])


def apply(state: PersonState, event: Event) -> PersonState:
    """The state after ``event``. Events must be applied in the order they happened."""
    kind = event.kind
    if kind in (EventKind.CONSENT_GIVEN, EventKind.CONSENT_WITHDRAWN):
        consents = dict(state.consents)
        consents[_purpose(event)] = Consent(
            given=kind == EventKind.CONSENT_GIVEN,
            at=event.at,
            statement_version=event.statement_version,
            written=bool(event.data.get("written", False)),
        )
        return replace(state, consents=consents)
    if kind == EventKind.OPTED_OUT:
        return replace(state, opted_out=state.opted_out | {_purpose(event)})
    if kind == EventKind.OPTED_IN:
        return replace(state, opted_out=state.opted_out - {_purpose(event)})
    if kind == EventKind.RESTRICTED:
        return replace(state, restricted=state.restricted | {_purpose(event)})
    if kind == EventKind.UNRESTRICTED:
        return replace(state, restricted=state.restricted - {_purpose(event)})
    if kind == EventKind.OBJECTED:
        return replace(state, objected=state.objected | {_purpose(event)})
    if kind == EventKind.OBJECTION_WITHDRAWN:
        return replace(state, objected=state.objected - {_purpose(event)})
    if kind in (EventKind.SALE_SHARING_OPTED_OUT, EventKind.SALE_SHARING_OPTED_IN):
        return replace(state, sale_sharing_opt_out=kind == EventKind.SALE_SHARING_OPTED_OUT)
    if kind in (EventKind.DISCLOSURE_REFUSED, EventKind.DISCLOSURE_ALLOWED):
        return replace(state, disclosure_refused=kind == EventKind.DISCLOSURE_REFUSED)
    if kind == EventKind.SIGNAL_GPC:
        return replace(state, gpc=bool(event.data["on"]))
    if kind == EventKind.SIGNAL_DNT:
        return replace(state, dnt=bool(event.data["on"]))
    if kind in (EventKind.UNSUBSCRIBED, EventKind.RESUBSCRIBED):
        return replace(state, unsubscribed=kind == EventKind.UNSUBSCRIBED)
    if kind == EventKind.PREFERENCE_SET:
        return replace(state, preferences={**state.preferences, str(event.data["key"]): bool(event.data["value"])})
    if kind == EventKind.AGE_ATTESTED:
        if "birth_date" in event.data:
            return replace(
                state, birth_date=date.fromisoformat(event.data["birth_date"]), attested_age=None, attested_at=None
            )
        return replace(state, birth_date=None, attested_age=int(event.data["age"]), attested_at=event.at)
    if kind == EventKind.PARENTAL_PROOF_REQUIRED:
        deadline = datetime.fromisoformat(event.data["deadline"])
        return replace(state, parental_proof_deadline=deadline, parental_proof_received=False)
    if kind == EventKind.PARENTAL_PROOF_RECEIVED:
        return replace(state, parental_proof_received=True)
    if kind == EventKind.TRANSFER_CONSENT_GIVEN:
        return replace(state, transfer_consents=state.transfer_consents | {str(event.data["origin"])})
    if kind == EventKind.TRANSFER_CONSENT_WITHDRAWN:
        return replace(state, transfer_consents=state.transfer_consents - {str(event.data["origin"])})
    if kind == EventKind.SUBSCRIBED_SERVICE:
        return replace(state, subscribed_services=state.subscribed_services | {str(event.data["service"])})
    if kind == EventKind.UNSUBSCRIBED_SERVICE:
        return replace(state, subscribed_services=state.subscribed_services - {str(event.data["service"])})
    raise AssertionError(f"unhandled event kind {kind}")  # the enum is closed; a new kind needs a case


def project(events: Iterable[Event], start: PersonState = EMPTY) -> PersonState:
    state = start
    for event in events:
        state = apply(state, event)
    return state
