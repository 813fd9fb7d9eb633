"""/api/v1/banner: the public config the cookie banner shows, and recording a visitor's choice.

Both are public (any site's visitors call them from the embedding page),
rate-limited per address, and answer cross-origin requests from the
origins in ``CHARTER_BANNER_ALLOWED_ORIGINS`` (``charter.web.cors``).
Promises P-TRK-1 (refuse non-essential cookies), P-TRK-2 (GPC/DNT),
P-COL-4 (the statement version is recorded). See docs/design/consent-banner.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError

from charter.banner import service as banner
from charter.banner.choices import Choice
from charter.errors import Forbidden, NotFound
from charter.ledger.signals import BrowserSignals
from charter.policy.service import today as policy_today
from charter.services import Services
from charter.web.bodies import read_limited
from charter.web.cors import origin_refused, preflight_headers
from charter.web.security import public, services_of
from charter.web.signals import attached, signals_of

router = APIRouter()
PREFIX = "/api/v1/banner"
CONFIG = public("banner-config", per_minute=300)
CHOICES = public("banner-choices", per_minute=30)
PREFLIGHT = public("banner-preflight", per_minute=300)

ClassName = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class ChoicesIn(BaseModel):
    """A visitor's answer to the banner, as the script sends it."""

    model_config = ConfigDict(extra="forbid")
    cookie_id: str = Field(
        pattern=r"^[0-9a-f]{32}$", description="The random id the script made: 32 lower-case hex digits."
    )
    choices: dict[ClassName, StrictBool] = Field(
        max_length=8, description="true or false for every cookie class the statement lets the visitor refuse."
    )
    banner_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="banner_sha256 of the config shown.")
    statement_version: str = Field(min_length=1, max_length=64, description="statement_version of the config shown.")
    gpc: StrictBool = Field(default=False, description="navigator.globalPrivacyControl was true.")
    dnt: StrictBool = Field(default=False, description='navigator.doNotTrack was "1".')


class ChoicesOut(BaseModel):
    recorded: bool = True
    statement_version: str
    choices: dict[str, bool]


@router.get("/config", dependencies=[CONFIG])
def config(request: Request) -> JSONResponse:
    """The cookie classes of the statement in force, the banner's text, its SHA-256, and GPC/DNT defaults.

    The same for every visitor (it does not depend on their signals: the
    script reads ``navigator``), so browsers and CDNs may cache it.
    """
    services = services_of(request)
    with services.database.session() as session:
        view = banner.in_force(session, policy_today())
    if view is None:
        raise NotFound("no privacy statement is in force yet, so there is no banner to show")
    settings = services.settings
    document = view.document(settings.base_url.rstrip("/") + view.policy_path)
    return JSONResponse(document, headers={"Cache-Control": f"public, max-age={settings.banner.cache_seconds}"})


@router.post(
    "/choices",
    status_code=201,
    response_model=ChoicesOut,
    dependencies=[CHOICES],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ChoicesIn.model_json_schema()}},
        }
    },
)
async def record_choices(request: Request) -> JSONResponse:
    """Record the visitor's choice for each cookie class, and their browser's GPC/DNT signals.

    The answer is the same whether the cookie id was new or known. 409 if
    the banner shown is not the one in force; 422 naming an unknown class;
    413 over the size limit. Nothing is recorded unless everything is valid.
    """
    services = services_of(request)
    if origin_refused(request.headers.get("origin"), services.settings.banner.origins()):
        raise Forbidden("this site may not record banner choices; add its origin to CHARTER_BANNER_ALLOWED_ORIGINS")
    raw = await read_limited(request, services.settings.banner.max_body_bytes)
    try:
        body = ChoicesIn.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(_located(exc.errors())) from None
    choice = Choice(
        cookie_id=body.cookie_id,
        choices=dict(body.choices),
        banner_sha256=body.banner_sha256,
        statement_version=body.statement_version,
        gpc=body.gpc,
        dnt=body.dnt,
    )
    headers = signals_of(request)
    recorded = await run_in_threadpool(_record, services, choice, headers)
    attached(request)
    out = ChoicesOut(statement_version=recorded.statement_version, choices=recorded.choices)
    return JSONResponse(out.model_dump(), status_code=201, headers={"Cache-Control": "no-store"})


def _record(services: Services, choice: Choice, headers: BrowserSignals) -> banner.Recorded:
    with services.database.session() as session:
        return banner.record_choice(session, choice, headers=headers, vault=services.vault, at=datetime.now(UTC))


def _located(errors: list[Any]) -> list[dict[str, Any]]:
    """Validation errors located in the body, as FastAPI reports body fields; never the input values."""
    return [{"loc": ("body", *e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]


@router.options("/config", dependencies=[PREFLIGHT], include_in_schema=False)
def config_preflight() -> Response:
    return Response(status_code=204, headers=preflight_headers(("GET",)))


@router.options("/choices", dependencies=[PREFLIGHT], include_in_schema=False)
def choices_preflight() -> Response:
    return Response(status_code=204, headers=preflight_headers(("POST",)))
