"""Browser privacy signals (Global Privacy Control, Do Not Track) as ledger events.

A signal arrives with every request of a browser that sends it, so it is
recorded only when it changes what the ledger already holds: the first
``Sec-GPC: 1`` from a person becomes one ``signal.gpc`` event, the next
thousand are nothing. An absent header is *not* an opt-in: the person may be
on another browser, so absence never records ``on: false``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from charter.decisions.state import PersonState
from charter.ledger.events import Event, EventKind, Source


@dataclass(frozen=True)
class BrowserSignals:
    gpc: bool = False
    dnt: bool = False

    @property
    def any(self) -> bool:
        return self.gpc or self.dnt

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> BrowserSignals:
        """Read ``Sec-GPC: 1`` and ``DNT: 1`` from a (case-insensitive) header mapping."""
        return cls(
            gpc=headers.get("sec-gpc", "").strip() == "1",
            dnt=headers.get("dnt", "").strip() == "1",
        )


def signal_events(
    state: PersonState, signals: BrowserSignals, *, at: datetime, statement_version: str | None = None
) -> list[Event]:
    """The events that bring the ledger up to date with what the browser says now."""
    events = []
    for kind, sent, held in (
        (EventKind.SIGNAL_GPC, signals.gpc, state.gpc),
        (EventKind.SIGNAL_DNT, signals.dnt, state.dnt),
    ):
        if sent and not held:
            events.append(
                Event(
                    kind=kind,
                    at=at,
                    source=Source.BROWSER_SIGNAL,
                    statement_version=statement_version,
                    data={"on": True},
                )
            )
    return events
