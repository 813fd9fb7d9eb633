"""``GET /api/v1/requests/{id}/correction`` (``requests:read``): a correction's before/after (P-RGT-2).

The values are opened from their sealed record for the staff member who
asks, and the opening is audited (P-SEC-1). 400 for a request that is not a
correction, 404 for an unknown one or one not carried out yet.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from charter.auth.principal import Principal
from charter.auth.roles import Permission
from charter.execution import corrections
from charter.requests import review
from charter.web.security import requires, services_of

router = APIRouter()


@router.get("/requests/{public_id}/correction")
def correction(
    request: Request, public_id: str, principal: Principal = requires(Permission.REQUESTS_READ)
) -> dict[str, Any]:
    """Each corrected field's value before and after, per system, collection and row."""
    services = services_of(request)
    with services.database.session() as session:
        return corrections.read(session, services.vault.keys, review.get(session, public_id), actor=principal.actor)
