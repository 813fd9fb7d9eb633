"""Moving a request from one state to the next: checked, race-free, audited."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from charter import audit
from charter.db.base import rowcount
from charter.requests.errors import IllegalTransition
from charter.requests.kinds import TRANSITIONS, Status
from charter.requests.models import PrivacyRequest


def require(row: PrivacyRequest, *allowed: Status, doing: str) -> None:
    """Refuse ``doing`` unless the request is in one of ``allowed``."""
    if Status(row.status) not in allowed:
        wanted = " or ".join(s.label for s in allowed)
        raise IllegalTransition(
            f"request {row.public_id} is {Status(row.status).label}; it can be {doing} only when {wanted}"
        )


MOVE = (
    update(PrivacyRequest)
    .where(PrivacyRequest.id == bindparam("row"), PrivacyRequest.status == bindparam("current"))
    .values(status=bindparam("to"), updated_at=bindparam("now"))
)


def move(
    session: Session,
    row: PrivacyRequest,
    to: Status,
    *,
    actor: str,
    now: datetime,
    data: Mapping[str, object] | None = None,
) -> None:
    """Set ``row`` to ``to`` if the state machine allows it from the state it is in now.

    The update is conditional on the state read, so of two staff members
    deciding at once, one wins and the other gets :class:`IllegalTransition`.
    Writes ``request.<to>`` to the audit log with ``data`` (ids and codes only).
    """
    params, entry = moving(row, to, actor=actor, now=now, data=data)
    # a plain UPDATE on the session's connection (the row's attributes are set below): the ORM's bulk-update
    # path cost more than the statement. The caller's pending changes go first, as the ORM would send them.
    session.flush()
    changed = session.connection().execute(MOVE, params)
    if rowcount(changed) != 1:
        session.refresh(row)
        raise IllegalTransition(
            f"request {row.public_id} was changed by someone else a moment ago (now {Status(row.status).label})"
        )
    set_committed_value(row, "status", to.value)
    set_committed_value(row, "updated_at", now)
    audit.record_many(session, [entry])


def moving(
    row: PrivacyRequest, to: Status, *, actor: str, now: datetime, data: Mapping[str, object] | None = None
) -> tuple[dict[str, object], audit.Entry]:
    """What :func:`move` sends: the parameters of :data:`MOVE` (one row changed, or someone else moved it first)
    and its audit entry; IllegalTransition if the state machine does not allow ``to`` from the row's state."""
    current = Status(row.status)
    if to not in TRANSITIONS[current]:
        raise IllegalTransition(f"request {row.public_id} is {current.label}; it cannot become {to.label}")
    params: dict[str, object] = {"row": row.id, "current": current.value, "to": to.value, "now": now}
    entry = audit.Entry(
        actor, f"request.{to.value}", f"request:{row.public_id}", {"from": current.value, **(data or {})}
    )
    return params, entry
