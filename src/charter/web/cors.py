"""Cross-origin access for the few routes other sites' pages call (the cookie banner).

Only paths under the given prefixes get CORS headers, on every response
including errors (so the script can read a 409 or a 429). No credentials
are ever allowed: the banner sends no cookies to Charter and Charter sets
none on these routes. Preflight requests are answered by declared routes
(``OPTIONS``), which call :func:`preflight_headers`.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFLIGHT_MAX_AGE = 600


def allowed_origin(origin: str | None, allowed: frozenset[str] | None) -> str | None:
    """The ``Access-Control-Allow-Origin`` value for ``origin``: ``*``, the origin itself, or None (refused)."""
    if allowed is None:
        return "*"
    if origin and origin.strip().lower().rstrip("/") in allowed:
        return origin.strip()
    return None


def origin_refused(origin: str | None, allowed: frozenset[str] | None) -> bool:
    """True when a browser page of another origin is not on the list (a request without Origin is not refused)."""
    return origin is not None and allowed_origin(origin, allowed) is None


def preflight_headers(methods: Iterable[str]) -> dict[str, str]:
    return {
        "Access-Control-Allow-Methods": ", ".join(methods),
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
    }


class PathCors:
    """Adds ``Access-Control-Allow-Origin`` (and ``Vary: Origin`` for a list) under ``prefixes``."""

    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...], allowed: frozenset[str] | None) -> None:
        self.app = app
        self.prefixes = prefixes
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        value = allowed_origin(Headers(scope=scope).get("origin"), self.allowed)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if value is not None:
                    headers["Access-Control-Allow-Origin"] = value
                if self.allowed is not None:
                    headers.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)
