"""What must hold before a run starts or resumes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from charter.execution.steps import Action, Plan
from charter.requests import holds, review
from charter.requests.errors import HeldByLegalHold
from charter.requests.models import PrivacyRequest


def refuse_held(session: Session, row: PrivacyRequest, plan: Plan) -> None:
    """No erasure while a legal hold covers the person or a system the plan would erase in (P-RET-3)."""
    erased = {s.system for s in plan.of(Action.ERASE)}
    if not erased:
        return
    for hold in holds.active_for(session, review.person_id_of(session, row)):
        if hold.person_id is not None or hold.system in erased:
            where = f"system {hold.system}" if hold.system else "this person"
            raise HeldByLegalHold(
                f"legal hold {hold.public_id} covers {where} ({hold.reason[:200]}); nothing is erased until it "
                "is released"
            )
