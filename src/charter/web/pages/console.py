"""The privacy office's console: statement versions, publishing, the audit log."""

from __future__ import annotations

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse

from charter import audit
from charter.auth.principal import Principal
from charter.auth.roles import Permission
from charter.errors import CharterError, InputTooLarge
from charter.policy import service
from charter.policy.diff import diff
from charter.web.security import requires, services_of
from charter.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("")
def dashboard(request: Request, principal: Principal = requires(Permission.CONSOLE_VIEW)) -> HTMLResponse:
    with services_of(request).database.session() as session:
        rows = service.versions(session)
        current = service.in_force(session, service.today())
    return render(request, "console/dashboard.html", versions=rows, current=current)


def _policy_page(request: Request, status_code: int = 200, **extra: object) -> HTMLResponse:
    with services_of(request).database.session() as session:
        rows = service.versions(session)
        current = service.in_force(session, service.today())
    return render(request, "console/policy.html", status_code=status_code, versions=rows, current=current, **extra)


@router.get("/policy")
def policy(request: Request, _: Principal = requires(Permission.POLICY_READ)) -> HTMLResponse:
    return _policy_page(request)


@router.post("/policy")
async def publish(
    request: Request,
    statement: UploadFile = File(description="The statement YAML file."),
    principal: Principal = requires(Permission.POLICY_PUBLISH),
) -> HTMLResponse:
    """Publish from an uploaded file; problems are listed on the page, nothing is stored."""
    services = services_of(request)
    limits = services.settings.policy
    name = (statement.filename or "upload.yaml")[:200]
    try:
        raw = await statement.read(limits.max_bytes + 1)
        if len(raw) > limits.max_bytes:
            raise InputTooLarge(f"{name} is larger than {limits.max_bytes:,} bytes")
        loaded = service.read_text(raw, source=name, limits=limits)
        with services.database.session() as session:
            row = service.publish(session, loaded, raw, actor=principal.actor)
            published = row.version
    except CharterError as exc:
        return _policy_page(
            request, status_code=exc.status, error=exc.detail, problems=[p.render() for p in exc.problems]
        )
    return _policy_page(request, status_code=201, published=published)


@router.get("/policy/diff")
def policy_diff(
    request: Request,
    old: str = Query(max_length=64),
    new: str = Query(max_length=64),
    _: Principal = requires(Permission.POLICY_READ),
) -> HTMLResponse:
    with services_of(request).database.session() as session:
        a = service.get(session, old)
        b = service.get(session, new)
        changes = diff(service.statement_of(a), service.statement_of(b))
    return render(request, "console/diff.html", a=a, b=b, changes=changes)


@router.get("/audit")
def audit_log(
    request: Request,
    before: int | None = Query(None, ge=1),
    action: str | None = Query(None, max_length=80),
    _: Principal = requires(Permission.AUDIT_READ),
) -> HTMLResponse:
    with services_of(request).database.session() as session:
        found = audit.entries(session, limit=50, before_seq=before, action=action or None)
        check = audit.verify(session)
    return render(request, "console/audit.html", entries=found, check=check, action=action)
