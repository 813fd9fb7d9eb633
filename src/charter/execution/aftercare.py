"""What a completed deletion leaves behind in Charter's own database (P-RGT-3, P-SEC-1).

The data stores are erased and verified step by step; this runs once, in the
transaction that completes the run (``Runner._finish``), and makes Charter
forget the person too:

* their ledger events are tombstoned (``charter.ledger.tombstones``): rows
  kept for the ledger's integrity, every purpose, signal and value removed,
  their state recomputed to empty;
* their identities are deleted from the Vault (the sealed values with them);
* the mail links minted for them and the opens counted through those links
  are deleted (tracking data about the person);
* the keyed hashes of those identities, and of the request's own identity,
  go on the suppression list, so they are not contacted again.

The completion notice to the requester is not affected: it is addressed from
the request's own sealed identity, which the request keeps as the record of
the answer (P-RGT-8). Returns counts only, for the audit entry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from charter.db.base import rowcount
from charter.ledger import tombstones
from charter.maillinks.models import MailLink, MailOpen
from charter.requests import identity_start, review
from charter.requests.models import PrivacyRequest
from charter.requests.sealing import identity_of
from charter.subjects import service as subjects
from charter.subjects.models import Identity, Person
from charter.subjects.service import Vault
from charter.suppression import service as suppression


def after_erasure(session: Session, *, vault: Vault, request_row: PrivacyRequest, now: datetime) -> dict[str, int]:
    """Tombstone, forget and suppress the requester; how many of each (in the caller's transaction).

    Idempotent: a second call finds nothing left to tombstone or delete and
    only re-stamps the suppression entries.
    """
    # The request's identity hashed now, with the current lookup key: the one every later check will use.
    # (any kind the request started from, custom ones included: identity_start.lookup_hash, as key_of for Charter's)
    kind = request_row.identity_kind
    keys = {(kind, identity_start.lookup_hash(vault, kind, identity_of(vault, request_row)))}
    counts = {"ledger_events_tombstoned": 0, "identities_removed": 0, "mail_links_removed": 0, "mail_opens_removed": 0}
    person: Person | None = None
    person_id = review.person_id_of(session, request_row)
    if person_id is not None:
        person = subjects.canonical(session, session.get_one(Person, person_id))
        counts["ledger_events_tombstoned"] = tombstones.tombstone(session, person, request=request_row.public_id)
        keys |= {(i.kind, i.lookup_hash) for i in subjects.identities_of(session, person)}
        counts["identities_removed"] = rowcount(
            session.execute(
                delete(Identity).where(Identity.person_id == person.id).execution_options(synchronize_session=False)
            )
        )
        people = [person.id, *session.scalars(select(Person.id).where(Person.merged_into == person.id))]
        links = select(MailLink.id).where(MailLink.person_id.in_(people)).scalar_subquery()
        counts["mail_opens_removed"] = rowcount(
            session.execute(
                delete(MailOpen).where(MailOpen.link_id.in_(links)).execution_options(synchronize_session=False)
            )
        )
        counts["mail_links_removed"] = rowcount(
            session.execute(
                delete(MailLink).where(MailLink.person_id.in_(people)).execution_options(synchronize_session=False)
            )
        )
    counts["suppressed"] = len(keys)
    suppression.suppress(
        session, keys, request=request_row.public_id, person=None if person is None else person.public_id, now=now
    )
    return counts
