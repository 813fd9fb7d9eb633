"""The preference center's operations: send a code, verify it, show and save a person's choices.

Web pages call these; they take the database or session, the vault and
settings as arguments and never import the web framework. Saving records
every changed choice as a ledger event in one transaction, or nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from charter import audit
from charter.db import Database
from charter.db.base import utcnow
from charter.errors import NotFound, Unavailable
from charter.ledger import service as ledger
from charter.ledger.signals import BrowserSignals
from charter.mail import Mailer
from charter.policy import service as policy
from charter.policy.models import PolicyVersion
from charter.preferences import challenges
from charter.preferences.challenges import Verified
from charter.preferences.errors import StatementChanged, WrongCode
from charter.preferences.items import Change, Item, allowed, changes, events_for, fingerprint, items_of, parse_choices
from charter.preferences.messages import code_message
from charter.settings import PreferenceSettings, Settings
from charter.subjects import service as subjects
from charter.subjects.models import Person

VERIFY_PATH = "/privacy/preferences/verify"


@dataclass(frozen=True)
class Entry:
    item: Item
    allowed: bool


@dataclass(frozen=True)
class Sheet:
    """A person's choices under the statement in force, ready to show."""

    version: str
    effective: date
    organization: str
    entries: list[Entry]
    gpc: bool
    dnt: bool

    def groups(self) -> list[tuple[str, list[Entry]]]:
        """The entries under their headings, in the order items are listed."""
        grouped: dict[str, list[Entry]] = {}
        for entry in self.entries:
            grouped.setdefault(entry.item.group, []).append(entry)
        return list(grouped.items())


def link_for(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}{VERIFY_PATH}?{urlencode({'token': token})}"


def send_code(
    database: Database,
    mailer: Mailer,
    email: str,
    *,
    vault: subjects.Vault,
    settings: Settings,
    now: datetime | None = None,
) -> str:
    """Store a challenge for ``email`` and mail its code and link; return the challenge id.

    The same whether or not anyone holds the address. If the mail cannot be
    sent, the challenge is deleted again and :class:`Unavailable` raised:
    nothing is left half-done.
    """
    now = now or utcnow()
    with database.session() as session:
        started = challenges.start(session, email, vault=vault, settings=settings.preferences, now=now)
        row = policy.in_force(session, now.date())
        organization = None if row is None else policy.statement_of(row).organization.short_name
        message = code_message(
            settings.mail,
            started,
            link=link_for(settings, started.link_token),
            minutes=settings.preferences.code_minutes,
            organization=organization,
        )
    try:
        mailer.send(message)
    except Unavailable:
        with database.session() as session:
            challenges.discard(session, started.challenge_id)
        raise
    return started.challenge_id


def verify_code(
    database: Database,
    challenge_id: str,
    code: str,
    *,
    vault: subjects.Vault,
    settings: PreferenceSettings,
    now: datetime | None = None,
) -> Verified:
    """Redeem a code in its own transaction; a wrong code's counted attempt is committed too."""
    wrong: WrongCode | None = None
    with database.session() as session:
        try:
            return challenges.redeem_code(session, challenge_id, code, vault=vault, settings=settings, now=now)
        except WrongCode as exc:
            wrong = exc  # leave the block normally so the counted attempt commits
    raise wrong


def verify_link(
    database: Database,
    token: str,
    *,
    vault: subjects.Vault,
    settings: PreferenceSettings,
    now: datetime | None = None,
) -> Verified:
    with database.session() as session:
        return challenges.redeem_link(session, token, vault=vault, settings=settings, now=now)


def _in_force(session: Session, day: date) -> PolicyVersion:
    row = policy.in_force(session, day)
    if row is None:
        raise NotFound("no privacy statement is in force yet, so there are no choices to show")
    return row


def sheet(session: Session, person: Person, *, today: date) -> Sheet:
    row = _in_force(session, today)
    statement = policy.statement_of(row)
    state = ledger.state_of(session, person)
    return Sheet(
        version=row.version,
        effective=row.effective,
        organization=statement.organization.short_name,
        entries=[Entry(item, allowed(item, state)) for item in items_of(statement)],
        gpc=state.gpc,
        dnt=state.dnt,
    )


def record_signals(session: Session, person: Person, signals: BrowserSignals, *, now: datetime | None = None) -> int:
    """Record Global Privacy Control / Do Not Track sent by a verified person's browser (P-TRK-2).

    Only what the ledger does not hold yet; absence never opts back in.
    Returns how many events were recorded.
    """
    now = now or utcnow()
    row = policy.in_force(session, now.date())
    return ledger.record_signals(
        session,
        person,
        signals,
        at=now,
        statement_version=None if row is None else row.version,
        actor=f"person:{person.public_id}",
    )


def save(
    session: Session,
    person: Person,
    form: Mapping[str, str],
    *,
    shown_version: str,
    now: datetime | None = None,
) -> list[Change]:
    """Record the choices in ``form`` that differ from the ledger, all together or none.

    Refused with :class:`StatementChanged` if the statement in force is not
    the one the form showed (consent is given to a statement, P-COL-4), and
    with ``InvalidChoice`` for a value that was not offered.
    """
    now = now or utcnow()
    row = _in_force(session, now.date())
    if row.version != shown_version:
        raise StatementChanged(
            f"the privacy statement changed (now version {row.version}) while the page was open; "
            "review your choices again and save"
        )
    items = items_of(policy.statement_of(row))
    wanted = parse_choices(items, form)
    found = changes(items, ledger.state_of(session, person), wanted)
    if not found:
        return []
    events = events_for(found, at=now, statement_version=row.version, evidence={"form_sha256": fingerprint(items)})
    known = ledger.StatementPurposes(session)
    checked = [ledger.check_purposes(session, event, known=known) for event in events]
    actor = f"person:{person.public_id}"
    ledger.record_many(session, person, checked, actor=actor)
    audit.record(
        session,
        actor=actor,
        action="preferences.changed",
        target=f"person:{person.public_id}",
        data={"changes": len(found), "statement_version": row.version},
    )
    return found
