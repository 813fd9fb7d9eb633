"""What a deletion does to each field, and why: the map's own strategies, then the erasure policy.

Fides users describe *what* their data is (categories on every field) and
say *how* to erase it once, in an erasure policy that maps data categories
to masking strategies. Charter reads both. For a field, the first of these
that speaks decides (pure functions; the planner, the checks and the
console all ask here, so they can never disagree):

1. the field's own ``charter.erasure`` or Fides ``masking_strategy_override``;
2. the collection's ``delete_row`` (the row goes) or ``keep`` (with its reason);
3. a field nothing may rewrite: a primary key, a ``read_only`` field, a field
   references go through (unless it is an identity: its value names the person);
4. an identity field, whatever its category: the policy's ``identities``
   strategy (default ``random_string_rewrite``: unique, unlinkable, and it fits
   the ``NOT NULL UNIQUE`` column an e-mail usually is, where a null would not);
5. the collection's own strategy, for personal (``user.*``) fields;
6. the policy rule with the most specific category target matching one of the
   field's categories (``user.contact`` covers ``user.contact.email``); two
   rules equally specific with different strategies are *ambiguous*: an error
   at check, never a silent pick.

Without an ``erasure_policy`` in the map, :data:`DEFAULT` applies: every
``user.*`` field is nulled and identity fields get a random token. So a Fides
dataset with categories and no Charter keys erases the person (issue 11,
finding 1), and keeping data is a decision written down (``keep`` + reason),
never the accident of a missing key.
"""

from __future__ import annotations

from dataclasses import dataclass

from charter.datamap import paths
from charter.datamap.model import CollectionEntry, DataMap, FieldEntry
from charter.datamap.schema import Erasure, ErasurePolicy, MaskingOverride, PolicyRule, RuleTarget

DEFAULT = ErasurePolicy(
    key="charter_default_erasure",
    name="Charter's default erasure policy",
    description="Every user.* field is nulled; identity fields get a random token.",
    identities=MaskingOverride(strategy="random_string_rewrite"),
    rules=[
        PolicyRule(
            key="null_user_data",
            action_type="erasure",
            masking_strategy=MaskingOverride(strategy="null_rewrite"),
            targets=[RuleTarget(data_category="user")],
        )
    ],
)
IDENTITY_DEFAULT = Erasure(strategy="random_token")


@dataclass(frozen=True)
class Decided:
    """A field's fate in a deletion: its erasure (None: left as it is) and why, in words for the office."""

    erasure: Erasure | None
    why: str
    #: a key that links rows (primary key, a field references go through): left as it is, and pseudonymous
    #: once everything that names the person around it is erased, so not worth a warning
    linking: bool = False
    #: a nested field whose top-level field (named here) the deletion erases whole: it goes with it
    within: str | None = None

    @property
    def erased(self) -> bool:
        return self.erasure is not None and self.erasure.strategy != "keep"


class Ambiguous(ValueError):
    """Two rules equally specific give one field different strategies."""


def personal(entry: FieldEntry) -> bool:
    return any(c == "user" or c.startswith("user.") for c in entry.model.data_categories or [])


def own_strategy(entry: FieldEntry) -> Erasure | None:
    """The field's own strategy: ``charter.erasure``, else Fides' ``masking_strategy_override``."""
    if entry.model.charter and entry.model.charter.erasure:
        return entry.model.charter.erasure
    override = entry.model.meta.masking_strategy_override
    return override.erasure if override is not None else None


def collection_strategy(collection: CollectionEntry) -> Erasure | None:
    """The collection's own strategy: ``charter.erasure``, else Fides' ``masking_strategy_override``."""
    if collection.erasure is not None:
        return collection.erasure
    override = collection.model.meta.masking_strategy_override
    return override.erasure if override is not None else None


def _covers(target: str, category: str) -> bool:
    return category == target or category.startswith(f"{target}.")


class Resolver:
    """The erasure policy of one data map, applied field by field."""

    def __init__(self, datamap: DataMap) -> None:
        self.policy = datamap.policy or DEFAULT
        self.source = "the data map's erasure policy" if datamap.policy else "Charter's default erasure policy"
        self.rules = [
            (target.data_category, rule.masking_strategy.erasure, rule.label)
            for rule in self.policy.rules
            if rule.action_type == "erasure" and rule.masking_strategy is not None
            for target in rule.targets
        ]
        identities = self.policy.identities
        self.identity = identities.erasure if identities is not None else IDENTITY_DEFAULT

    def rule_for(self, entry: FieldEntry) -> tuple[Erasure, str] | None:
        """The most specific rule covering one of the field's categories; Ambiguous if two equal ones differ."""
        best: list[tuple[int, str, Erasure, str]] = []
        for category in entry.model.data_categories or []:
            for target, erasure, label in self.rules:
                if _covers(target, category):
                    best.append((target.count(".") + 1, target, erasure, label))
        if not best:
            return None
        depth = max(b[0] for b in best)
        top = [b for b in best if b[0] == depth]
        if len({b[2] for b in top}) > 1:
            named = "; ".join(f"rule '{b[3]}' ({b[1]}) gives {b[2].strategy}" for b in top)
            raise Ambiguous(
                f"ambiguous erasure: {named}; set charter.erasure on the field or make one rule more specific"
            )
        _, target, erasure, label = top[0]
        return erasure, f"{self.source}, rule '{label}' ({target})"

    def field(self, collection: CollectionEntry, entry: FieldEntry, through: set[str]) -> Decided:
        """What a deletion does to ``entry``; ``through`` holds the keys of fields references go through."""
        own = own_strategy(entry)
        if own is not None:
            return Decided(
                own, f"kept, set on the field: {own.reason}" if own.strategy == "keep" else "set on the field"
            )
        whole = collection_strategy(collection)
        if whole is not None and whole.strategy == "delete_row":
            return Decided(whole, "the collection's rows are deleted")
        if whole is not None and whole.strategy == "keep":
            return Decided(whole, f"kept with the collection: {whole.reason}")
        meta = entry.model.meta
        identity = bool(meta.identity)
        if meta.primary_key:
            return Decided(None, "primary key: never rewritten (delete the row to remove it)", linking=True)
        if meta.read_only:
            return Decided(None, "read_only in the data map")
        if not entry.top:
            return self._nested(collection, entry, through)
        if entry.key in through and not identity:
            return Decided(
                None, "references go through it: rewriting it would cut the path to other data", linking=True
            )
        if identity:
            return Decided(self.identity, f"identity field ({meta.identity}): {self.source}")
        if whole is not None and personal(entry):
            return Decided(whole, "the collection's strategy for its personal fields")
        ruled = self.rule_for(entry)
        if ruled is not None:
            return Decided(*ruled)
        if personal(entry):
            return Decided(None, f"no rule of {self.source} covers its categories")
        return Decided(None, "not personal data (no user.* category)")

    def _nested(self, collection: CollectionEntry, entry: FieldEntry, through: set[str]) -> Decided:
        """A nested field is never rewritten by itself; it goes with its top-level field when that is erased."""
        outer = collection.column(entry.column)
        try:
            around = self.field(collection, outer, through) if outer is not None else None
        except Ambiguous:
            around = None  # reported on the top-level field
        if around is not None and around.erased and around.erasure is not None:
            column = paths.shown((entry.column,))
            why = f"nested in '{column}', which the deletion erases whole ({around.erasure.strategy})"
            return Decided(None, why, within=entry.column)
        return Decided(None, "nested field: Charter rewrites top-level columns only")
