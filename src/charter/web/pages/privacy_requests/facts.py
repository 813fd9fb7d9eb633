"""``POST /privacy/requests/{id}/facts``: the verified requester sends facts held (P-RGT-7).

For the verified requester only (the status page's cookie) with the form's
CSRF token, rate-limited per client address. The only checks the person
sees are about what they typed (a date that is not a date, nothing filled
in); once well formed, the facts are compared with the data stores and the
answer is always the same redirect to the status page with one neutral
sentence, whether the address is in the data or not, the facts matched or
not, or a store was down (no enumeration: the outcome is for the privacy
office's console only).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from charter.execution.facts_lookup import check_against_stores
from charter.requests import facts, review
from charter.services import Services
from charter.web.pages import preference_tokens as tokens
from charter.web.pages.privacy_requests import facts_form
from charter.web.pages.privacy_requests.common import BASE, SCOPE, forbidden_page
from charter.web.pages.privacy_requests.status import _not_yours, _status_page, _verified
from charter.web.security import public, services_of

router = APIRouter(include_in_schema=False)
FACTS = public("requests-facts", per_minute=10)
"""Each send reads the organization's stores: as tight as submitting a request."""


@router.post(BASE + "/{public_id}/facts", dependencies=[FACTS])
async def send_facts(request: Request, public_id: str) -> Response:
    services = services_of(request)
    form = await request.form(max_files=0, max_fields=20)
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    await form.close()
    return await run_in_threadpool(_send, request, services, public_id, fields)


def _send(request: Request, services: Services, public_id: str, fields: dict[str, str]) -> Response:
    if not _verified(request, services, public_id):
        return _not_yours(request, public_id)
    if not tokens.check_csrf(request, services, fields.get(tokens.CSRF_FIELD, ""), scope=SCOPE):
        return forbidden_page(request)
    given = {
        name[len(facts_form.FIELD_PREFIX) :]: value
        for name, value in fields.items()
        if name.startswith(facts_form.FIELD_PREFIX)
    }
    try:
        cleaned = facts.cleaned(given)
    except ValueError as exc:
        kind = facts.KINDS[str(exc)]
        return _again(request, services, public_id, given, f"{kind.label}: {kind.hint}", field=kind.id)
    if not cleaned:
        return _again(request, services, public_id, given, "Fill in at least one of the facts.", field=None)
    check_against_stores(services, public_id, cleaned)
    return RedirectResponse(f"{BASE}/{public_id}?facts=1", status_code=303)


def _again(
    request: Request, services: Services, public_id: str, given: dict[str, str], error: str, *, field: str | None
) -> Response:
    """The status page with the facts form, what was typed and the problem (422)."""
    with services.database.session() as session:
        row = review.get(session, public_id)
        typed = {k: v[: facts.MAX_FACT] for k, v in given.items() if k in facts.KINDS}
        return _status_page(
            request, services, row, status_code=422, facts_error=error, facts_field=field, facts_typed=typed
        )
