"""The public privacy center: the statement in force, every version, what changed.

Public by design (P-STM-1: every version stays available), rate-limited.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from charter.errors import NotFound
from charter.policy import service
from charter.policy.diff import Change, diff
from charter.policy.render import render as render_statement
from charter.web.security import public, services_of
from charter.web.templating import render

router = APIRouter(include_in_schema=False)
PUBLIC = public("privacy-center", per_minute=300)


def _not_published(request: Request) -> HTMLResponse:
    return render(request, "privacy/empty.html", status_code=404)


def _statement_page(request: Request, version: str | None) -> HTMLResponse:
    today = service.today()
    with services_of(request).database.session() as session:
        rows = service.versions(session)
        current = service.in_force(session, today)
        if version is None:
            row = current
            if row is None:
                return _not_published(request)
        else:
            try:
                row = service.get(session, version)
            except NotFound:
                return render(request, "privacy/missing.html", status_code=404, version=version, versions=rows)
        body = Markup(render_statement(service.statement_of(row), "html"))  # noqa: S704 - autoescaped template
    return render(
        request,
        "privacy/statement.html",
        body=body,
        row=row,
        current=current,
        versions=rows,
        is_current=current is not None and row.id == current.id,
        is_future=row.effective > today,
    )


@router.get("/", dependencies=[PUBLIC])
def home() -> RedirectResponse:
    return RedirectResponse("/privacy", status_code=307)


@router.get("/privacy", dependencies=[PUBLIC])
def statement_in_force(request: Request) -> HTMLResponse:
    return _statement_page(request, None)


@router.get("/privacy/versions", dependencies=[PUBLIC])
def version_list(request: Request, version: str | None = Query(None, max_length=64)) -> Response:
    if version:
        return RedirectResponse(f"/privacy/versions/{version}", status_code=303)
    with services_of(request).database.session() as session:
        rows = service.versions(session)
        current = service.in_force(session, service.today())
    return render(request, "privacy/versions.html", versions=rows, current=current)


@router.get("/privacy/versions/{version}", dependencies=[PUBLIC])
def statement_version(request: Request, version: str) -> HTMLResponse:
    return _statement_page(request, version)


def _display(value: Any) -> str:
    """A short human rendering of a changed value."""
    if value is None:
        return ""
    if isinstance(value, dict):
        for key in ("name", "description", "summary", "id", "right", "key"):
            if value.get(key):
                return str(value[key])
        return ", ".join(f"{k}: {v}" for k, v in value.items() if v not in (None, [], ""))[:200]
    if isinstance(value, list):
        return ", ".join(_display(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _group(changes: list[Change]) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for change in changes:
        head = change.path.split(".")[0].split("[")[0]
        groups.setdefault(head.replace("_", " ").capitalize(), []).append(
            {**change.as_dict(), "old_text": _display(change.old), "new_text": _display(change.new)}
        )
    return list(groups.items())


@router.get("/privacy/changes", dependencies=[PUBLIC])
def changes(
    request: Request,
    old: str | None = Query(None, alias="from", max_length=64),
    new: str | None = Query(None, alias="to", max_length=64),
) -> HTMLResponse:
    """What changed between two versions, substantive changes first and highlighted (P-STM-2)."""
    with services_of(request).database.session() as session:
        rows = service.versions(session)
        if len(rows) < 2 and not (old and new):
            return render(request, "privacy/changes.html", versions=rows, pair=None)
        try:
            a = service.get(session, old) if old else rows[-2]
            b = service.get(session, new) if new else rows[-1]
        except NotFound:
            return render(request, "privacy/missing.html", status_code=404, version=old or new, versions=rows)
        found = diff(service.statement_of(a), service.statement_of(b))
    substantive = [c for c in found if c.substantive]
    minor = [c for c in found if not c.substantive]
    return render(
        request,
        "privacy/changes.html",
        versions=rows,
        pair=(a, b),
        substantive=_group(substantive),
        minor=_group(minor),
        counts=(len(substantive), len(minor)),
    )
