"""What the status page needs to ask a high-risk request's requester for facts held (P-RGT-7).

Kept apart from :mod:`.facts` (the route) so that :mod:`.status` can build
its page with the facts form without importing the route that imports it.
The questions come from the data map (``CHARTER_DATAMAP_PATH``): the fact
kinds its collections reachable from an e-mail address hold. A data map that
cannot be loaded means no form (the page never fails because of it); the
console then shows the request still waiting for facts.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from charter.errors import CharterError
from charter.execution import service as execution
from charter.execution.facts_lookup import offered
from charter.requests import factcheck
from charter.requests.facts import KINDS, FactKind
from charter.requests.identity_start import offered_facts
from charter.requests.models import PrivacyRequest
from charter.services import Services

log = logging.getLogger("charter.requests")
FIELD_PREFIX = "fact_"


def kinds_offered(services: Services, identity_kind: str) -> list[FactKind]:
    """The fact kinds to ask for; none when the data map is missing or invalid (logged, without values)."""
    try:
        datamap = execution.load_datamap(services.settings)
    except CharterError as exc:
        log.warning("facts matching: the data map could not be loaded (%s)", exc.code)
        return []
    # a request made with a phone is not proven by that phone's last digits (charter.requests.identity_start)
    return [KINDS[kind] for kind in offered_facts(identity_kind, offered(datamap, identity_kind))]


def context(services: Services, session: Session, row: PrivacyRequest) -> dict[str, Any]:
    """``facts_kinds`` (the questions, or [] when no form is shown), whether facts were sent, the neutral answer."""
    state = factcheck.state_of(session, row)
    shown = factcheck.may_send(state, row, services.settings.requests)
    return {
        "facts_kinds": kinds_offered(services, row.identity_kind) if shown else [],
        "facts_sent": bool(state and state.attempts),
        "facts_prefix": FIELD_PREFIX,
        "facts_neutral": factcheck.NEUTRAL,
    }
