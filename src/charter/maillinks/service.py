"""Minting mail links, one-click unsubscribe, and open tracking that stops when it must.

* :meth:`MailLinks.mint` — the links of one message to one person, for a
  list that is a marketing purpose of the statement in force.
* :meth:`MailLinks.unsubscribe` — RFC 8058 one-click: marks the link used
  with one conditional ``UPDATE`` and records ``email.unsubscribed`` in the
  same transaction, so two concurrent posts record one event and a replay
  records nothing (promise P-TRK-3).
* :meth:`MailLinks.record_open` — an open counts only for a person who has
  not unsubscribed, whose browser sends no DNT/GPC now or before, who has not
  opted out of open tracking, under a statement that announces open pixels
  (P-TRK-3, P-TRK-2). A signal that comes with the pixel is recorded in the
  ledger instead.

Domain code: no web framework here; callers hand in the session and the
request's signals. See docs/design/mail-links.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import quote

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from charter import audit
from charter.db import utcnow
from charter.db.base import rowcount
from charter.decisions.compiled import CompiledStatement
from charter.decisions.service import history
from charter.decisions.state import PersonState
from charter.errors import Conflict, InvalidInput, Misconfigured, NotFound, Problem, shown
from charter.ledger import service as ledger
from charter.ledger.events import Event, EventKind, Source
from charter.ledger.signals import BrowserSignals
from charter.maillinks.errors import LinkAlreadyUsed, LinkExpired, LinkNotFound, NotAMailingList
from charter.maillinks.keys import LinkKeys
from charter.maillinks.models import MailLink, MailOpen
from charter.settings import Settings
from charter.subjects import service as subjects
from charter.subjects.models import Person
from charter.suppression import service as suppression
from charter.suppression.errors import SuppressedRecipient

LIST_UNSUBSCRIBE_POST = "List-Unsubscribe=One-Click"
"""The ``List-Unsubscribe-Post`` header value RFC 8058 prescribes, and the body a one-click POST carries."""

ACTOR = "mail-link"
"""Who the audit log says recorded an unsubscribe or signal: the person, through a link."""

MAX_CAMPAIGN = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class MintedLinks:
    """What a mailer puts in one message: two headers, the footer link and the pixel."""

    person: str
    list_id: str
    campaign: str | None
    unsubscribe_url: str
    list_unsubscribe: str
    list_unsubscribe_post: str
    open_pixel_url: str
    expires_at: datetime

    def headers(self) -> dict[str, str]:
        return {"List-Unsubscribe": self.list_unsubscribe, "List-Unsubscribe-Post": self.list_unsubscribe_post}

    def as_dict(self) -> dict[str, object]:
        """The shape the API and ``charter mail-links mint --json`` print."""
        return {
            "person": self.person,
            "list": self.list_id,
            "campaign": self.campaign,
            "unsubscribe_url": self.unsubscribe_url,
            "open_pixel_url": self.open_pixel_url,
            "headers": self.headers(),
            "expires_at": self.expires_at.isoformat(),
        }


@dataclass(frozen=True)
class MintRequest:
    person: Person
    list_id: str
    campaign: str | None = None


@dataclass(frozen=True)
class Unsubscribed:
    person: str
    list_id: str
    at: datetime
    event_id: int


@dataclass(frozen=True)
class LinkStatus:
    """What the confirmation page says about an unsubscribe link (nothing about the person)."""

    list_id: str
    list_name: str
    expires_at: datetime
    used_at: datetime | None


class OpenOutcome(StrEnum):
    """What a pixel fetch did. The web answer is the same GIF whatever this is."""

    RECORDED = "recorded"
    UNKNOWN = "unknown"  # never minted, forged, malformed or expired
    SIGNAL = "signal"  # the request carried DNT or GPC: the signal went to the ledger, no open
    HELD_SIGNAL = "held_signal"  # the ledger holds DNT or GPC for the person
    UNSUBSCRIBED = "unsubscribed"  # P-TRK-3: no more open tracking
    OBJECTED = "objected"  # opted out of, objected to or restricted open tracking
    NOT_ANNOUNCED = "not_announced"  # the statement in force does not announce open pixels


def check_campaign(campaign: str | None) -> str | None:
    """The campaign or message id as given (free text), refused if too long or holding control characters."""
    if campaign is None or campaign == "":
        return None
    if len(campaign) > MAX_CAMPAIGN:
        raise InvalidInput(f"campaign is longer than {MAX_CAMPAIGN} characters")
    if _CONTROL.search(campaign):
        raise InvalidInput("campaign must not contain control characters (line breaks, tabs, NUL)")
    return campaign


def recipient(
    session: Session,
    vault: subjects.Vault,
    *,
    identity: tuple[str, str] | None = None,
    public_id: str | None = None,
) -> Person:
    """The person a message goes to: by identity (created if new, like a consent) or by public id."""
    if (identity is None) == (public_id is None):
        raise InvalidInput("name the recipient by identity or by person id, not both and not neither")
    if public_id is not None:
        person = subjects.by_public_id(session, public_id)
        if person is None:
            raise NotFound("no person has this id")
        return person
    assert identity is not None
    kind, value = identity
    found = subjects.resolve(session, kind, value, vault=vault, create=True)
    if found is None:  # pragma: no cover - create=True always gives a person
        raise NotFound("the person could not be created")
    return found


class MailLinks:
    """Mints and honours mail links. Built once from the settings; methods take the caller's session."""

    def __init__(
        self, keys: LinkKeys, *, base_url: str, valid_days: int, mailto: str = "", https_only: bool = False
    ) -> None:
        self.keys = keys
        self.base_url = base_url.rstrip("/")
        self.valid = timedelta(days=valid_days)
        self.mailto = mailto
        self.https_only = https_only

    @classmethod
    def from_settings(cls, settings: Settings) -> MailLinks:
        return cls(
            LinkKeys(settings.secret_key()),
            base_url=settings.base_url,
            valid_days=settings.mail_links.valid_days,
            mailto=settings.mail_links.mailto,
            https_only=settings.env == "production",
        )

    # --- minting -------------------------------------------------------------------------------

    def check_list(self, session: Session, list_id: str, *, at: datetime) -> str:
        """The version of the statement in force at ``at``, if ``list_id`` is one of its marketing purposes."""
        return _check_list(_in_force(session, at), list_id)

    def mint(
        self,
        session: Session,
        person: Person,
        list_id: str,
        campaign: str | None = None,
        *,
        actor: str,
        at: datetime | None = None,
    ) -> MintedLinks:
        """The links of one message to ``person`` on ``list_id`` (a marketing purpose id)."""
        return self.mint_many(session, [MintRequest(person, list_id, campaign)], actor=actor, at=at)[0]

    def mint_many(
        self, session: Session, requests: Sequence[MintRequest], *, actor: str, at: datetime | None = None
    ) -> list[MintedLinks]:
        """Links for every request, all or none: every list and campaign is checked before any row is written."""
        if self.https_only and not self.base_url.startswith("https://"):
            # Links already sent keep working; only new ones are refused.
            raise Misconfigured("CHARTER_BASE_URL must start with https:// in production: RFC 8058 needs HTTPS links")
        at = at or utcnow()
        statement = _in_force(session, at)
        for request in requests:
            _check_list(statement, request.list_id)
            check_campaign(request.campaign)
        _refuse_suppressed(session, requests)
        minted = []
        for request in requests:
            person = subjects.canonical(session, request.person)
            unsubscribe_token, open_token = self.keys.new_token(), self.keys.new_token()
            row = MailLink(
                unsubscribe_hash=self.keys.digest(unsubscribe_token),
                open_hash=self.keys.digest(open_token),
                person_id=person.id,
                list_id=request.list_id,
                campaign=check_campaign(request.campaign),
                created_at=at,
                expires_at=at + self.valid,
            )
            session.add(row)
            minted.append(self._links(person, row, unsubscribe_token, open_token))
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="mail_links.minted",
            target="mail_links",
            data={"links": len(minted), "lists": sorted({m.list_id for m in minted})},
        )
        return minted

    def _links(self, person: Person, row: MailLink, unsubscribe_token: str, open_token: str) -> MintedLinks:
        unsubscribe_url = f"{self.base_url}/u/{unsubscribe_token}"
        targets = [f"<{unsubscribe_url}>"]
        if self.mailto:
            targets.append(f"<mailto:{quote(self.mailto, safe='@')}?subject=unsubscribe>")
        return MintedLinks(
            person=person.public_id,
            list_id=row.list_id,
            campaign=row.campaign,
            unsubscribe_url=unsubscribe_url,
            list_unsubscribe=", ".join(targets),
            list_unsubscribe_post=LIST_UNSUBSCRIBE_POST,
            open_pixel_url=f"{self.base_url}/o/{open_token}.gif",
            expires_at=row.expires_at,
        )

    # --- unsubscribing -------------------------------------------------------------------------

    def _by_unsubscribe_token(self, session: Session, token: str) -> MailLink | None:
        candidates = self.keys.candidates(token)
        if not candidates:
            return None
        return session.scalar(
            select(MailLink).where(MailLink.unsubscribe_hash.in_(candidates)).execution_options(populate_existing=True)
        )

    def status(self, session: Session, token: str, *, at: datetime) -> LinkStatus:
        """What the link can still do, for the confirmation page; :class:`LinkNotFound` if it was never minted."""
        row = self._by_unsubscribe_token(session, token)
        if row is None:
            raise LinkNotFound()
        statement = history(session).in_force(at)
        purpose = None if statement is None else statement.purposes.get(row.list_id)
        return LinkStatus(
            list_id=row.list_id,
            list_name=row.list_id if purpose is None else purpose.name,
            expires_at=row.expires_at,
            used_at=row.used_at,
        )

    def unsubscribe(
        self, session: Session, token: str, *, at: datetime, signals: BrowserSignals | None = None
    ) -> Unsubscribed:
        """Use the link once: ``email.unsubscribed`` is recorded, or an error says why not and nothing is.

        The link is claimed with ``UPDATE … WHERE used_at IS NULL AND
        expires_at > at``; only the transaction whose update touched the row
        records the event, so concurrent or replayed posts cannot record two
        (P-TRK-3). The event and the claim commit or roll back together.
        """
        candidates = self.keys.candidates(token)
        if not candidates:
            raise LinkNotFound()
        claimed = session.execute(
            update(MailLink)
            .where(MailLink.unsubscribe_hash.in_(candidates), MailLink.used_at.is_(None), MailLink.expires_at > at)
            .values(used_at=at)
            .execution_options(synchronize_session=False)
        )
        row = self._by_unsubscribe_token(session, token)
        if rowcount(claimed) != 1 or row is None:
            raise _refusal(row, at)
        person = subjects.canonical(session, session.get_one(Person, row.person_id))
        statement = history(session).in_force(at)
        version = None if statement is None else statement.version
        unsubscribed = Event(
            kind=EventKind.UNSUBSCRIBED,
            at=at,
            source=Source.EMAIL_LINK,
            statement_version=version,
            evidence={"mail_link": row.unsubscribe_hash},
            data={"list": row.list_id},
        )
        stored = ledger.record(session, person, unsubscribed, actor=ACTOR)
        if signals is not None:
            ledger.record_signals(session, person, signals, at=at, statement_version=version, actor=ACTOR)
        return Unsubscribed(person=person.public_id, list_id=row.list_id, at=at, event_id=stored.id)

    # --- opens ---------------------------------------------------------------------------------

    def record_open(
        self, session: Session, token: str, *, at: datetime, signals: BrowserSignals | None = None
    ) -> OpenOutcome:
        """Record an open of the message whose pixel this is, if tracking it is allowed (P-TRK-3, P-TRK-2).

        Never raises for a bad token: the outcome says what happened, and the
        web answer does not depend on it.
        """
        candidates = self.keys.candidates(token)
        if not candidates:
            return OpenOutcome.UNKNOWN
        row = session.scalar(select(MailLink).where(MailLink.open_hash.in_(candidates)))
        if row is None or row.expires_at <= at:
            return OpenOutcome.UNKNOWN
        person = subjects.canonical(session, session.get_one(Person, row.person_id))
        state = ledger.state_of(session, person)
        statement = history(session).in_force(at)
        if signals is not None and signals.any:
            version = None if statement is None else statement.version
            ledger.record_signals(session, person, signals, at=at, statement_version=version, actor=ACTOR)
            return OpenOutcome.SIGNAL
        outcome = _may_track(statement, state, used=row.used_at is not None)
        if outcome is OpenOutcome.RECORDED:
            session.add(MailOpen(link_id=row.id, at=at))
            session.flush()
        return outcome


def _may_track(statement: CompiledStatement | None, state: PersonState, *, used: bool) -> OpenOutcome:
    if used or state.unsubscribed:
        return OpenOutcome.UNSUBSCRIBED
    if state.gpc or state.dnt:
        return OpenOutcome.HELD_SIGNAL
    email = None if statement is None else statement.statement.tracking.email
    if statement is None or email is None or not email.open_pixels:
        return OpenOutcome.NOT_ANNOUNCED
    for purpose in statement.open_tracking_purposes:
        if purpose in state.opted_out or state.is_objected(purpose) or state.is_restricted(purpose):
            return OpenOutcome.OBJECTED
        if statement.purposes[purpose].consent == "opt_in" and not state.consented(purpose):
            return OpenOutcome.OBJECTED
    return OpenOutcome.RECORDED


def _refuse_suppressed(session: Session, requests: Sequence[MintRequest]) -> None:
    """P-RGT-3: no marketing mail to an erased person, unless they consented to that list after the erasure.

    Mail the person asked for (a preference-center code, a notice about their
    own request) does not go through mail links and is not affected.
    """
    people = [subjects.canonical(session, r.person) for r in requests]
    since = suppression.since_for_people(session, {p.id: p.public_id for p in people})
    for index, (request, person) in enumerate(zip(requests, people, strict=True)):
        at = since.get(person.id)
        if at is None:
            continue
        consent = ledger.state_of(session, person).consents.get(request.list_id)
        if consent is None or not consent.given or consent.at < at:
            message = (
                f"person {person.public_id} is on the suppression list since {at.date().isoformat()} (their data was "
                f"erased at their request) and has not consented to {request.list_id} since; do not e-mail them"
            )
            raise SuppressedRecipient(message, problems=[Problem(f"links[{index}].person", message)])


def _in_force(session: Session, at: datetime) -> CompiledStatement:
    statement = history(session).in_force(at)
    if statement is None:
        raise ledger.UnknownStatement(f"no statement is in force on {at.date()}; publish one first")
    return statement


def _check_list(statement: CompiledStatement, list_id: str) -> str:
    purpose = statement.purposes.get(list_id)
    if purpose is None:
        raise ledger.UnknownPurpose(f"list {shown(list_id)} is not a purpose of statement {statement.version}")
    if list_id not in statement.marketing_purposes:
        raise NotAMailingList(
            f"list {list_id} is not a marketing purpose of statement {statement.version} "
            f"(its data use is {purpose.data_use}); unsubscribe links are for marketing e-mail"
        )
    return statement.version


def _refusal(row: MailLink | None, at: datetime) -> Exception:
    """Why a link could not be claimed: never minted, already used, or expired."""
    if row is None:
        return LinkNotFound()
    if row.used_at is not None:
        return LinkAlreadyUsed(row.used_at)
    if row.expires_at <= at:
        return LinkExpired(row.expires_at)
    return Conflict("the link changed while it was being used; try again")  # pragma: no cover - defensive
