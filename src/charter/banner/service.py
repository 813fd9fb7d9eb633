"""The banner of the statement in force, and recording a visitor's choice in the ledger.

The visitor is a person known only by the ``cookie_id`` the script made
(identity kind ``cookie_id``, hashed and sealed like any other). Recording
is all-or-nothing, in the caller's transaction; what comes back is the same
whether the person was new or known (P-TRK-1, P-TRK-2, P-COL-4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from charter.banner.choices import COOKIE_ID, Choice, check, choice_events
from charter.banner.view import BannerView, build
from charter.errors import InvalidInput, NotFound
from charter.ledger import service as ledger
from charter.ledger.events import Event
from charter.ledger.signals import BrowserSignals, signal_events
from charter.policy import service as policy
from charter.policy.models import PolicyVersion
from charter.subjects import service as subjects
from charter.subjects.normalize import IdentityKind

ACTOR = "public:banner"
"""Who recorded a banner choice, in the audit log: the anonymous visitor through the banner."""


class InvalidCookieId(InvalidInput):
    code = "invalid_cookie_id"
    status = 422
    title = "The cookie id is not valid"


def view_of(row: PolicyVersion) -> BannerView:
    """The banner of a published version, memoized by content hash (published rows never change)."""
    cached = _views.get(row.sha256)
    if cached is None:
        cached = build(policy.statement_of(row))
        if len(_views) > 64:
            _views.clear()
        _views[row.sha256] = cached
    return cached


_views: dict[str, BannerView] = {}


def in_force(session: Session, today: date) -> BannerView | None:
    """The banner of the statement in force on ``today``, or None before any is."""
    row = policy.in_force(session, today)
    return None if row is None else view_of(row)


@dataclass(frozen=True)
class GpcDeclaration:
    """``/.well-known/gpc.json``: whether the statement in force honors GPC, and since when."""

    gpc: bool
    last_update: date


def gpc_declaration(session: Session, today: date) -> GpcDeclaration | None:
    """The statement in force declares GPC support if it lists a ``gpc`` browser signal (P-TRK-2).

    ``last_update`` is the date that statement took effect: the last time
    what the organization says about GPC could have changed.
    """
    row = policy.in_force(session, today)
    if row is None:
        return None
    statement = policy.statement_of(row)
    return GpcDeclaration(gpc=any(s.signal == "gpc" for s in statement.tracking.signals), last_update=row.effective)


@dataclass(frozen=True)
class Recorded:
    statement_version: str
    choices: dict[str, bool]


def record_choice(
    session: Session,
    choice: Choice,
    *,
    headers: BrowserSignals,
    vault: subjects.Vault,
    at: datetime,
    actor: str = ACTOR,
) -> Recorded:
    """Record ``choice`` and the browser's GPC/DNT signals for the person with this cookie id.

    Signals count if the request carried the header or the script read them
    from ``navigator``; each is recorded once per person (see
    :mod:`charter.ledger.signals`). Nothing is recorded if anything is wrong.
    """
    if not COOKIE_ID.fullmatch(choice.cookie_id):
        raise InvalidCookieId("cookie_id must be 32 lower-case hexadecimal digits (128 random bits)")
    view = in_force(session, at.date())
    if view is None:
        raise NotFound("no privacy statement is in force yet, so there is no banner to answer")
    allowed = check(view, choice)
    person = subjects.resolve(session, IdentityKind.COOKIE_ID, choice.cookie_id, vault=vault, create=True)
    if person is None:  # pragma: no cover - create=True always gives a person
        raise NotFound("the person could not be created")
    state = ledger.state_of(session, person)
    events = choice_events(view, allowed, state, at=at)
    sent = BrowserSignals(gpc=headers.gpc or choice.gpc, dnt=headers.dnt or choice.dnt)
    for event in signal_events(state, sent, at=at, statement_version=view.statement_version):
        events.append(_with_evidence(event, view, headers, choice))
    known = ledger.StatementPurposes(session)
    checked = [ledger.check_purposes(session, event, known=known) for event in events]
    ledger.record_many(session, person, checked, actor=actor)
    return Recorded(statement_version=view.statement_version, choices=allowed)


def _with_evidence(event: Event, view: BannerView, headers: BrowserSignals, choice: Choice) -> Event:
    signal = event.kind.value.removeprefix("signal.")
    seen = [where for where, on in (("header", getattr(headers, signal)), ("script", getattr(choice, signal))) if on]
    return event.model_copy(update={"evidence": {"banner_sha256": view.sha256, "seen_in": "+".join(seen)}})
