"""/.well-known/gpc.json: the site's Global Privacy Control support resource (promise P-TRK-2).

Per the GPC specification (https://privacycg.github.io/gpc-spec/): a JSON
object with ``gpc`` (true when the site intends to honor the signal) and
``lastUpdate`` (an ISO date). ``gpc`` is true when the statement in force
lists a ``gpc`` browser signal; ``lastUpdate`` is the date it took effect.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from charter.banner import service as banner
from charter.errors import NotFound
from charter.policy.service import today as policy_today
from charter.web.security import public, services_of

router = APIRouter(tags=["banner"])


@router.get("/.well-known/gpc.json", dependencies=[public("well-known", per_minute=300)])
def gpc_support(request: Request) -> JSONResponse:
    """Whether this site honors Global Privacy Control, and since when."""
    with services_of(request).database.session() as session:
        declared = banner.gpc_declaration(session, policy_today())
    if declared is None:
        raise NotFound("no privacy statement is in force yet")
    return JSONResponse(
        {"gpc": declared.gpc, "lastUpdate": declared.last_update.isoformat()},
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=3600"},
    )
