"""A person's standing at a moment: what the decision engine reads about them.

It is a projection of the ledger (``charter.ledger.projection.apply``),
kept on write and rebuildable; the engine never sees events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

ALL = "*"
"""In ``restricted`` or ``objected``: every purpose."""


@dataclass(frozen=True, slots=True)
class Consent:
    given: bool
    at: datetime
    statement_version: str | None = None
    written: bool = False


@dataclass(frozen=True, slots=True)
class PersonState:
    consents: dict[str, Consent] = field(default_factory=dict)
    opted_out: frozenset[str] = frozenset()
    restricted: frozenset[str] = frozenset()
    objected: frozenset[str] = frozenset()
    sale_sharing_opt_out: bool = False
    disclosure_refused: bool = False
    gpc: bool = False
    dnt: bool = False
    unsubscribed: bool = False
    preferences: dict[str, bool] = field(default_factory=dict)
    birth_date: date | None = None
    attested_age: int | None = None
    attested_at: datetime | None = None
    parental_proof_deadline: datetime | None = None
    parental_proof_received: bool = False
    transfer_consents: frozenset[str] = frozenset()
    subscribed_services: frozenset[str] = frozenset()

    def consented(self, purpose: str) -> bool:
        record = self.consents.get(purpose)
        return record is not None and record.given

    def age_at(self, moment: datetime) -> int | None:
        """Age in whole years at ``moment``, from a birth date or an attested age."""
        if self.birth_date is not None:
            day = moment.date()
            before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
            return day.year - self.birth_date.year - before_birthday
        if self.attested_age is not None and self.attested_at is not None:
            return self.attested_age + max(0, (moment - self.attested_at).days // 366)
        return None

    def is_restricted(self, purpose: str) -> bool:
        return purpose in self.restricted or ALL in self.restricted

    def is_objected(self, purpose: str) -> bool:
        return purpose in self.objected or ALL in self.objected


EMPTY = PersonState()
