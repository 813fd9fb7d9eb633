"""/api/v1/policy: check, render, diff, publish and read statement versions."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from charter.auth.principal import Principal
from charter.auth.roles import Permission
from charter.errors import NotFound
from charter.policy import service
from charter.policy.diff import diff as diff_statements
from charter.policy.loader import Loaded
from charter.policy.models import PolicyVersion
from charter.policy.render import render as render_statement
from charter.web.bodies import read_limited
from charter.web.security import requires, services_of

router = APIRouter()
YAML_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/yaml": {"schema": {"type": "string"}}, "text/plain": {"schema": {"type": "string"}}},
    }
}


class CheckResult(BaseModel):
    ok: bool
    version: str
    effective: date
    purposes: int
    rules: int
    recipients: int


class VersionOut(BaseModel):
    version: str
    effective: date
    title: str
    sha256: str
    published_at: str
    published_by: str
    in_force: bool = False

    @classmethod
    def of(cls, row: PolicyVersion, current: PolicyVersion | None = None) -> VersionOut:
        return cls(
            version=row.version,
            effective=row.effective,
            title=row.title,
            sha256=row.sha256,
            published_at=row.published_at.isoformat(),
            published_by=row.published_by,
            in_force=current is not None and current.id == row.id,
        )


class ChangeOut(BaseModel):
    path: str
    kind: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None
    substantive: bool
    reason: str


class DiffIn(BaseModel):
    old_yaml: str = Field(description="The older statement, as YAML text.")
    new_yaml: str = Field(description="The newer statement, as YAML text.")


async def _loaded(request: Request, source: str = "<body>") -> tuple[Loaded, bytes]:
    limits = services_of(request).settings.policy
    raw = await read_limited(request, limits.max_bytes)
    return service.read_text(raw, source=source, limits=limits), raw


@router.post("/check", response_model=CheckResult, openapi_extra=YAML_BODY)
async def check(request: Request, _: Principal = requires(Permission.POLICY_READ)) -> CheckResult:
    """Validate a statement sent as YAML; 422 problem+json lists every problem with line and column."""
    loaded, _raw = await _loaded(request)
    s = loaded.statement
    return CheckResult(
        ok=True,
        version=s.version,
        effective=s.effective,
        purposes=len(s.purposes),
        rules=len(s.all_rules()),
        recipients=len(s.recipients),
    )


@router.post("/render", openapi_extra=YAML_BODY, response_class=Response)
async def render(
    request: Request,
    fmt: Literal["html", "md"] = Query("md", alias="format"),
    _: Principal = requires(Permission.POLICY_READ),
) -> Response:
    """Render a statement sent as YAML."""
    loaded, _raw = await _loaded(request)
    media = "text/html" if fmt == "html" else "text/markdown"
    return Response(render_statement(loaded.statement, fmt, standalone=True), media_type=media)


@router.post("/diff", response_model=list[ChangeOut])
async def diff_texts(
    body: DiffIn, request: Request, _: Principal = requires(Permission.POLICY_READ)
) -> list[ChangeOut]:
    """Every change between two statements sent as YAML."""
    limits = services_of(request).settings.policy
    old = service.read_text(body.old_yaml, source="old_yaml", limits=limits).statement
    new = service.read_text(body.new_yaml, source="new_yaml", limits=limits).statement
    return [ChangeOut(**c.as_dict()) for c in diff_statements(old, new)]


@router.get("/diff", response_model=list[ChangeOut])
def diff_versions(
    request: Request,
    old: str = Query(description="Published version id."),
    new: str = Query(description="Published version id."),
    _: Principal = requires(Permission.POLICY_READ),
) -> list[ChangeOut]:
    """Every change between two published versions."""
    with services_of(request).database.session() as session:
        a = service.statement_of(service.get(session, old))
        b = service.statement_of(service.get(session, new))
    return [ChangeOut(**c.as_dict()) for c in diff_statements(a, b)]


@router.post("/publish", response_model=VersionOut, status_code=201, openapi_extra=YAML_BODY)
async def publish(request: Request, principal: Principal = requires(Permission.POLICY_PUBLISH)) -> VersionOut:
    """Publish a new immutable version (refuses duplicates and earlier effective dates)."""
    loaded, raw = await _loaded(request, source=request.headers.get("x-filename", "<body>")[:200])
    with services_of(request).database.session() as session:
        row = service.publish(session, loaded, raw, actor=principal.actor)
        return VersionOut.of(row)


@router.get("/versions", response_model=list[VersionOut])
def versions(request: Request, _: Principal = requires(Permission.POLICY_READ)) -> list[VersionOut]:
    """Every published version, oldest first."""
    with services_of(request).database.session() as session:
        current = service.in_force(session, date.today())
        return [VersionOut.of(row, current) for row in service.versions(session)]


@router.get("/in-force", response_model=VersionOut)
def in_force(
    request: Request,
    at: date | None = Query(None, description="Date to ask about; today by default."),
    _: Principal = requires(Permission.POLICY_READ),
) -> VersionOut:
    """The version in force on a date."""
    when = at or date.today()
    with services_of(request).database.session() as session:
        row = service.in_force(session, when)
        if row is None:
            raise NotFound(f"no statement was in force on {when}")
        return VersionOut.of(row, row)


@router.get("/versions/{version}")
def version_document(request: Request, version: str, _: Principal = requires(Permission.POLICY_READ)) -> dict[str, Any]:
    """One version: its metadata, its document and its source text."""
    with services_of(request).database.session() as session:
        row = service.get(session, version)
        return {**VersionOut.of(row).model_dump(mode="json"), "document": row.document, "source": row.source_text}
