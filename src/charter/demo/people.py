"""A synthetic population for the demo: people, identities and what they said.

Deterministic (a fixed seed) so two demos look alike and the guide can name
people; invented names on ``example.org`` only, never real data. Each
history is a plausible sequence under the statements in force at its dates:
analytics consents and written withdrawals, opt-outs of sale and sharing,
GPC signals, unsubscribes, minors and a school-supplied parental-consent
proof with its deadline.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from charter.ledger import service as ledger
from charter.ledger.events import Event, EventKind, Source
from charter.subjects import service as subjects
from charter.subjects.service import Vault

SEED = 20230101
ACTOR = "demo"
FIRST = [
    "ana",
    "ben",
    "chloe",
    "dev",
    "emma",
    "felix",
    "grace",
    "hugo",
    "iris",
    "jonas",
    "kira",
    "liam",
    "maya",
    "noah",
    "olga",
    "pablo",
    "quinn",
    "rosa",
    "sami",
    "tara",
    "umar",
    "vera",
    "wei",
    "xena",
    "yuki",
    "zane",
]
LAST = [
    "almeida",
    "brandt",
    "costa",
    "dubois",
    "eriksen",
    "fischer",
    "garcia",
    "haddad",
    "ito",
    "jensen",
    "kowalski",
    "lopez",
    "moreau",
    "novak",
]
ANALYTICS = (
    "analytics_trends_benchmarks",
    "analytics_recommendations",
    "analytics_usage_engagement",
    "analytics_connect_attendees",
)
START = datetime(2023, 2, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DemoPerson:
    """Someone the getting-started guide names, with what the visitor can try."""

    email: str
    story: str


NAMED = (
    DemoPerson("ana@example.org", "consented to analytics (trends and benchmarks) in March 2023"),
    DemoPerson("ben@example.org", "consented to analytics, then withdrew in writing"),
    DemoPerson("chloe@example.org", "browser sends Global Privacy Control: no sale, sharing or cross-site tracking"),
    DemoPerson("dev@example.org", "attested age 15: below the 2023 minimum age of 18"),
)


def _named_histories() -> Iterator[tuple[str, list[Event]]]:
    at = datetime(2023, 3, 1, 10, tzinfo=UTC)
    given = _event(EventKind.CONSENT_GIVEN, at, Source.BANNER, purpose="analytics_trends_benchmarks")
    yield "ana@example.org", [given]
    withdrawn = _event(
        EventKind.CONSENT_WITHDRAWN,
        at + timedelta(days=60),
        Source.PRIVACY_CENTER,
        purpose="analytics_trends_benchmarks",
        written=True,
    )
    yield "ben@example.org", [given, withdrawn]
    yield "chloe@example.org", [_event(EventKind.SIGNAL_GPC, at, Source.BROWSER_SIGNAL, on=True)]
    yield "dev@example.org", [_event(EventKind.AGE_ATTESTED, at, Source.PRIVACY_CENTER, age=15)]


def _event(kind: EventKind, at: datetime, source: Source, **data: object) -> Event:
    return Event(kind=kind, at=at, source=source, data=data)


def _history(rng: random.Random) -> list[Event]:
    """One person's events, in time order, drawn from the shapes real ledgers show."""
    at = START + timedelta(days=rng.randrange(0, 900), minutes=rng.randrange(0, 1440))
    events: list[Event] = []

    def later() -> datetime:
        nonlocal at
        at = at + timedelta(days=rng.randrange(1, 120), minutes=rng.randrange(0, 1440))
        return at

    if rng.random() < 0.45:
        chosen = rng.sample(ANALYTICS, rng.randint(1, 3))
        events += [_event(EventKind.CONSENT_GIVEN, at, Source.BANNER, purpose=p) for p in chosen]
        if rng.random() < 0.3:
            events.append(
                _event(EventKind.CONSENT_WITHDRAWN, later(), Source.PRIVACY_CENTER, purpose=chosen[0], written=True)
            )
    if rng.random() < 0.2:
        events.append(_event(EventKind.SIGNAL_GPC, later(), Source.BROWSER_SIGNAL, on=True))
    if rng.random() < 0.15:
        events.append(_event(EventKind.SALE_SHARING_OPTED_OUT, later(), Source.PRIVACY_CENTER))
    if rng.random() < 0.15:
        events.append(_event(EventKind.OPTED_OUT, later(), Source.EMAIL_LINK, purpose="marketing_new_services"))
    if rng.random() < 0.1:
        events.append(_event(EventKind.UNSUBSCRIBED, later(), Source.EMAIL_LINK))
    if rng.random() < 0.05:
        events.append(_event(EventKind.AGE_ATTESTED, later(), Source.PRIVACY_CENTER, age=rng.randint(13, 17)))
    if rng.random() < 0.03:
        proof_at = later()
        deadline = (proof_at + timedelta(days=30)).isoformat()
        events.append(_event(EventKind.PARENTAL_PROOF_REQUIRED, proof_at, Source.CLIENT, deadline=deadline))
    return events


def population(count: int = 250) -> list[tuple[str, list[Event]]]:
    """The demo people (e-mail address, events), the same on every run: the named four, then the rest."""
    rng = random.Random(SEED)  # noqa: S311 - a reproducible demo, not a secret
    histories = list(_named_histories())
    for index in range(count - len(histories)):
        name = f"{rng.choice(FIRST)}.{rng.choice(LAST)}{index}@example.org"
        histories.append((name, _history(rng)))
    return histories


def emails(count: int = 250) -> list[str]:
    """The demo people's e-mail addresses, in the order :func:`populate` adds them."""
    return [email for email, _ in population(count)]


def populate(session: Session, vault: Vault, *, count: int = 250) -> int:
    """Add the demo population unless it is already there; return how many people were added."""
    first_email = NAMED[0].email
    if subjects.resolve(session, "email", first_email, vault=vault, create=False) is not None:
        return 0
    histories = population(count)
    known = ledger.StatementPurposes(session)
    for email, events in histories:
        person = subjects.resolve(session, "email", email, vault=vault, create=True)
        assert person is not None  # create=True always gives a person
        checked = [ledger.check_purposes(session, event, known=known) for event in events]
        ledger.record_many(session, person, checked, actor=ACTOR)
    return len(histories)
