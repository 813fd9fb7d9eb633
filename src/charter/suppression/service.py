"""Putting identities on the suppression list and asking whether one is on it.

Every question goes through the Vault's keyed hash of the normalized
identity, so the list answers "is ana@example.org suppressed?" without ever
holding the address (P-SEC-1). Suppression is about *contact* (P-RGT-3: an
erased person is not contacted again): the decision engine refuses marketing
and e-mail tracking for a suppressed identity, mail links are not minted for
it, but a notice about the person's own request still goes out. A consent the
person gives *after* the erasure lifts it for that purpose only (the engine
compares times; the row stays as the record of the erasure). See
docs/design/suppression.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter import audit
from charter.errors import InvalidInput
from charter.subjects.models import Identity
from charter.subjects.normalize import IdentityKind
from charter.subjects.service import Vault
from charter.suppression.models import ERASED, Suppressed

Key = tuple[str, str]
"""(identity kind, keyed lookup hash)."""

CHUNK = 500  # values per IN (...), well under every backend's bound-parameter limit
MAX_PAGE = 1_000

_T = TypeVar("_T")


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for begin in range(0, len(items), CHUNK):
        yield items[begin : begin + CHUNK]


def key_of(vault: Vault, kind: IdentityKind | str, value: str) -> Key:
    """The list's key for an identity as typed (normalized first; InvalidIdentity if malformed)."""
    found_kind, normalized = vault.normalize(kind, value)
    return found_kind.value, vault.lookup_hash(found_kind, normalized)


def suppress(
    session: Session,
    keys: Iterable[Key],
    *,
    request: str,
    person: str | None,
    now: datetime,
    reason: str = ERASED,
) -> int:
    """Put these keys on the list (in the caller's transaction); how many were not on it yet.

    A key already listed (the person came back, then asked to be erased
    again) is stamped with the newer request and time: a consent given
    between the two erasures must not lift the second one.
    """
    wanted = sorted(set(keys))
    if not wanted:
        return 0
    existing: dict[Key, Suppressed] = {}
    for kind in sorted({k for k, _ in wanted}):
        hashes = [h for k, h in wanted if k == kind]
        for chunk in _chunks(hashes):
            for listed_row in session.scalars(
                select(Suppressed).where(Suppressed.kind == kind, Suppressed.lookup_hash.in_(chunk))
            ):
                existing[(listed_row.kind, listed_row.lookup_hash)] = listed_row
    added = 0
    for kind, digest in wanted:
        row = existing.get((kind, digest))
        if row is None:
            session.add(
                Suppressed(kind=kind, lookup_hash=digest, reason=reason, request=request, person=person, created_at=now)
            )
            added += 1
        else:
            row.reason, row.request, row.created_at = reason, request, now
            row.person = person or row.person
    session.flush()
    return added


def entry_for(session: Session, vault: Vault, kind: IdentityKind | str, value: str) -> Suppressed | None:
    """The list's row for an identity, or None. Staff and internal use only: it says who was erased."""
    found_kind, digest = key_of(vault, kind, value)
    return session.scalar(select(Suppressed).where(Suppressed.kind == found_kind, Suppressed.lookup_hash == digest))


def is_suppressed(session: Session, vault: Vault, kind: IdentityKind | str, value: str) -> bool:
    """Is this identity on the suppression list (its owner erased, not to be contacted again)?"""
    return entry_for(session, vault, kind, value) is not None


def check(session: Session, vault: Vault, kind: IdentityKind | str, value: str, *, actor: str) -> Suppressed | None:
    """:func:`entry_for`, audited: staff asking whether someone was erased is an access to personal data (P-SEC-1)."""
    row = entry_for(session, vault, kind, value)
    audit.record(
        session,
        actor=actor,
        action="suppression.checked",
        target="suppression",
        data={"kind": vault.normalize(kind, value)[0].value, "listed": row is not None},
    )
    return row


def since_for_keys(session: Session, keys: Iterable[Key]) -> dict[Key, datetime]:
    """When each listed key was suppressed (unlisted keys are absent): one query per kind and chunk."""
    wanted = sorted(set(keys))
    found: dict[Key, datetime] = {}
    for kind in sorted({k for k, _ in wanted}):
        hashes = [h for k, h in wanted if k == kind]
        for chunk in _chunks(hashes):
            rows = session.execute(
                select(Suppressed.lookup_hash, Suppressed.created_at).where(
                    Suppressed.kind == kind, Suppressed.lookup_hash.in_(chunk)
                )
            )
            found.update(((kind, digest), at) for digest, at in rows)
    return found


def since_for_people(session: Session, people: Mapping[int, str]) -> dict[int, datetime]:
    """For each person (id → public id) on the list, the latest suppression that covers them.

    A person is covered when one of their identities' hashes is listed (they
    signed up again after an erasure) or when they are the erased person
    themselves (asked about by public id; their identities are gone).
    """
    found: dict[int, datetime] = {}

    def keep(person_id: int, at: datetime) -> None:
        if person_id not in found or at > found[person_id]:
            found[person_id] = at

    ids = sorted(people)
    for chunk in _chunks(ids):
        rows = session.execute(
            select(Identity.person_id, Suppressed.created_at)
            .join(Suppressed, (Suppressed.kind == Identity.kind) & (Suppressed.lookup_hash == Identity.lookup_hash))
            .where(Identity.person_id.in_(chunk))
        )
        for person_id, at in rows:
            keep(person_id, at)
    by_public = {public: person_id for person_id, public in people.items()}
    for public_ids in _chunks(sorted(by_public)):
        for public, at in session.execute(
            select(Suppressed.person, Suppressed.created_at).where(Suppressed.person.in_(public_ids))
        ):
            if public is not None:
                keep(by_public[public], at)
    return found


def listed(session: Session, *, after_id: int = 0, limit: int = 100) -> list[Suppressed]:
    """The list in the order it grew, a page at a time (``after_id`` is the cursor)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE:,}")
    query = select(Suppressed).where(Suppressed.id > after_id).order_by(Suppressed.id).limit(limit)
    return list(session.scalars(query))


def audit_listed(session: Session, entries: int, *, actor: str) -> None:
    """Reading the list is recorded too (hashes and request ids only; P-SEC-1)."""
    audit.record(session, actor=actor, action="suppression.listed", target="suppression", data={"entries": entries})


def document(row: Suppressed) -> dict[str, object]:
    """One entry as staff read it (API and CLI alike): the keyed hash, never the identity."""
    return {
        "id": row.id,
        "kind": row.kind,
        "lookup_hash": row.lookup_hash,
        "reason": row.reason,
        "request": row.request,
        "person": row.person,
        "suppressed_at": row.created_at.isoformat(),
    }
