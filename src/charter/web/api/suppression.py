"""The suppression list over HTTP, for staff only (P-RGT-3, P-SEC-1).

* ``GET /api/v1/suppression?email=…`` (or ``?kind=phone&value=…``,
  ``subjects:read``): is this identity listed? Always 200 with ``listed``
  true or false; the identity is never echoed. Audited.
* ``GET /api/v1/suppression/entries`` (``subjects:read``): the list, a page at
  a time: keyed hashes, reasons and requests, never an identity. Audited.

Not public: whether a person was erased is itself personal data.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from charter.auth.principal import Principal
from charter.auth.roles import Permission
from charter.errors import InvalidInput
from charter.suppression import service as suppression
from charter.web.security import requires, services_of

router = APIRouter()


@router.get("/suppression")
def check(
    request: Request,
    email: str | None = Query(None, max_length=320, description="An e-mail address."),
    kind: str | None = Query(None, max_length=16, description="Another identity kind (phone, account_id …)."),
    value: str | None = Query(None, max_length=320, description="The identity of that kind."),
    principal: Principal = requires(Permission.SUBJECTS_READ),
) -> dict[str, object]:
    """Whether the identity is on the suppression list (its owner erased: do not contact)."""
    if email is not None and kind is None and value is None:
        kind, value = "email", email
    elif email is not None or kind is None or value is None:
        raise InvalidInput("name the identity with email=…, or with kind=… and value=… (not both)")
    services = services_of(request)
    with services.database.session() as session:
        row = suppression.check(session, services.vault, kind, value, actor=principal.actor)
        return {"listed": False, "kind": kind} if row is None else {"listed": True, **suppression.document(row)}


@router.get("/suppression/entries")
def entries(
    request: Request,
    after: int = Query(0, ge=0, description="Entries after this id (the cursor)."),
    limit: int = Query(100, ge=1, le=suppression.MAX_PAGE),
    principal: Principal = requires(Permission.SUBJECTS_READ),
) -> dict[str, object]:
    """The list in the order it grew."""
    with services_of(request).database.session() as session:
        found = [suppression.document(row) for row in suppression.listed(session, after_id=after, limit=limit)]
        suppression.audit_listed(session, len(found), actor=principal.actor)
    return {"entries": found, "next_after": found[-1]["id"] if found else None}
