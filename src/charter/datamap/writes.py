"""What each erasure strategy writes, and whether the runner can write it there.

A deletion rewrites a collection's fields with one ``UPDATE … SET f = :v
WHERE key = :k`` per row (``charter.execution.actions.erase``): by the
collection's single primary key, on top-level columns only, with a value
of a known width. A map whose strategy cannot be written that way would stop
a deletion half-way, after earlier steps have already erased (P-RGT-3), so
the check refuses it first. The static part is here; the live part (the
store's own key, widths and types) is :mod:`charter.datamap.live_fit`.

The widths mirror ``charter.execution.erasure`` (which this package must
not import: execution builds on the data map, not the other way round); a
test pins them to the runner's output.
"""

from __future__ import annotations

from dataclasses import dataclass

from charter.datamap import paths
from charter.datamap.erasure_policy import Ambiguous, Resolver, collection_strategy, own_strategy
from charter.datamap.findings import Finding, error
from charter.datamap.model import CollectionEntry, FieldEntry
from charter.datamap.schema import Erasure
from charter.errors import Problem

#: Strategies that write text into the field.
TEXT_STRATEGIES = frozenset({"keyed_hash", "random_token", "redact_text"})
#: Fides data types a text strategy cannot be written into.
NON_TEXT_TYPES = frozenset({"integer", "float", "boolean", "object", "object_id"})
#: Fides data types generalize_date cannot be written into.
NON_DATE_TYPES = frozenset({"float", "boolean", "object", "object_id"})
#: keyed_hash writes 32 hex characters (HMAC-SHA256, cut).
KEYED_HASH_WIDTH = 32
#: random_token writes 24 hex characters.
RANDOM_TOKEN_WIDTH = 24
#: redact_text's text when the map gives no ``replacement``.
DEFAULT_REPLACEMENT = "(erased)"
#: generalize_date writes a date, ``YYYY-MM-DD``, into a text column.
DATE_WIDTH = 10


def width(erasure: Erasure) -> int | None:
    """How many characters the strategy writes into a text column; None when it writes no text (set_null)."""
    strategy = erasure.strategy
    if strategy == "keyed_hash":
        return KEYED_HASH_WIDTH
    if strategy == "random_token":
        return erasure.length or RANDOM_TOKEN_WIDTH
    if strategy == "redact_text":
        return len(erasure.replacement if erasure.replacement is not None else DEFAULT_REPLACEMENT)
    if strategy == "generalize_date":
        return DATE_WIDTH
    return None


def narrower_hint(erasure: Erasure, room: int) -> str:
    """What to do instead when ``room`` characters are too few for the strategy."""
    if erasure.strategy == "redact_text":
        return f"or give a replacement of at most {room} characters, or use set_null"
    if erasure.strategy == "keyed_hash" and room >= RANDOM_TOKEN_WIDTH:
        return f"or use random_token ({RANDOM_TOKEN_WIDTH} characters) or set_null"
    return "or use set_null"


@dataclass(frozen=True)
class Planned:
    """A field a deletion would rewrite, and with what: its own strategy, or its collection's."""

    field: FieldEntry
    erasure: Erasure
    inherited: bool

    def path(self) -> tuple[str, ...]:
        """Where to point a message: the field's strategy, or its name when the strategy is the collection's."""
        if self.inherited:
            return ("name",)
        return ("charter", "erasure") if self.field.model.charter else ("fides_meta", "masking_strategy_override")

    def problem(self, message: str) -> Problem:
        return self.field.where.problem(message, *self.path())


def planned(collection: CollectionEntry, through: set[str], resolver: Resolver) -> list[Planned]:
    """The field rewrites a deletion would plan here, decided as ``charter.execution.plan`` decides them (the
    same :class:`~charter.datamap.erasure_policy.Resolver`): a field's own strategy, else what the collection
    or the erasure policy gives it. ``through`` holds the keys of fields references go through."""
    whole = collection_strategy(collection)
    if whole is not None and whole.strategy == "delete_row":
        return []
    out = []
    for entry in collection.fields.values():
        own = own_strategy(entry)
        if own is not None:
            if own.strategy not in ("keep", "delete_row"):
                out.append(Planned(entry, own, inherited=False))
            continue
        try:
            decided = resolver.field(collection, entry, through)
        except Ambiguous:
            continue  # reported by the check, with both rules
        if decided.erased and decided.erasure is not None and decided.erasure.strategy != "delete_row":
            out.append(Planned(entry, decided.erasure, inherited=True))
    return out


def key_columns(collection: CollectionEntry) -> list[str]:
    """The top-level fields the map marks as primary key (the runner uses exactly one of them)."""
    return [f.column for f in collection.fields.values() if f.top and f.model.meta.primary_key]


def check_collection(
    collection: CollectionEntry, kind: str, through: set[str], reported: set[str], resolver: Resolver
) -> list[Finding]:
    """Errors for rewrites the runner could not do; ``reported`` fields already have one for their strategy."""
    rewrites = [p for p in planned(collection, through, resolver) if p.field.key not in reported]
    findings = [error(problem) for p in rewrites if (problem := _field_problem(p)) is not None]
    if rewrites and kind == "sql":
        shape = _key_problem(collection, rewrites)
        if shape is not None:
            findings.insert(0, error(shape))
    return findings


def _key_problem(collection: CollectionEntry, rewrites: list[Planned]) -> Problem | None:
    keys = key_columns(collection)
    if len(keys) == 1:
        return None
    first = rewrites[0]
    fields = ", ".join(p.field.name for p in rewrites)
    strategies = ", ".join(sorted({p.erasure.strategy for p in rewrites}))
    if not keys:
        return first.problem(
            f"collection '{collection.key}' has no primary key, but {strategies} rewrites its rows one by one by "
            f"their key (fields: {fields}); declare fides_meta.primary_key on the key column, or use delete_row "
            "on the collection (charter: {erasure: delete_row})"
        )
    return first.problem(
        f"collection '{collection.key}' has a composite primary key ({', '.join(keys)}), but {strategies} rewrites "
        f"its rows by one key column (fields: {fields}); declare fides_meta.primary_key on one column that is "
        "unique by itself, or use delete_row on the collection (charter: {erasure: delete_row})"
    )


def _field_problem(rewrite: Planned) -> Problem | None:
    field, erasure = rewrite.field, rewrite.erasure
    strategy = erasure.strategy
    meta = field.model.meta
    top = paths.shown((field.column,))
    if not field.top:
        if rewrite.inherited:
            return rewrite.problem(
                f"the collection's {strategy} would apply to nested field '{field.name}' (it holds personal data), "
                "but the runner rewrites top-level columns only; set strategies on the top-level fields (e.g. "
                f"on '{top}') instead of on the collection, or use delete_row on the collection"
            )
        return rewrite.problem(
            f"'{field.name}' is a nested field: the runner rewrites top-level columns only, so {strategy} cannot "
            f"run here; put a strategy on '{top}' (the whole column), or use delete_row on the collection"
        )
    data_type = (meta.data_type or "").removesuffix("[]")
    if rewrite.inherited and strategy in TEXT_STRATEGIES and data_type in NON_TEXT_TYPES:
        return rewrite.problem(
            f"the collection's {strategy} writes text, but this personal field's data_type is {meta.data_type}; "
            "give the field its own strategy (e.g. set_null)"
        )
    if rewrite.inherited and strategy == "generalize_date" and data_type in NON_DATE_TYPES:
        return None  # a collection-level generalize_date is an error of its own
    needed = width(erasure)
    if needed is not None and meta.length is not None and meta.length < needed:
        return rewrite.problem(
            f"{strategy} writes {needed} characters but fides_meta.length is {meta.length}; the column must "
            f"take at least {needed} (widen it, then fides_meta.length), {narrower_hint(erasure, meta.length)}"
        )
    return None
