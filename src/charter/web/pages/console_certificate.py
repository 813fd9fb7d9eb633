"""The deletion certificate as a console page: ``GET /console/requests/{id}/certificate`` (P-RGT-3).

The certificate itself is built and stored by the runner when a deletion's
verification passed (:mod:`charter.execution.certificate`, schema
``charter.certificate/1``); this page only renders the stored JSON for the
privacy office (``requests:read``), as accessible tables that print well:
systems, collections with their strategy, rows matched and affected, when
each was erased and verified, the audit entries that record it, and the
collections kept with the reason. The JSON is one click away through the
existing API route (``GET /api/v1/requests/{id}/certificate``, which takes
the same console session). A request without a certificate is a 404 page;
an anonymous visitor is sent to sign in (``charter.web.problems``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from charter.auth.principal import Principal
from charter.auth.roles import Permission
from charter.errors import NotFound
from charter.execution import claims
from charter.requests import review
from charter.requests.kinds import RequestKind
from charter.requests.models import PrivacyRequest
from charter.web.security import requires, services_of
from charter.web.templating import render

router = APIRouter(include_in_schema=False)


def stored(session: Session, row: PrivacyRequest) -> dict[str, Any] | None:
    """The stored certificate of ``row``, or None (only a verified deletion has one)."""
    run = claims.run_of(session, row.id)
    return None if run is None or run.certificate is None else dict(run.certificate)


def exists(session: Session, row: PrivacyRequest) -> bool:
    return stored(session, row) is not None


def _strategy(entry: dict[str, Any]) -> str:
    """``delete_row``, or each field with its strategy: ``email: keyed_hash, phone: set_null``."""
    if entry.get("strategy"):
        return str(entry["strategy"])
    fields = entry.get("fields") or {}
    return ", ".join(f"{name}: {how}" for name, how in sorted(fields.items()))


@router.get("/requests/{public_id}/certificate")
def certificate_page(
    request: Request, public_id: str, principal: Principal = requires(Permission.REQUESTS_READ)
) -> HTMLResponse:
    """The certificate of a completed deletion; 404 (a page) before there is one."""
    with services_of(request).database.session() as session:
        row = review.get(session, public_id)
        found = stored(session, row)
        if found is None:
            raise NotFound(f"request {row.public_id} has no certificate (only a completed deletion has one)")
        label = RequestKind(row.kind).label
    collections = [{**c, "strategy_text": _strategy(c)} for c in found.get("collections") or []]
    return render(
        request,
        "console/certificate.html",
        cert=found,
        public_id=public_id,
        label=label,
        collections=collections,
        rows_affected=sum(int(c.get("rows_affected") or 0) for c in collections),
        audit_links=principal.can(Permission.AUDIT_READ),
    )
