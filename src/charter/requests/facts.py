"""Facts a requester can prove, and how a given fact is compared with the values held (P-RGT-7).

Pure: no I/O. For a high-risk request (``CHARTER_REQUESTS_FACTS_KINDS``),
controlling the e-mail address is not enough: the requester is asked for
facts the organization already holds — a postal code, the last four digits
of a phone number, a date of birth — and Charter compares them with what the
data stores hold about that address (:mod:`charter.execution.facts_lookup`
reads them; :mod:`charter.requests.factcheck` records the outcome).

Which fact kinds exist is decided by the data map's *data categories*, not by
column names, so a store that calls the column ``zip`` or ``plz`` is matched
as long as its field says ``user.contact.address.postal_code``.

Both sides are normalized the same way before comparing (postal codes
without spaces or dashes and upper-cased; phones as their last four digits;
dates as ISO ``YYYY-MM-DD``), and each comparison runs over every held value
with :func:`hmac.compare_digest`, never stopping at the first hit, so how long
it takes says nothing about which value matched.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from charter.errors import InvalidInput

MAX_FACT = 64
"""Longest fact accepted from a requester (characters)."""


def _postal_code(value: object) -> str | None:
    text = re.sub(r"[\s\-]", "", str(value)).upper()
    return text if 0 < len(text) <= MAX_FACT and text.isalnum() else None


def _phone_last4(value: object) -> str | None:
    digits = re.sub(r"\D", "", str(value))
    return digits[-4:] if len(digits) >= 4 else None


def _date(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError:
        return None


@dataclass(frozen=True)
class FactKind:
    """A kind of fact: the data category that holds it, what to ask, how to normalize both sides."""

    id: str
    category: str
    label: str
    hint: str
    input_type: str
    autocomplete: str
    normalize: Callable[[object], str | None] = field(repr=False)

    def holds(self, categories: Sequence[str]) -> bool:
        """Does a field with ``categories`` hold this fact (the category itself or a narrower one)?"""
        return any(c == self.category or c.startswith(f"{self.category}.") for c in categories)


KINDS: dict[str, FactKind] = {
    kind.id: kind
    for kind in (
        FactKind(
            "postal_code",
            "user.contact.address.postal_code",
            "Postal code of an address you gave us",
            "For example 1100-148 or 10115; spaces and dashes do not matter.",
            "text",
            "postal-code",
            _postal_code,
        ),
        FactKind(
            "phone_last4",
            "user.contact.phone_number",
            "Last four digits of a phone number you gave us",
            "Only the last four digits, for example 0042.",
            "text",
            "off",
            _phone_last4,
        ),
        FactKind(
            "date_of_birth",
            "user.demographic.date_of_birth",
            "Your date of birth",
            "As year-month-day, for example 1984-07-21.",
            "date",
            "bday",
            _date,
        ),
    )
}


class Outcome(StrEnum):
    PENDING = "pending"  # asked, nothing received yet
    MATCHED = "matched"  # every fact given that the stores hold matched
    NOT_MATCHED = "not_matched"  # at least one fact the stores hold did not match
    NO_FACTS = "no_facts"  # the stores hold none of the facts given (or nothing about the address)
    UNAVAILABLE = "unavailable"  # a store could not be read: nothing was compared

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS: dict[Outcome, str] = {
    Outcome.PENDING: "asked for facts; the requester has not sent them yet",
    Outcome.MATCHED: "facts matched",
    Outcome.NOT_MATCHED: "facts not matched",
    Outcome.NO_FACTS: "no facts held to compare with",
    Outcome.UNAVAILABLE: "facts could not be checked: a data store was unavailable",
}

MATCHED, NOT_MATCHED, NOT_HELD = "matched", "not_matched", "not_held"


@dataclass(frozen=True)
class Result:
    """The outcome of one comparison: counts and per-kind outcomes, never a value."""

    outcome: Outcome
    given: int = 0
    compared: int = 0
    matched: int = 0
    kinds: dict[str, str] = field(default_factory=dict)


def cleaned(given: Mapping[str, str]) -> dict[str, str]:
    """The facts the requester gave, normalized, by kind; empty answers and unknown kinds are left out.

    Raises ``ValueError`` naming the first kind whose answer cannot be a
    value of its kind (a date that is not a date): the form says so, which
    depends only on what was typed, never on what is held.
    """
    out: dict[str, str] = {}
    for kind_id, raw in given.items():
        kind = KINDS.get(kind_id)
        text = (raw or "").strip()
        if kind is None or not text:
            continue
        normalized = kind.normalize(text[: MAX_FACT + 1]) if len(text) <= MAX_FACT else None
        if normalized is None:
            raise ValueError(kind_id)
        out[kind_id] = normalized
    return out


def strictly_cleaned(given: Mapping[str, str]) -> dict[str, str]:
    """:func:`cleaned` as an API takes facts: an unknown kind or an answer that cannot be of its kind is an
    ``InvalidInput`` naming it (and the kinds there are); what is held never changes the answer."""
    unknown = sorted(set(given) - set(KINDS))
    if unknown:
        raise InvalidInput(f"facts: '{unknown[0][:40]}' is not a fact kind; use {', '.join(KINDS)}")
    try:
        return cleaned(given)
    except ValueError as exc:
        kind = KINDS[str(exc)]
        raise InvalidInput(f"facts.{kind.id} is not well formed: {kind.hint}") from None


def matches(given: str, held: Sequence[str]) -> bool:
    """Is ``given`` one of ``held``? Every held value is compared, in constant time each."""
    found = False
    wanted = given.encode()
    for value in held:
        found |= hmac.compare_digest(wanted, value.encode())
    return found


def evaluate(given: Mapping[str, str], held: Mapping[str, Sequence[str]] | None) -> Result:
    """Compare normalized ``given`` facts with the normalized values ``held`` per kind (None: a store was down)."""
    if held is None:
        return Result(Outcome.UNAVAILABLE, given=len(given))
    kinds: dict[str, str] = {}
    for kind_id, value in sorted(given.items()):
        values = held.get(kind_id) or []
        kinds[kind_id] = NOT_HELD if not values else (MATCHED if matches(value, values) else NOT_MATCHED)
    compared = sum(1 for outcome in kinds.values() if outcome != NOT_HELD)
    matched = sum(1 for outcome in kinds.values() if outcome == MATCHED)
    outcome = Outcome.NO_FACTS if compared == 0 else Outcome.MATCHED if matched == compared else Outcome.NOT_MATCHED
    return Result(outcome, given=len(given), compared=compared, matched=matched, kinds=kinds)


def kinds_of(categories: Sequence[str]) -> list[FactKind]:
    """The fact kinds a field with ``categories`` holds."""
    return [kind for kind in KINDS.values() if kind.holds(categories)]
