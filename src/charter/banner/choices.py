"""A visitor's banner choice, checked against the banner served, as ledger events.

Pure. For each class the visitor could refuse (promise P-TRK-1):

* ``preference.set`` with key ``cookies.<class>``: the choice itself, one
  fact per class, also for a class that enables no purpose;
* for each purpose the class enables, ``consent.given`` or
  ``consent.withdrawn`` (P-COL-4: with the statement version). Storing a
  cookie needs the person's consent whatever the purpose's legal basis, so
  the ledger records it for every purpose, not only for ``opt_in`` ones;
* for an ``opt_out`` purpose, also ``purpose.opted_out`` on refusal (the
  decision engine reads opt-outs for opt-out rules) unless the person is
  opted out already, and ``purpose.opted_in`` on acceptance only where they
  were.

A purpose listed by two classes is allowed only if both are; purposes of a
required class are never recorded (they do not rest on the choice).
Every event carries the banner's hash as evidence. Browser signals are added
by :func:`charter.ledger.signals.signal_events` (P-TRK-2), not here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from charter.banner.view import BannerView
from charter.decisions.state import PersonState
from charter.errors import Conflict, InvalidInput
from charter.ledger.events import Event, EventKind, Source

COOKIE_ID = re.compile(r"[0-9a-f]{32}")
"""The id the script makes: 128 random bits as 32 lower-case hex digits."""
SHA256 = re.compile(r"[0-9a-f]{64}")
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")
PREFERENCE_PREFIX = "cookies."


class StaleBanner(Conflict):
    """The banner the visitor saw is not the one for the statement in force now."""

    code = "stale_banner"
    title = "The banner is out of date"


class UnknownCookieClass(InvalidInput):
    code = "unknown_cookie_class"
    status = 422
    title = "The cookie class is not in the statement"


class IncompleteChoice(InvalidInput):
    code = "incomplete_choice"
    status = 422
    title = "The choice does not cover every cookie class"


@dataclass(frozen=True)
class Choice:
    """What the script sends: who (a random cookie id), what was shown, what was chosen."""

    cookie_id: str
    choices: Mapping[str, bool]
    banner_sha256: str
    statement_version: str
    gpc: bool = False
    dnt: bool = False


def _shown(name: str) -> str:
    return name if _NAME.fullmatch(name) else "(not a class name)"


def check(view: BannerView, choice: Choice) -> dict[str, bool]:
    """The choice per refusable class, in the statement's order; raises if it does not fit ``view``.

    A stale statement version or banner text is a conflict (409): the
    visitor must see the banner in force before their choice is recorded.
    """
    if choice.statement_version != view.statement_version:
        raise StaleBanner(
            "the banner was shown for a statement that is no longer in force "
            f"({view.statement_version} is); reload the banner and choose again"
        )
    if choice.banner_sha256 != view.sha256:
        raise StaleBanner("the banner text changed since it was shown; reload the banner and choose again")
    for name in choice.choices:
        cookie = view.class_of(name)
        if cookie is None:
            raise UnknownCookieClass(
                f"cookie class {_shown(name)} is not in statement {view.statement_version}; "
                f"its classes are {', '.join(c.id for c in view.classes)}"
            )
        if cookie.required:
            raise UnknownCookieClass(f"cookie class {name} is required by the statement: it is not a choice")
    missing = [c.id for c in view.choosable if c.id not in choice.choices]
    if missing:
        raise IncompleteChoice(f"the choice says nothing about {', '.join(missing)}; send true or false for each")
    return {c.id: bool(choice.choices[c.id]) for c in view.choosable}


def allowed_purposes(view: BannerView, choices: Mapping[str, bool]) -> dict[str, bool]:
    """Each purpose a refusable class enables → allowed; a purpose in a refused class is refused."""
    required = {p.id for c in view.classes if c.required for p in c.purposes}
    allowed: dict[str, bool] = {}
    for cookie in view.choosable:
        for purpose in cookie.purposes:
            if purpose.id not in required:
                allowed[purpose.id] = allowed.get(purpose.id, True) and choices[cookie.id]
    return allowed


def choice_events(view: BannerView, choices: Mapping[str, bool], state: PersonState, *, at: datetime) -> list[Event]:
    """The events that record ``choices`` (already :func:`check`-ed) for a person in ``state``."""
    evidence = {"banner_sha256": view.sha256}

    def event(kind: EventKind, **data: object) -> Event:
        return Event(
            kind=kind,
            at=at,
            source=Source.BANNER,
            statement_version=view.statement_version,
            evidence=evidence,
            data=data,
        )

    events = [
        event(EventKind.PREFERENCE_SET, key=PREFERENCE_PREFIX + c.id, value=choices[c.id]) for c in view.choosable
    ]
    modes = {p.id: p.consent for c in view.classes for p in c.purposes}
    for purpose, allowed in allowed_purposes(view, choices).items():
        events.append(event(EventKind.CONSENT_GIVEN if allowed else EventKind.CONSENT_WITHDRAWN, purpose=purpose))
        if modes[purpose] != "opt_out":
            continue
        held = purpose in state.opted_out
        if not allowed and not held:
            events.append(event(EventKind.OPTED_OUT, purpose=purpose))
        elif allowed and held:
            events.append(event(EventKind.OPTED_IN, purpose=purpose))
    return events
