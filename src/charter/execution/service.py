"""Planning a stored request: open what planning needs from the request, then call the pure planner.

The identity value is opened from the sealed request only to be masked; it
never leaves this function except inside the plan's masked form.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from charter.datamap import service as datamaps
from charter.datamap.model import DataMap
from charter.execution import plan
from charter.execution.steps import Plan
from charter.requests import review
from charter.requests.kinds import RequestKind
from charter.requests.models import PrivacyRequest
from charter.requests.sealing import details_of, identity_of
from charter.settings import Settings
from charter.subjects.service import Vault


def load_datamap(settings: Settings, path: Path | None = None) -> DataMap:
    """The valid data map at ``path`` (default ``CHARTER_DATAMAP_PATH``), or DatamapInvalid with every problem."""
    return datamaps.load(path or settings.datamap.path, settings)


def plan_request(session: Session, public_id: str, datamap: DataMap, *, vault: Vault) -> Plan:
    """The plan of the stored request ``public_id`` (NotFound if there is none)."""
    return plan_of(review.get(session, public_id), datamap, vault=vault)


def plan_of(row: PrivacyRequest, datamap: DataMap, *, vault: Vault) -> Plan:
    """The plan of a request row already read."""
    kind = RequestKind(row.kind)
    fields: list[str] = []
    if kind == RequestKind.CORRECTION:
        named = details_of(vault, row).get("field")
        fields = [named] if isinstance(named, str) else []
    wanted = plan.PlanRequest(row.public_id, kind, {row.identity_kind: [identity_of(vault, row)]}, fields)
    return plan.build(datamap, wanted)
