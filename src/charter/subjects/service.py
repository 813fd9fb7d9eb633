"""Finding, creating, linking and merging people by their identities.

Every lookup goes through the keyed hash of the normalized identity: no
query ever compares plaintext, and no plaintext is stored (P-SEC-1). The
:class:`Vault` holds what that needs (the key ring and the phone region) and
is built once from the settings, like the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from charter.crypto import KeyRing
from charter.db.base import rowcount
from charter.errors import Conflict, InvalidInput
from charter.settings import Settings
from charter.subjects.models import Identity, Person
from charter.subjects.normalize import DEFAULT_REGION, IdentityKind, normalize

MAX_MERGE_HOPS = 64


@dataclass(frozen=True)
class Vault:
    """Normalizes, hashes and seals identities with this installation's keys."""

    keys: KeyRing
    phone_region: str = DEFAULT_REGION

    @classmethod
    def from_settings(cls, settings: Settings) -> Vault:
        return cls(KeyRing(settings.secret_key()), settings.identity.phone_region)

    def normalize(self, kind: IdentityKind | str, value: str) -> tuple[IdentityKind, str]:
        return normalize(kind, value, region=self.phone_region)

    def lookup_hash(self, kind: IdentityKind, normalized: str) -> str:
        return self.keys.lookup_hash(kind.value, normalized)

    def seal(self, kind: IdentityKind, normalized: str, lookup_hash: str) -> bytes:
        return self.keys.seal(normalized.encode(), context=_context(kind.value, lookup_hash))

    def reveal(self, identity: Identity) -> str:
        """The normalized value of a stored identity (for exports to the person; never for logs)."""
        return self.keys.open(identity.sealed, context=_context(identity.kind, identity.lookup_hash)).decode()


def _context(kind: str, lookup_hash: str) -> bytes:
    """A sealed value opens only as the identity row (kind and hash) it was sealed for."""
    return b"charter.identity\x00" + kind.encode() + b"\x00" + lookup_hash.encode()


def canonical(session: Session, person: Person) -> Person:
    """The person that ``person`` was merged into, following the chain; itself if never merged."""
    hops = 0
    while person.merged_into is not None:
        found = session.get(Person, person.merged_into)
        if found is None or hops > MAX_MERGE_HOPS:
            raise Conflict("a merged person points to no live person; run `charter ledger rebuild` after repair")
        person = found
        hops += 1
    return person


def by_public_id(session: Session, public_id: str) -> Person | None:
    """The live person for a public id (a merged id resolves to the person it was merged into)."""
    if not 1 <= len(public_id) <= 32:
        return None
    person = session.scalar(select(Person).where(Person.public_id == public_id))
    return None if person is None else canonical(session, person)


def _find(session: Session, kind: IdentityKind, lookup_hash: str) -> Identity | None:
    return session.scalar(select(Identity).where(Identity.kind == kind.value, Identity.lookup_hash == lookup_hash))


def resolve(session: Session, kind: IdentityKind | str, value: str, *, vault: Vault, create: bool) -> Person | None:
    """The person known by this identity; a new person if ``create`` and nobody is; else None."""
    found_kind, normalized = vault.normalize(kind, value)
    digest = vault.lookup_hash(found_kind, normalized)
    sqlite = session.get_bind().dialect.name == "sqlite"
    if create and sqlite:
        # Take the write lock before looking: no other writer can create this identity meanwhile.
        session.execute(text("UPDATE people SET id = id WHERE 0 = 1"))
    identity = _find(session, found_kind, digest)
    if identity is not None:
        return canonical(session, session.get_one(Person, identity.person_id))
    if not create:
        return None
    if sqlite:
        return _create(session, vault, found_kind, normalized, digest)
    try:
        with session.begin_nested():
            person = _create(session, vault, found_kind, normalized, digest)
    except IntegrityError:
        # Another transaction created the same identity first: theirs is the person.
        identity = _find(session, found_kind, digest)
        if identity is None:
            raise Conflict("the identity was being created by another request; retry") from None
        return canonical(session, session.get_one(Person, identity.person_id))
    return person


def _create(session: Session, vault: Vault, kind: IdentityKind, normalized: str, digest: str) -> Person:
    person = Person()
    session.add(person)
    session.flush()
    session.add(_identity(vault, person, kind, normalized, digest))
    session.flush()
    return person


def _identity(vault: Vault, person: Person, kind: IdentityKind, normalized: str, digest: str) -> Identity:
    return Identity(
        person_id=person.id, kind=kind.value, lookup_hash=digest, sealed=vault.seal(kind, normalized, digest)
    )


def link(session: Session, person: Person, kind: IdentityKind | str, value: str, *, vault: Vault) -> Identity:
    """Add an identity to ``person``. If someone else holds it, :class:`Conflict` (merge them instead)."""
    person = canonical(session, person)
    found_kind, normalized = vault.normalize(kind, value)
    digest = vault.lookup_hash(found_kind, normalized)
    existing = _find(session, found_kind, digest)
    if existing is not None:
        if canonical(session, session.get_one(Person, existing.person_id)).id == person.id:
            return existing
        raise Conflict(f"this {found_kind} identity belongs to another person; merge the two people to link it")
    identity = _identity(vault, person, found_kind, normalized, digest)
    session.add(identity)
    session.flush()
    return identity


def identities_of(session: Session, person: Person) -> list[Identity]:
    return list(session.scalars(select(Identity).where(Identity.person_id == person.id).order_by(Identity.id)))


def merge(session: Session, keep: Person, other: Person) -> int:
    """Fold ``other`` into ``keep``: its identities move, its id resolves to ``keep`` from now on.

    Returns how many identities moved. The ledger's part (events and state)
    is :func:`charter.ledger.service.merge`, which calls this.
    """
    keep, other = canonical(session, keep), canonical(session, other)
    if keep.id == other.id:
        raise InvalidInput("a person cannot be merged into themselves")
    moved = rowcount(session.execute(update(Identity).where(Identity.person_id == other.id).values(person_id=keep.id)))
    session.execute(update(Person).where(Person.merged_into == other.id).values(merged_into=keep.id))
    other.merged_into = keep.id
    session.flush()
    return moved
