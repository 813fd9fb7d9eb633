"""What a person can change, drawn from the statement in force, and what a change records.

Pure: no database. ``items_of`` lists, in plain language and with a link
to the statement's own words:

* purposes that need consent (``consent: opt_in``) and that the person can
  withdraw — a yes is ``consent.given``, a no ``consent.withdrawn`` with
  ``written`` (the verified person's form is a written notice, P-USE-5);
  a purpose the statement forbids for everyone (e.g. sale, P-USE-6) is not
  offered, since no consent can make it allowed;
* purposes that run unless the person opts out (``consent: opt_out``,
  e.g. marketing, P-USE-2) — ``purpose.opted_out`` / ``purpose.opted_in``;
* selling and sharing, where the statement offers that opt-out (a right
  ``opt_out_sale`` or a browser signal treated as one, P-TRK-2) —
  ``sale_sharing.opted_out`` / ``opted_in``;
* e-mail, where the statement sends marketing or tracks opens (P-TRK-3) —
  ``email.unsubscribed`` / ``resubscribed``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from charter.decisions.state import PersonState
from charter.ledger.events import Event, EventKind, Source
from charter.policy.schema import Conditions, Purpose, Statement
from charter.policy.view import purpose_anchor
from charter.preferences.errors import InvalidChoice

YES = "yes"
NO = "no"


class ItemKind(StrEnum):
    CONSENT = "consent"
    OPT_OUT = "opt_out"
    SALE_SHARING = "sale_sharing"
    EMAIL = "email"


GROUPS = {
    ItemKind.CONSENT: "Only with your consent",
    ItemKind.OPT_OUT: "Unless you say no",
    ItemKind.SALE_SHARING: "Selling and sharing",
    ItemKind.EMAIL: "E-mail from us",
}
SALE_SHARING_KEY = "sale_sharing"
EMAIL_KEY = "email"


@dataclass(frozen=True)
class Item:
    """One choice: ``yes`` means the organization may do it."""

    key: str
    kind: ItemKind
    label: str
    description: str
    yes: str
    no: str
    anchor: str
    """Where the statement says it: ``/privacy/versions/VERSION#…``."""
    purpose: str | None = None
    written: bool = False
    note: str = ""

    @property
    def group(self) -> str:
        return GROUPS[self.kind]


@dataclass(frozen=True)
class Change:
    item: Item
    allowed: bool
    """The new value."""


def _forbidden_for_everyone(statement: Statement) -> frozenset[str]:
    """Purposes a rule forbids without conditions, recipients or a narrower set of people."""
    found: set[str] = set()
    for rule in statement.all_rules():
        if rule.effect == "forbid" and rule.when == Conditions() and not rule.recipients and "*" in rule.subjects:
            found.update(rule.purposes)
    return frozenset(found)


def _consent_item(purpose: Purpose, link: str) -> Item:
    written = purpose.withdrawal == "written"
    note = "Your consent is not a condition of our services." if not purpose.condition_of_service else ""
    if written:
        note = (note + " Choosing No here is your written notice of withdrawal.").strip()
    return Item(
        key=f"consent.{purpose.id}",
        kind=ItemKind.CONSENT,
        label=purpose.name,
        description=purpose.description,
        yes="Yes, I consent",
        no="No, I do not consent",
        anchor=f"{link}#{purpose_anchor(purpose.id)}",
        purpose=purpose.id,
        written=written,
        note=note,
    )


def _opt_out_item(purpose: Purpose, link: str) -> Item:
    return Item(
        key=f"opt_out.{purpose.id}",
        kind=ItemKind.OPT_OUT,
        label=purpose.name,
        description=purpose.description,
        yes="Allowed",
        no="Opt me out",
        anchor=f"{link}#{purpose_anchor(purpose.id)}",
        purpose=purpose.id,
    )


def _offers_sale_opt_out(statement: Statement) -> tuple[bool, bool]:
    """(offered, by a browser signal too)."""
    by_right = any(o.right == "opt_out_sale" for j in statement.rights.jurisdictions for o in j.rights)
    by_signal = any({"opt_out_sale", "opt_out_sharing"} & set(s.treated_as) for s in statement.tracking.signals)
    return by_right or by_signal, by_signal


def items_of(statement: Statement) -> list[Item]:
    """Every choice the statement gives a person, consent first, in the statement's order."""
    link = f"/privacy/versions/{statement.version}"
    forbidden = _forbidden_for_everyone(statement)
    consents, opt_outs = [], []
    for purpose in statement.purposes:
        if purpose.id in forbidden:
            continue
        if purpose.consent == "opt_in" and purpose.withdrawable:
            consents.append(_consent_item(purpose, link))
        elif purpose.consent == "opt_out":
            opt_outs.append(_opt_out_item(purpose, link))
    items = [*consents, *opt_outs]
    offered, by_signal = _offers_sale_opt_out(statement)
    if offered:
        items.append(
            Item(
                key=SALE_SHARING_KEY,
                kind=ItemKind.SALE_SHARING,
                label="Selling or sharing your personal information",
                description="You can tell us not to sell your personal information or share it for "
                "advertising across other companies' sites and apps.",
                yes="Allowed",
                no="Do not sell or share my personal information",
                anchor=f"{link}#{'tracking' if by_signal else 'rights'}",
                note="A browser that sends Global Privacy Control already says this for you." if by_signal else "",
            )
        )
    email = statement.tracking.email
    markets = any(p.data_use.startswith("marketing") for p in statement.purposes)
    if email is not None or markets:
        note = ""
        if email is not None and email.open_pixels and email.stops_on_unsubscribe:
            note = "Unsubscribing also stops the images that tell us when you open an e-mail."
        items.append(
            Item(
                key=EMAIL_KEY,
                kind=ItemKind.EMAIL,
                label="E-mails about our services",
                description="News and offers we send by e-mail.",
                yes="Send me e-mails",
                no="Unsubscribe me",
                anchor=f"{link}#tracking",
                note=note,
            )
        )
    return items


def allowed(item: Item, state: PersonState) -> bool:
    """The person's current answer to ``item``, from their ledger state."""
    if item.kind is ItemKind.CONSENT:
        return state.consented(str(item.purpose))
    if item.kind is ItemKind.OPT_OUT:
        return item.purpose not in state.opted_out
    if item.kind is ItemKind.SALE_SHARING:
        return not state.sale_sharing_opt_out
    return not state.unsubscribed


def parse_choices(items: Sequence[Item], form: Mapping[str, str]) -> dict[str, bool]:
    """The answers a form gives, by item key. Items not in the form are left as they are.

    A value other than yes/no is refused (nothing is recorded); fields
    that are not items are ignored.
    """
    wanted: dict[str, bool] = {}
    for item in items:
        value = form.get(item.key)
        if value is None:
            continue
        if value not in (YES, NO):
            raise InvalidChoice(f"the answer for “{item.label}” must be {YES} or {NO}; reload the page and try again")
        wanted[item.key] = value == YES
    return wanted


def changes(items: Sequence[Item], state: PersonState, wanted: Mapping[str, bool]) -> list[Change]:
    """Only the items whose answer differs from the ledger."""
    return [
        Change(item, wanted[item.key])
        for item in items
        if item.key in wanted and wanted[item.key] != allowed(item, state)
    ]


def _event_kind(change: Change) -> EventKind:
    kind, yes = change.item.kind, change.allowed
    if kind is ItemKind.CONSENT:
        return EventKind.CONSENT_GIVEN if yes else EventKind.CONSENT_WITHDRAWN
    if kind is ItemKind.OPT_OUT:
        return EventKind.OPTED_IN if yes else EventKind.OPTED_OUT
    if kind is ItemKind.SALE_SHARING:
        return EventKind.SALE_SHARING_OPTED_IN if yes else EventKind.SALE_SHARING_OPTED_OUT
    return EventKind.RESUBSCRIBED if yes else EventKind.UNSUBSCRIBED


def events_for(
    found: Sequence[Change],
    *,
    at: datetime,
    statement_version: str,
    jurisdiction: str | None = None,
    evidence: Mapping[str, str] | None = None,
) -> list[Event]:
    """One ledger event per change, from the privacy center, under the statement shown."""
    events = []
    for change in found:
        kind = _event_kind(change)
        data: dict[str, object] = {}
        if change.item.purpose is not None:
            data["purpose"] = change.item.purpose
        if kind is EventKind.CONSENT_WITHDRAWN:
            # A verified person submitting a form is a written notice (P-USE-5 asks for one).
            data["written"] = True
        events.append(
            Event(
                kind=kind,
                at=at,
                source=Source.PRIVACY_CENTER,
                statement_version=statement_version,
                jurisdiction=jurisdiction,
                evidence=dict(evidence or {}),
                data=data,
            )
        )
    return events


def fingerprint(items: Sequence[Item]) -> str:
    """SHA-256 of the wording shown, kept as evidence with each change (what the person saw)."""
    shown = [[i.key, i.label, i.description, i.yes, i.no, i.note] for i in items]
    return hashlib.sha256(json.dumps(shown, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()
