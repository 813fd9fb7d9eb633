"""What a person can say, or what can change their standing, as ledger events.

Events are facts: never edited, never deleted (an erasure tombstones them).
Each records when, through what channel, under which statement version and
jurisdiction, with evidence (e.g. the hash of the banner text shown).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class EventKind(StrEnum):
    CONSENT_GIVEN = "consent.given"  # data: purpose
    CONSENT_WITHDRAWN = "consent.withdrawn"  # data: purpose, written (bool)
    OPTED_OUT = "purpose.opted_out"  # data: purpose (for opt-out purposes)
    OPTED_IN = "purpose.opted_in"  # data: purpose (undoes an opt-out)
    SALE_SHARING_OPTED_OUT = "sale_sharing.opted_out"  # CCPA "do not sell or share"
    SALE_SHARING_OPTED_IN = "sale_sharing.opted_in"
    RESTRICTED = "processing.restricted"  # data: purpose or "*"
    UNRESTRICTED = "processing.unrestricted"  # data: purpose or "*"
    OBJECTED = "processing.objected"  # data: purpose or "*"
    OBJECTION_WITHDRAWN = "processing.objection_withdrawn"  # data: purpose or "*"
    DISCLOSURE_REFUSED = "disclosure.refused"  # P-SHR-3: no third-party disclosure
    DISCLOSURE_ALLOWED = "disclosure.allowed"
    SIGNAL_GPC = "signal.gpc"  # data: on (bool)
    SIGNAL_DNT = "signal.dnt"  # data: on (bool)
    UNSUBSCRIBED = "email.unsubscribed"
    RESUBSCRIBED = "email.resubscribed"
    PREFERENCE_SET = "preference.set"  # data: key, value (bool)
    AGE_ATTESTED = "age.attested"  # data: birth_date (ISO) or age (int)
    PARENTAL_PROOF_REQUIRED = "parental_proof.required"  # data: deadline (ISO datetime)
    PARENTAL_PROOF_RECEIVED = "parental_proof.received"
    TRANSFER_CONSENT_GIVEN = "transfer_consent.given"  # data: origin (country, e.g. CN)
    TRANSFER_CONSENT_WITHDRAWN = "transfer_consent.withdrawn"  # data: origin
    SUBSCRIBED_SERVICE = "service.subscribed"  # data: service category the person buys
    UNSUBSCRIBED_SERVICE = "service.unsubscribed"


TOMBSTONE = "ledger.tombstone"
"""The ``kind`` of a stored event whose person was erased (P-RGT-3): not an :class:`EventKind`, never recorded.

An erasure rewrites each of the person's rows to this kind and empties its
payload (``charter.ledger.tombstones``); reads and rebuilds skip such rows,
so the person's former consents can never be folded back into a state.
"""


class Source(StrEnum):
    PRIVACY_CENTER = "privacy_center"
    BANNER = "banner"
    API = "api"
    EMAIL_LINK = "email_link"
    IMPORT = "import"
    AUTHORIZED_AGENT = "authorized_agent"
    BROWSER_SIGNAL = "browser_signal"
    CLIENT = "client"


PURPOSE_KINDS = frozenset(
    {
        EventKind.CONSENT_GIVEN,
        EventKind.CONSENT_WITHDRAWN,
        EventKind.OPTED_OUT,
        EventKind.OPTED_IN,
        EventKind.RESTRICTED,
        EventKind.UNRESTRICTED,
        EventKind.OBJECTED,
        EventKind.OBJECTION_WITHDRAWN,
    }
)
_ON_KINDS = {EventKind.SIGNAL_GPC, EventKind.SIGNAL_DNT}
_ORIGIN_KINDS = {EventKind.TRANSFER_CONSENT_GIVEN, EventKind.TRANSFER_CONSENT_WITHDRAWN}
_SERVICE_KINDS = {EventKind.SUBSCRIBED_SERVICE, EventKind.UNSUBSCRIBED_SERVICE}


class Event(BaseModel):
    """One fact about a person's standing. ``data`` holds the kind's fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: EventKind
    at: datetime
    source: Source
    statement_version: str | None = None
    jurisdiction: str | None = None
    evidence: dict[str, str] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Event:
        if self.at.tzinfo is None:
            raise ValueError("at must carry a time zone (UTC)")
        if self.kind in PURPOSE_KINDS and not isinstance(self.data.get("purpose"), str):
            raise ValueError(f"{self.kind} needs data.purpose")
        if self.kind in _ON_KINDS and not isinstance(self.data.get("on"), bool):
            raise ValueError(f"{self.kind} needs data.on (true or false)")
        if self.kind in _ORIGIN_KINDS and not isinstance(self.data.get("origin"), str):
            raise ValueError(f"{self.kind} needs data.origin (a country code)")
        if self.kind in _SERVICE_KINDS and not isinstance(self.data.get("service"), str):
            raise ValueError(f"{self.kind} needs data.service")
        if self.kind == EventKind.PREFERENCE_SET and not (
            isinstance(self.data.get("key"), str) and isinstance(self.data.get("value"), bool)
        ):
            raise ValueError("preference.set needs data.key (text) and data.value (true or false)")
        if self.kind == EventKind.AGE_ATTESTED:
            _birth_or_age(self.data)
        if self.kind == EventKind.PARENTAL_PROOF_REQUIRED:
            deadline = self.data.get("deadline")
            if not isinstance(deadline, str):
                raise ValueError("parental_proof.required needs data.deadline (ISO date-time)")
            datetime.fromisoformat(deadline)
        return self


def _birth_or_age(data: dict[str, Any]) -> None:
    if isinstance(data.get("birth_date"), str):
        date.fromisoformat(data["birth_date"])
        return
    age = data.get("age")
    if not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= 130:
        raise ValueError("age.attested needs data.birth_date (YYYY-MM-DD) or data.age (0-130)")
