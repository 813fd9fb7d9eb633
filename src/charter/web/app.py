"""The FastAPI application: API under /api/v1, pages, static files."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from charter import __version__
from charter.services import Services
from charter.web import accesslog, problems
from charter.web.api import banner as banner_api
from charter.web.api import corrections as corrections_api
from charter.web.api import datamap as datamap_api
from charter.web.api import decisions as decisions_api
from charter.web.api import health, wellknown
from charter.web.api import ledger as ledger_api
from charter.web.api import maillinks as maillinks_api
from charter.web.api import policy as policy_api
from charter.web.api import request_packages as request_packages_api
from charter.web.api import requests as requests_api
from charter.web.api import suppression as suppression_api
from charter.web.bodies import BodyLimit
from charter.web.cors import PathCors
from charter.web.pages import console, console_requests, privacy, session
from charter.web.pages import maillinks as maillinks_pages
from charter.web.pages import preferences as preference_pages
from charter.web.pages import privacy_requests as request_pages
from charter.web.security import assert_routes_declared
from charter.web.signals import BrowserSignalsMiddleware, SignalCounts

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(services: Services | None = None, *, lifespan: Lifespan | None = None) -> FastAPI:
    services = services or Services.from_env()
    services.settings.secret_key()  # fail at start-up, not at first login, if it is missing
    accesslog.install()  # link tokens in URLs are credentials: keep them out of the access log
    app = FastAPI(
        lifespan=lifespan,
        title="Charter",
        version=__version__,
        description="The privacy statement as executable code.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.services = services
    # The largest legitimate bodies: a diff of two statements, a batch of decisions.
    app.add_middleware(BodyLimit, max_bytes=max(2 * services.settings.policy.max_bytes + 64_000, 8_000_000))
    # Other sites' pages call the banner API; its responses (errors too) carry CORS headers.
    app.add_middleware(PathCors, prefixes=(banner_api.PREFIX + "/",), allowed=services.settings.banner.origins())
    # Sec-GPC / DNT read once per request (P-TRK-2); app.state.signal_counts counts them.
    app.state.signal_counts = SignalCounts()
    app.add_middleware(BrowserSignalsMiddleware, counts=app.state.signal_counts)
    problems.install(app)
    app.include_router(health.router)
    app.include_router(policy_api.router, prefix="/api/v1/policy", tags=["policy"])
    app.include_router(decisions_api.router, prefix="/api/v1/decisions", tags=["decisions"])
    app.include_router(datamap_api.router, prefix="/api/v1/datamap", tags=["data map"])
    app.include_router(ledger_api.router, prefix="/api/v1", tags=["ledger"])
    app.include_router(maillinks_api.router, prefix="/api/v1", tags=["mail links"])
    app.include_router(requests_api.router, prefix="/api/v1", tags=["requests"])  # P-RGT-1..8, P-RET-3
    app.include_router(request_packages_api.router, prefix="/api/v1", tags=["requests"])  # the copy: P-RGT-1, 4
    app.include_router(corrections_api.router, prefix="/api/v1", tags=["requests"])  # before/after: P-RGT-2
    app.include_router(suppression_api.router, prefix="/api/v1", tags=["suppression"])  # erased: P-RGT-3
    app.include_router(banner_api.router, prefix=banner_api.PREFIX, tags=["banner"])
    app.include_router(wellknown.router)
    app.include_router(privacy.router)
    app.include_router(preference_pages.router)  # /privacy/preferences (P-RGT-4, P-USE-5)
    app.include_router(request_pages.router)  # /privacy/requests (P-RGT-1..8)
    app.include_router(maillinks_pages.router)  # /u/{token}, /o/{token}.gif (P-TRK-3)
    app.include_router(session.router)
    app.include_router(console.router, prefix="/console")
    app.include_router(console_requests.router, prefix="/console")  # the queue and holds (P-RGT-8, P-RET-3)
    app.mount("/static", StaticFiles(directory=str(resources.files("charter.web") / "static")), name="static")
    assert_routes_declared(app)
    return app


def create_served_app() -> FastAPI:
    """The app as ``charter serve`` runs it (see :func:`sweeping`)."""
    services = Services.from_env()
    return create_app(services, lifespan=sweeping(services))


def sweeping(services: Services) -> Lifespan:
    """With the in-process backend, a serving process also sweeps every ``CHARTER_JOBS_SWEEP_SECONDS``
    (resuming runs a restart stopped, running the chores), since no ``charter worker`` does it. Tests build
    :func:`create_app` without it: nothing sweeps behind their back."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        jobs = services.settings.jobs
        sweeper = None
        if jobs.backend == "inprocess" and jobs.sweep_seconds > 0:
            from charter.jobs.worker import Sweeper

            sweeper = Sweeper(services, jobs.sweep_seconds)
            sweeper.start()
        try:
            yield
        finally:
            if sweeper is not None:
                sweeper.stop.set()

    return lifespan
