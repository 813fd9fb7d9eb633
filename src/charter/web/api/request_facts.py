"""``POST /api/v1/requests/verify-facts``: confirm a request with its code and send facts held (P-RGT-7).

For privacy centers built on the API. The e-mailed code (with the request
id) or the link's token proves control of the address, exactly as
``POST /api/v1/requests/verify``; the ``facts`` sent with it are then
compared with the data stores for a high-risk request
(``CHARTER_REQUESTS_FACTS_KINDS``) and only the outcome is kept for the
privacy office. Public and rate-limited; the answer has one shape and one
text whatever the outcome — matched, not matched, nobody in the stores, a
store down, a request that needs no facts — so it says nothing about what
the organization holds. Only a malformed fact (a date that is not a date)
or a wrong code is refused, which depends on what was sent alone.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from charter.errors import InvalidInput
from charter.execution.facts_lookup import check_against_stores
from charter.requests import factcheck, facts, intake, notices
from charter.services import Services
from charter.web.security import public, services_of

router = APIRouter()
VERIFY_FACTS = public("requests-facts", per_minute=10)
"""The pages' bucket: each call may read the organization's stores."""


class VerifyFactsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(default=None, max_length=32, description="The request id (with code).")
    code: str | None = Field(default=None, max_length=20, description="The e-mailed code.")
    token: str | None = Field(default=None, max_length=200, description="Or the link's token.")
    facts: dict[str, str] = Field(
        default_factory=dict,
        max_length=len(facts.KINDS),
        description=f"Facts the requester knows, by kind: {', '.join(facts.KINDS)}. Never stored.",
    )


class VerifyFactsOut(BaseModel):
    id: str
    status: str = "in_review"
    message: str = factcheck.NEUTRAL


@router.post("/requests/verify-facts", response_model=VerifyFactsOut, dependencies=[VERIFY_FACTS])
def verify_facts(body: VerifyFactsIn, request: Request) -> VerifyFactsOut:
    """Redeem the code or token, then match the facts; the same answer whatever the outcome."""
    services = services_of(request)
    cleaned = facts.strictly_cleaned(body.facts)
    public_id = confirmed(services, body.id, body.code, body.token)
    if cleaned:
        check_against_stores(services, public_id, cleaned)
    return VerifyFactsOut(id=public_id)


def confirmed(services: Services, public_id: str | None, code: str | None, token: str | None) -> str:
    """Confirm a request by its link's token, or its id and e-mailed code (``POST /requests/verify`` and
    ``/requests/verify-facts``); its id. The e-mails the confirmation queued go out."""
    if token:
        public_id = intake.verify_link(services.database, token, vault=services.vault, settings=services.settings)
    elif public_id and code:
        public_id = intake.verify_code(
            services.database, public_id, code, vault=services.vault, settings=services.settings
        )
    else:
        raise InvalidInput("send the request id and the code, or the link's token")
    notices.deliver(services.database, services.mailer, vault=services.vault, settings=services.settings)
    return public_id
