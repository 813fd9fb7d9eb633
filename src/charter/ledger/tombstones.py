"""Tombstoning a person's ledger events when their data is erased (P-RGT-3).

The ledger is append-only and its rows are referenced by the audit log
(``ledger.recorded`` entries), so an erasure does not delete them: each row
keeps what the ledger's integrity needs — its id, the person row it belongs
to, when it was said and recorded, the channel and the statement version —
and loses everything else. Its ``kind`` becomes :data:`TOMBSTONE`, so no
purpose, consent or signal survives: ``_events_of`` and ``rebuild`` skip
tombstones, and the person's state is recomputed to the empty state in the
same transaction. A rebuild therefore cannot turn an erased person's old
marketing consent back on. ``data`` names the erasure request.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from charter.db.base import rowcount
from charter.ledger.events import TOMBSTONE
from charter.ledger.models import LedgerEvent
from charter.ledger.service import _lock_people, _recompute, _state_row
from charter.subjects import service as subjects
from charter.subjects.models import Person


def tombstone(session: Session, person: Person, *, request: str) -> int:
    """Empty every event of ``person`` (in the caller's transaction); how many were tombstoned now.

    Idempotent: events already tombstoned are left as they are, so a second
    call (a resumed run) counts 0.
    """
    person = subjects.canonical(session, person)
    _lock_people(session, [person.id])
    count = rowcount(
        session.execute(
            update(LedgerEvent)
            .where(LedgerEvent.person_id == person.id, LedgerEvent.kind != TOMBSTONE)
            .values(kind=TOMBSTONE, jurisdiction=None, evidence={}, data={"request": request})
            .execution_options(synchronize_session=False)
        )
    )
    _recompute(session, person.id, _state_row(session, person.id))
    return count
