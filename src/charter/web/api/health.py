"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text

from charter.errors import Unavailable
from charter.web.security import public, services_of

router = APIRouter(tags=["health"])


@router.get("/healthz", dependencies=[public("health", per_minute=600)])
def healthz(request: Request) -> dict[str, str]:
    """200 when the server runs and its database answers."""
    try:
        with services_of(request).database.session() as session:
            session.execute(text("SELECT 1"))
    except Unavailable:
        raise
    return {"status": "ok"}
