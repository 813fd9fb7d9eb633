"""Browser privacy signals on every request: read once, recorded where a person is known.

``BrowserSignalsMiddleware`` reads ``Sec-GPC`` and ``DNT`` once per request
(:class:`charter.ledger.signals.BrowserSignals`) and keeps them for the
handler. A handler that knows who the person is (the banner choice, the
preference center, an unsubscribe link) records them in the ledger through
:func:`charter.ledger.signals.signal_events` and calls :func:`attached`. A
handler whose response depends on the signals reads them with
:func:`signals_of`, which makes the response carry ``Vary: Sec-GPC, DNT`` so
no cache serves one browser's answer to another.

A request with ``Sec-GPC: 1`` that no handler attached to a person has no one
to record it for (promise P-TRK-2 is kept by not tracking, and there is no
identity to write down); it is only counted in :class:`SignalCounts`, which
holds numbers and nothing else. See docs/design/consent-banner.md.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fastapi import Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from charter.ledger.signals import BrowserSignals

STATE_KEY = "charter.signals"
VARY = ("Sec-GPC", "DNT")


@dataclass
class RequestSignals:
    """What one request's browser said, and what the handler did with it."""

    signals: BrowserSignals
    varies: bool = False
    attached: bool = False


@dataclass
class SignalCounts:
    """Process-local counters (no identities, no addresses): requests seen with each signal."""

    gpc: int = 0
    dnt: int = 0
    anonymous_gpc: int = 0
    """GPC requests no handler could attach to a person."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, seen: RequestSignals) -> None:
        if not seen.signals.any:
            return
        with self._lock:
            self.gpc += seen.signals.gpc
            self.dnt += seen.signals.dnt
            self.anonymous_gpc += seen.signals.gpc and not seen.attached

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {"gpc": self.gpc, "dnt": self.dnt, "anonymous_gpc": self.anonymous_gpc}


def _seen(request: Request) -> RequestSignals:
    found = request.scope.get("state", {}).get(STATE_KEY)
    if isinstance(found, RequestSignals):
        return found
    # Without the middleware (a bare router in a test): read them now, count nothing.
    seen = RequestSignals(BrowserSignals.from_headers(request.headers))
    request.scope.setdefault("state", {})[STATE_KEY] = seen
    return seen


def signals_of(request: Request, *, varies: bool = True) -> BrowserSignals:
    """The request's signals; ``varies`` marks the response as depending on them (adds ``Vary``)."""
    seen = _seen(request)
    seen.varies = seen.varies or varies
    return seen.signals


def attached(request: Request) -> None:
    """Say the request's signals were recorded for (or checked against) a known person's ledger."""
    _seen(request).attached = True


class BrowserSignalsMiddleware:
    """Reads the signals once per HTTP request; adds ``Vary`` where asked; counts."""

    def __init__(self, app: ASGIApp, counts: SignalCounts) -> None:
        self.app = app
        self.counts = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = RequestSignals(BrowserSignals.from_headers(Headers(scope=scope)))
        scope.setdefault("state", {})[STATE_KEY] = seen

        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start" and seen.varies:
                headers = MutableHeaders(scope=message)
                for name in VARY:
                    headers.add_vary_header(name)
            await send(message)

        try:
            await self.app(scope, receive, send_with_vary)
        finally:
            self.counts.count(seen)
