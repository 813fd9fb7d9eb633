"""Static checks of what a deletion would do under a map: every strategy must be one that can work.

Per field, the strategy the erasure policy decides (:class:`~charter.datamap.erasure_policy.Resolver`,
the one the planner asks) is checked against the field: ``delete_row`` on a field, a strategy on a primary
key or a ``read_only`` field, ``set_null`` where references go through, text into a non-text type, a date
strategy on a non-date. An identity field a deletion would leave is an error (the verification would
then fail every deletion); personal data left untouched is a warning; a map under which a deletion
erases nothing at all is an error. What the runner could not write (key shape, nesting, width) is
:mod:`charter.datamap.writes`; the live store's side is :mod:`charter.datamap.live_fit`.
"""

from __future__ import annotations

from charter.datamap import writes
from charter.datamap.erasure_policy import Ambiguous, Resolver, collection_strategy, own_strategy, personal
from charter.datamap.findings import Finding, error, warning
from charter.datamap.model import CollectionEntry, DataMap, FieldEntry
from charter.datamap.references import Edge, through
from charter.datamap.schema import Erasure
from charter.datamap.writes import NON_DATE_TYPES, NON_TEXT_TYPES, TEXT_STRATEGIES
from charter.taxonomy import Kind, Taxonomy


def _strategy_key(model: object) -> tuple[str, ...]:
    """Where a field's or collection's own strategy is written, for the finding's line."""
    if getattr(model, "charter", None) is not None:
        return ("charter", "erasure")
    if getattr(model, "fides_meta", None) is not None:
        return ("fides_meta", "masking_strategy_override")
    return ("name",)


class ErasureChecks:
    """The erasure strategies of one map, checked field by field; ``run`` gives the findings."""

    def __init__(self, datamap: DataMap, taxonomy: Taxonomy, edges: list[Edge]) -> None:
        self.map = datamap
        self.taxonomy = taxonomy
        self.edges = edges
        self.findings: list[Finding] = []

    def run(self) -> list[Finding]:
        referenced = through(self.edges)
        resolver = Resolver(self.map)
        self._policy_terms()
        erased_somewhere = False
        for collection in self.map.collections():
            whole = collection_strategy(collection)
            if whole is not None and whole.strategy == "generalize_date":
                message = "generalize_date applies to one date field; set it on the field"
                self.findings.append(error(collection.where.problem(message, *_strategy_key(collection.model))))
            if whole is not None and whole.strategy == "delete_row":
                erased_somewhere = True
            untouched: list[str] = []
            reported: set[str] = set()
            for field in collection.fields.values():
                own = own_strategy(field)
                try:
                    decided = resolver.field(collection, field, referenced)
                except Ambiguous as exc:
                    self.findings.append(error(field.where.problem(str(exc), "data_categories")))
                    reported.add(field.key)
                    continue
                checked = own if own is not None else decided.erasure if decided.erased else None
                if checked is not None and checked.strategy != "keep" and (own or checked.strategy != "delete_row"):
                    problem = _field_strategy_problem(field, checked, whole, referenced)
                    if problem:
                        at = _strategy_key(field.model) if own is not None else ("name",)
                        if own is None:
                            problem = f"{problem} ({decided.why}); set charter.erasure on the field"
                        self.findings.append(error(field.where.problem(problem, *at)))
                        reported.add(field.key)
                if decided.erased:
                    erased_somewhere = True
                elif field.model.meta.identity and field.top and decided.erasure is None:
                    # verification searches every identity field for the person's values: left as it is, this
                    # one would fail every deletion that finds the person, after the other steps had erased
                    message = (
                        f"identity field '{field.name}' would keep the person's {field.model.meta.identity} after a "
                        f"deletion ({decided.why}); delete the rows (delete_row on the collection) or keep it "
                        "with a reason ({strategy: keep, reason: ...})"
                    )
                    self.findings.append(error(field.where.problem(message, "fides_meta", "identity")))
                elif decided.erasure is None and personal(field) and not decided.linking and decided.within is None:
                    untouched.append(f"{field.name} ({decided.why})")
            if collection.model.meta.skip_processing:
                continue
            if untouched:
                message = (
                    "a deletion leaves personal data here untouched: "
                    + "; ".join(untouched)
                    + ". Give these fields a strategy, delete the rows (delete_row), or keep them with a reason"
                )
                self.findings.append(warning(collection.where.problem(message, "name")))
            kind = self._kind(collection)
            self.findings += writes.check_collection(collection, kind, referenced, reported, resolver)
        held = [c for c in self.map.collections() if c.dataset in self.map.holder]
        if held and not erased_somewhere:
            message = (
                "under this data map a deletion erases nothing at all: no field has a strategy and no "
                f"rule of {resolver.source} covers a field's categories; add data categories (user.*) to the "
                "fields or an erasure_policy"
            )
            where = self.map.policy_where or next(iter(self.map.datasets.values())).where
            self.findings.append(error(where.problem(message)))
        return self.findings

    def _kind(self, collection: CollectionEntry) -> str:
        """The kind of store holding the collection; a dataset no system holds is judged by its own keys."""
        system = self.map.systems.get(self.map.holder.get(collection.dataset, ""))
        if system is not None:
            return system.model.kind
        return "redis" if collection.model.charter and collection.model.charter.key else "sql"

    def _policy_terms(self) -> None:
        policy, where = self.map.policy, self.map.policy_where
        if policy is None or where is None:
            return
        for r_index, rule in enumerate(policy.rules):
            for t_index, target in enumerate(rule.targets):
                value = target.data_category
                if (Kind.DATA_CATEGORY, value) in self.taxonomy:
                    continue
                close = self.taxonomy.suggest(Kind.DATA_CATEGORY, value)
                hint = f"; did you mean '{close}'?" if close else ""
                at = where.at("rules", r_index, "targets", t_index)
                self.findings.append(error(at.problem(f"unknown data category '{value}'{hint}", "data_category")))


def _field_strategy_problem(
    field: FieldEntry, erasure: Erasure, whole: Erasure | None, referenced: set[str]
) -> str | None:
    meta = field.model.meta
    strategy = erasure.strategy
    data_type = (meta.data_type or "").removesuffix("[]")
    if strategy == "delete_row":
        return "delete_row erases whole rows; set it on the collection (charter: {erasure: delete_row})"
    if whole is not None and whole.strategy == "delete_row":
        return f"the collection deletes its rows, so {strategy} on this field would never run"
    if meta.read_only:
        return f"the field is read_only; {strategy} would write to it"
    if meta.primary_key:
        return f"{strategy} would rewrite a primary key; erase the row instead (delete_row on the collection)"
    if strategy == "set_null" and field.key in referenced:
        return "set_null on a field that references are followed through would cut the path to other data"
    if strategy in TEXT_STRATEGIES and data_type in NON_TEXT_TYPES:
        return f"{strategy} writes text, but the field's data_type is {meta.data_type}"
    if strategy == "generalize_date" and data_type in NON_DATE_TYPES:
        return f"generalize_date needs a date, but the field's data_type is {meta.data_type}"
    return None


def key_field_rewritten(
    datamap: DataMap, collection: CollectionEntry, field: FieldEntry, key: str, edges: list[Edge]
) -> Finding | None:
    """A field the key pattern names, erased by rewriting the hash: refused.

    The rewrite changes the field inside the hash, but the key (``cart:ana@example.org``) still spells the
    person's value, and Charter does not rename keys: the verification then finds the person under that key
    and fails every deletion that finds them, after the other steps had already erased (the Redis
    model-based test found it). Only deleting the keys, or keeping the field on purpose, can be right."""
    whole = collection_strategy(collection)
    if whole is not None and whole.strategy == "delete_row":
        return None
    try:
        decided = Resolver(datamap).field(collection, field, through(edges))
    except Ambiguous:
        return None  # reported by ErasureChecks
    if not decided.erased:
        return None
    message = (
        f"'{field.name}' is in the key pattern '{key}': a deletion would rewrite it in the hash but leave the "
        "key naming the person (keys are not renamed); delete the keys (charter: {erasure: delete_row} on "
        "the collection) or keep the field with a reason ({strategy: keep, reason: ...})"
    )
    return error(collection.where.problem(message, "charter", "key"))
