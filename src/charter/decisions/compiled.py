"""A statement compiled once into the lookup tables ``decide`` reads.

Compilation resolves everything that does not depend on the person: which
rules can apply to a purpose and category, what each browser signal denies,
which purposes are sales, e-mail marketing or open tracking. Decisions then
cost a few dictionary lookups.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from charter.policy.check import vocabulary_of
from charter.policy.schema import Purpose, Recipient, Rule, Statement, TransferMechanism
from charter.taxonomy import Kind
from charter.taxonomy.model import covers

RANK = {"allow": 0, "opt_out": 1, "consent": 2, "forbid": 3}
SALE_USE = "third_party_sharing.sale"
SHARING_USES = ("marketing.advertising.third_party", "analytics.cross_site_tracking")
CROSS_SITE_USE = "analytics.cross_site_tracking"
OPEN_TRACKING_USE = "analytics.email_open_tracking"
MARKETING_USE = "marketing"


@dataclass(frozen=True, slots=True)
class CompiledRule:
    id: str
    clause: str
    rank: int
    effect: str
    categories: tuple[str, ...]
    subjects: frozenset[str] | None
    recipients: frozenset[str]
    rule: Rule
    promises: tuple[str, ...]


def _uses(purposes: Iterable[Purpose], *prefixes: str) -> frozenset[str]:
    return frozenset(p.id for p in purposes if any(covers(prefix, p.data_use) for prefix in prefixes))


@dataclass
class CompiledStatement:
    statement: Statement
    version: str
    purposes: dict[str, Purpose]
    recipients: dict[str, Recipient]
    rules_by_purpose: dict[str, tuple[CompiledRule, ...]]
    signal_denies: dict[str, frozenset[str]]
    sale_purposes: frozenset[str]
    sharing_purposes: frozenset[str]
    cross_site_purposes: frozenset[str]
    open_tracking_purposes: frozenset[str]
    marketing_purposes: frozenset[str]
    email_stops_on_unsubscribe: bool
    countries: frozenset[str]
    mechanisms: tuple[TransferMechanism, ...]
    category_keys: frozenset[str]
    _by_category: dict[tuple[str, str], tuple[CompiledRule, ...]] = field(default_factory=dict)
    static_memo: dict[tuple[object, ...], object] = field(default_factory=dict)

    def rules_for(self, purpose: str, category: str) -> tuple[CompiledRule, ...]:
        """Rules for ``purpose`` whose categories cover ``category`` (memoized)."""
        key = (purpose, category)
        found = self._by_category.get(key)
        if found is None:
            found = tuple(
                rule
                for rule in self.rules_by_purpose.get(purpose, ())
                if any(covers(general, category) for general in rule.categories)
            )
            self._by_category[key] = found
        return found


def compile_statement(statement: Statement) -> CompiledStatement:
    located: list[tuple[Rule, str]] = [(rule, f"rules[{rule.id}]") for rule in statement.rules]
    for regime in statement.regimes:
        located += [(rule, f"regimes[{regime.id}].rules[{rule.id}]") for rule in regime.rules]
    by_purpose: dict[str, list[CompiledRule]] = {}
    for rule, clause in located:
        compiled = CompiledRule(
            id=rule.id,
            clause=clause,
            rank=RANK[rule.effect],
            effect=rule.effect,
            categories=tuple(rule.categories),
            subjects=None if "*" in rule.subjects else frozenset(rule.subjects),
            recipients=frozenset(rule.recipients),
            rule=rule,
            promises=tuple(rule.promises),
        )
        for purpose in rule.purposes:
            by_purpose.setdefault(purpose, []).append(compiled)

    signal_denies: dict[str, set[str]] = {}
    purposes = statement.purposes
    for signal in statement.tracking.signals:
        denied = signal_denies.setdefault(signal.signal, set(signal.denies))
        if "opt_out_sale" in signal.treated_as:
            denied |= _uses(purposes, SALE_USE)
        if "opt_out_sharing" in signal.treated_as:
            denied |= _uses(purposes, *SHARING_USES)
        if "no_cross_site_tracking" in signal.treated_as:
            denied |= _uses(purposes, CROSS_SITE_USE)
    email = statement.tracking.email
    return CompiledStatement(
        statement=statement,
        version=statement.version,
        purposes={p.id: p for p in purposes},
        recipients={r.id: r for r in statement.recipients},
        rules_by_purpose={k: tuple(v) for k, v in by_purpose.items()},
        signal_denies={k: frozenset(v) for k, v in signal_denies.items()},
        sale_purposes=_uses(purposes, SALE_USE),
        sharing_purposes=_uses(purposes, *SHARING_USES),
        cross_site_purposes=_uses(purposes, CROSS_SITE_USE),
        open_tracking_purposes=_uses(purposes, OPEN_TRACKING_USE),
        marketing_purposes=_uses(purposes, MARKETING_USE),
        email_stops_on_unsubscribe=email is None or email.stops_on_unsubscribe,
        countries=frozenset(statement.transfers.countries),
        mechanisms=tuple(statement.transfers.mechanisms),
        category_keys=frozenset(vocabulary_of(statement).keys(Kind.DATA_CATEGORY)),
    )


@dataclass
class StatementHistory:
    """The sequence of statements an organization lived under; picks the one in force."""

    effective: list[date] = field(default_factory=list)
    compiled: list[CompiledStatement] = field(default_factory=list)

    @classmethod
    def of(cls, statements: Iterable[Statement]) -> StatementHistory:
        history = cls()
        for statement in sorted(statements, key=lambda s: s.effective):
            history.effective.append(statement.effective)
            history.compiled.append(compile_statement(statement))
        return history

    def in_force(self, moment: datetime) -> CompiledStatement | None:
        index = bisect.bisect_right(self.effective, moment.date()) - 1
        return self.compiled[index] if index >= 0 else None
