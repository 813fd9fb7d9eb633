"""Synthetic people and ledger events, stored the way Charter stores them (shared by the benches).

The rows are what ``charter.subjects.service`` and ``charter.ledger.service``
would write for the same facts:

- ``people.public_id`` is ``uuid4().hex`` (``new_public_id``);
- ``identities``: one e-mail each, ``lookup_hash`` and ``sealed`` from
  ``Vault.lookup_hash`` / ``Vault.seal`` with the bench's key;
- ``ledger_events``: each event kind is first built as an ``Event``, checked
  with ``ledger.check_purposes`` against the published statements (which
  fills ``statement_version`` as the API does), turned into a row by the
  ledger's own ``_row`` and serialized with ``json.dumps`` as SQLAlchemy does
  for a JSON column; the bench only picks which template, who and when;
- ``subject_states`` (PostgreSQL fast path): the fold is ``project`` over
  ``Event.model_construct`` (the same as ``ledger.to_event``) and the document
  ``json.dumps(codec.encode(state))``. ``ledger.rebuild`` afterwards must find
  nothing to change, and :func:`check_projection_bytes` compares the text
  with what ``ledger`` itself writes for sample people.

Events are generated in recording order over ``SPAN_DAYS`` from ``START``;
5 % are back-dated by up to 30 days. Every person has at least one event;
1 % of people ("heavy": ``id % 100 == 0``) receive 10 % of the other events.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from charter.crypto import KeyRing
from charter.ledger import service as ledger
from charter.ledger.events import Event, EventKind, Source
from charter.policy import service as policy
from charter.settings import PolicySettings
from charter.subjects import service as subjects
from charter.subjects.normalize import IdentityKind

SECRET = "bench secret key, not for production use"  # noqa: S105 - a fixed key for synthetic data
VAULT = subjects.Vault(KeyRing(SECRET.encode()), "US")
START = datetime(2023, 1, 2, tzinfo=UTC)
SPAN_DAYS = 600
SPAN = SPAN_DAYS * 86_400
PURPOSES = (
    "analytics_trends_benchmarks",
    "analytics_usage_engagement",
    "analytics_customer_insight",
    "marketing_new_services",
    "email_open_tracking",
)
JURISDICTIONS = ("US-CA", "US-NY", "US-TX", None)
BANNER_EVIDENCE = {"banner_sha256": "9f2c0b7e5d1a4c3b8e6f7a2d1c0b9e8f7a6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"}


EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "west"
STATEMENTS = ("statement-2019.yaml", "statement-2023.yaml")


def publish_statements(session: Session) -> list[str]:
    """Publish both example statements, 2019 then 2023 (as ``make demo`` does)."""
    versions = []
    for name in STATEMENTS:
        loaded, raw = policy.read_file(EXAMPLES / name, limits=PolicySettings())
        versions.append(policy.publish(session, loaded, raw, actor="bench").version)
    return versions


def email(n: int) -> str:
    return f"person{n}@example.org"


def heavy(person_id: int) -> bool:
    return person_id % 100 == 0


@dataclass(frozen=True)
class Template:
    """One kind of event as the ledger stores it; ``tail`` is its COPY text after the two times."""

    weight: int
    kind: str
    source: str
    statement_version: str | None
    jurisdiction: str | None
    evidence: str
    data: str

    def tail(self) -> str:
        cells = [
            self.kind,
            self.source,
            self.statement_version or r"\N",
            self.jurisdiction or r"\N",
            self.evidence,
            self.data,
        ]
        text = "\t".join(cells)
        assert "\\" not in text.replace(r"\N", "") and "\n" not in text, "COPY text would need escaping"
        return text


def _specs() -> list[tuple[int, EventKind, Source, dict[str, Any], dict[str, str]]]:
    """(weight per mille, kind, source, data, evidence), before jurisdictions are spread."""
    specs: list[tuple[int, EventKind, Source, dict[str, Any], dict[str, str]]] = []
    for purpose in PURPOSES:
        specs.append((70, EventKind.CONSENT_GIVEN, Source.BANNER, {"purpose": purpose}, BANNER_EVIDENCE))
        specs.append((18, EventKind.CONSENT_WITHDRAWN, Source.PRIVACY_CENTER, {"purpose": purpose}, {}))
        specs.append((4, EventKind.CONSENT_WITHDRAWN, Source.EMAIL_LINK, {"purpose": purpose, "written": True}, {}))
    specs += [
        (20, EventKind.OPTED_OUT, Source.PRIVACY_CENTER, {"purpose": "marketing_new_services"}, {}),
        (100, EventKind.SIGNAL_GPC, Source.BROWSER_SIGNAL, {"on": True}, {}),
        (20, EventKind.SIGNAL_GPC, Source.BROWSER_SIGNAL, {"on": False}, {}),
        (30, EventKind.SIGNAL_DNT, Source.BROWSER_SIGNAL, {"on": True}, {}),
        (100, EventKind.PREFERENCE_SET, Source.PRIVACY_CENTER, {"key": "newsletter", "value": True}, {}),
        (60, EventKind.UNSUBSCRIBED, Source.EMAIL_LINK, {}, {}),
        (20, EventKind.RESUBSCRIBED, Source.PRIVACY_CENTER, {}, {}),
        (50, EventKind.SALE_SHARING_OPTED_OUT, Source.PRIVACY_CENTER, {}, {}),
        (30, EventKind.AGE_ATTESTED, Source.API, {"age": 34}, {}),
        (30, EventKind.TRANSFER_CONSENT_GIVEN, Source.API, {"origin": "CN"}, {}),
        (50, EventKind.SUBSCRIBED_SERVICE, Source.CLIENT, {"service": "unified_communications"}, {}),
        (20, EventKind.RESTRICTED, Source.AUTHORIZED_AGENT, {"purpose": "*"}, {}),
    ]
    return specs


def templates(session: Session) -> list[Template]:
    """Every event template, checked and stored by the ledger's own code (statements must be published)."""
    known = ledger.StatementPurposes(session)
    found = []
    for weight, kind, source, data, evidence in _specs():
        for jurisdiction in JURISDICTIONS:
            event = Event(kind=kind, at=START, source=source, jurisdiction=jurisdiction, data=data, evidence=evidence)
            event = ledger.check_purposes(session, event, known=known)
            last = ledger.check_purposes(session, event.model_copy(update={"at": START + timedelta(days=SPAN_DAYS)}))
            assert last.statement_version == event.statement_version, "one statement must cover the whole span"
            row = ledger._row(0, event)  # the ledger's own event → row mapping
            found.append(
                Template(
                    weight=weight,
                    kind=row.kind,
                    source=row.source,
                    statement_version=row.statement_version,
                    jurisdiction=row.jurisdiction,
                    evidence=json.dumps(row.evidence),
                    data=json.dumps(row.data),
                )
            )
    return found


def picker(found: list[Template]) -> list[int]:
    """Template indexes repeated by weight: ``slots[rng.randrange(len(slots))]`` draws one."""
    slots: list[int] = []
    for index, template in enumerate(found):
        slots.extend([index] * template.weight)
    return slots


def plan(people: int, events: int, seed: int) -> Iterator[tuple[int, int, int, int]]:
    """(person_id, at_seconds, recorded_seconds, slot_draw) per event, in recording order.

    Seconds count from ``START``. ``slot_draw`` is a random integer for :func:`picker`.
    """
    rng = random.Random(seed)
    randrange = rng.randrange
    random_ = rng.random
    heavy_count = max(1, people // 100)
    step = SPAN / events
    order = list(range(1, people + 1))
    rng.shuffle(order)  # first appearances in random order, not by id
    for n in range(events):
        if n < people:
            person = order[n]
        elif random_() < 0.1:
            person = (randrange(heavy_count) + 1) * 100 if people >= 100 else 1
        else:
            person = randrange(people) + 1
        recorded = int(n * step)
        at = recorded - randrange(30 * 86_400) if random_() < 0.05 else recorded
        yield person, max(at, 0), recorded, randrange(1 << 30)


class Clock:
    """Seconds from START as text timestamps, cheaply (one day string per day)."""

    def __init__(self, postgres: bool) -> None:
        days = [(START + timedelta(days=d)).strftime("%Y-%m-%d ") for d in range(SPAN_DAYS + 2)]
        self.days = days
        self.suffix = "+00" if postgres else ".000000"

    def __call__(self, seconds: int) -> str:
        day, rest = divmod(seconds, 86_400)
        hour, rest = divmod(rest, 3_600)
        minute, second = divmod(rest, 60)
        return f"{self.days[day]}{hour:02d}:{minute:02d}:{second:02d}{self.suffix}"


def people_rows(count: int, seed: int) -> Iterator[tuple[int, str]]:
    """(id, public_id): ``uuid4().hex`` like ``new_public_id``, from a seeded generator."""
    rng = random.Random(seed + 1)
    for n in range(1, count + 1):
        yield n, uuid.UUID(int=rng.getrandbits(128), version=4).hex


def identity_row(n: int) -> tuple[int, int, str, str, bytes]:
    """(id, person_id, kind, lookup_hash, sealed) for person ``n``'s e-mail, as ``subjects.resolve`` stores it."""
    kind = IdentityKind.EMAIL
    normalized = VAULT.normalize(kind, email(n))[1]
    digest = VAULT.lookup_hash(kind, normalized)
    return n, n, kind.value, digest, VAULT.seal(kind, normalized, digest)
