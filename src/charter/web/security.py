"""Every route declares who may call it; an undeclared route stops start-up.

Use ``requires(Permission.X)`` for routes that need a role, ``public()`` for
routes deliberately open to anyone (rate-limited). Callers authenticate with
a bearer token (machines) or the console session cookie (people); unsafe
methods from a session must carry its CSRF token.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from charter.auth import service as auth
from charter.auth.principal import Principal
from charter.auth.roles import Permission
from charter.errors import Forbidden, Misconfigured, NotAuthenticated, RateLimited
from charter.services import Services
from charter.web.ratelimit import RateLimiter

ACCESS = "__charter_access__"
SESSION_COOKIE = "charter_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def services_of(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authenticate(request: Request) -> Principal | None:
    """The caller, from a bearer token or the session cookie, or None."""
    services = services_of(request)
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    with services.database.session() as session:
        if scheme.lower() == "bearer" and credential:
            return auth.principal_from_token(session, credential.strip())
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            return auth.principal_from_session(session, cookie)
    return None


async def _check_csrf(request: Request, principal: Principal) -> None:
    if request.method in SAFE_METHODS or principal.csrf_token is None:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, principal.csrf_token):
        raise Forbidden("the form's CSRF token is missing or wrong; reload the page and try again")


def requires(permission: Permission) -> Any:
    """A dependency that admits only callers holding ``permission``."""

    async def dependency(request: Request) -> Principal:
        principal = authenticate(request)
        if principal is None:
            raise NotAuthenticated("sign in or send a bearer token")
        if not principal.can(permission):
            raise Forbidden(f"your role ({principal.role}) may not do this ({permission})")
        await _check_csrf(request, principal)
        request.state.principal = principal
        return principal

    setattr(dependency, ACCESS, str(permission))
    return Depends(dependency)


def limiter_for(request: Request, bucket: str, per_minute: int) -> RateLimiter:
    """The app's limiter for ``bucket``, made on first use (one per app, not per process)."""
    limiters: dict[str, RateLimiter] | None = getattr(request.app.state, "limiters", None)
    if limiters is None:
        limiters = request.app.state.limiters = {}
    limiter = limiters.get(bucket)
    if limiter is None:
        limiter = limiters[bucket] = RateLimiter(per_minute=per_minute)
    return limiter


def public(bucket: str = "public", per_minute: int = 120) -> Any:
    """A dependency for routes open to anyone, limited per client address."""

    async def dependency(request: Request) -> None:
        if not limiter_for(request, bucket, per_minute).allow(bucket, client_address(request)):
            raise RateLimited("too many requests from your address; wait a minute and try again")

    setattr(dependency, ACCESS, "public")
    return Depends(dependency)


def declared_access(route: APIRoute, inherited: Sequence[Any] = ()) -> str | None:
    """What a route declared: a permission, "public", or None (undeclared)."""
    dependencies = [*inherited, *route.dependencies, *route.dependant.dependencies]
    for dependency in dependencies:
        call = getattr(dependency, "dependency", None) or getattr(dependency, "call", None)
        access = getattr(call, ACCESS, None)
        if access is not None:
            return str(access)
    return None


@dataclass(frozen=True)
class DeclaredRoute:
    path: str
    methods: frozenset[str]
    access: str | None


#: The published OpenAPI document and its viewers: public by design.
_FRAMEWORK_PATHS = {"/openapi.json", "/api/docs", "/docs", "/redoc", "/docs/oauth2-redirect"}


def declared_routes(app: FastAPI) -> list[DeclaredRoute]:
    """Every API route of the app with its full path and declared access.

    FastAPI may keep included routers nested (0.165+) or flatten them
    (earlier); both are walked. A route of any other shape is refused, so a
    framework change cannot quietly hide routes from this check.
    """
    found: list[DeclaredRoute] = []
    _collect(app.routes, "", (), found)
    return found


def _collect(routes: Sequence[Any], prefix: str, inherited: Sequence[Any], found: list[DeclaredRoute]) -> None:
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(
                DeclaredRoute(prefix + route.path, frozenset(route.methods or ()), declared_access(route, inherited))
            )
        elif hasattr(route, "original_router") and hasattr(route, "include_context"):
            context = route.include_context
            _collect(route.original_router.routes, prefix + context.prefix, [*inherited, *context.dependencies], found)
        elif isinstance(route, Mount):
            if prefix + route.path not in _MOUNTS:
                raise Misconfigured(f"unexpected mount {prefix + route.path}: declare its access")
        elif isinstance(route, Route) and prefix + route.path in _FRAMEWORK_PATHS:
            continue
        else:
            raise Misconfigured(f"a route of unknown kind {type(route).__name__} at {getattr(route, 'path', '?')}")


_MOUNTS = {"/static"}


def assert_routes_declared(app: FastAPI) -> None:
    """Refuse to start with a route that does not say who may call it."""
    undeclared = [f"{sorted(r.methods)} {r.path}" for r in declared_routes(app) if r.access is None]
    if undeclared:
        raise Misconfigured(f"routes without requires()/public(): {', '.join(undeclared)}")
