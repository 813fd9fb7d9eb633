"""Browser signals become ledger events only when they change the standing (P-TRK-1, P-TRK-2)."""

from __future__ import annotations

from datetime import UTC, datetime

from charter.decisions.state import PersonState
from charter.ledger.events import EventKind
from charter.ledger.signals import BrowserSignals, signal_events

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def test_headers_are_read_case_insensitively() -> None:
    assert BrowserSignals.from_headers({"sec-gpc": "1", "dnt": "1"}) == BrowserSignals(gpc=True, dnt=True)
    assert BrowserSignals.from_headers({"sec-gpc": "0"}) == BrowserSignals()
    assert not BrowserSignals.from_headers({}).any


def test_a_new_gpc_signal_is_recorded_once_p_trk_2() -> None:
    [event] = signal_events(PersonState(), BrowserSignals(gpc=True), at=NOW)
    assert event.kind == EventKind.SIGNAL_GPC and event.data == {"on": True}
    assert signal_events(PersonState(gpc=True), BrowserSignals(gpc=True), at=NOW) == []


def test_absence_of_a_signal_never_opts_back_in() -> None:
    assert signal_events(PersonState(gpc=True, dnt=True), BrowserSignals(), at=NOW) == []
