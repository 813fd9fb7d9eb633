"""The meaning of a statement: every reference resolves, every promise is keepable.

Shape errors are caught by the schema; this module finds what only the whole
document can show: unknown vocabulary ("did you mean …"), rules citing
purposes that do not exist, offered rights with no deadline, duplicated ids.
Pure: it reads the statement and the vocabulary, nothing else.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from charter.errors import PolicyInvalid, Problem
from charter.policy.loader import Loaded, Path
from charter.policy.schema import Rule, Statement
from charter.taxonomy import Kind, Taxonomy, Term, default_taxonomy

_KIND_WORDS = {
    Kind.DATA_CATEGORY: "data category",
    Kind.DATA_USE: "data use",
    Kind.DATA_SUBJECT: "data subject",
}


def vocabulary_of(statement: Statement, base: Taxonomy | None = None) -> Taxonomy:
    """The default vocabulary plus the terms this statement declares."""
    taxonomy = base or default_taxonomy()
    sections = (
        (Kind.DATA_CATEGORY, statement.vocabulary.data_categories),
        (Kind.DATA_USE, statement.vocabulary.data_uses),
        (Kind.DATA_SUBJECT, statement.vocabulary.data_subjects),
    )
    for kind, terms in sections:
        if terms:
            taxonomy = taxonomy.extended(kind, (Term(t.key, t.name, t.description, origin="statement") for t in terms))
    return taxonomy


@dataclass
class _Checker:
    statement: Statement
    taxonomy: Taxonomy
    found: list[tuple[Path, str]] = field(default_factory=list)

    def add(self, path: Path, message: str) -> None:
        self.found.append((path, message))

    def term(self, kind: Kind, key: str, path: Path) -> None:
        if key == "*" and kind == Kind.DATA_SUBJECT:
            return
        if (kind, key) in self.taxonomy:
            return
        hint = self.taxonomy.suggest(kind, key)
        tail = f"; did you mean '{hint}'?" if hint else "; declare it under vocabulary or use a known key"
        self.add(path, f"unknown {_KIND_WORDS[kind]} '{key}'{tail}")

    def terms(self, kind: Kind, keys: Iterable[str], path: Path) -> None:
        for index, key in enumerate(keys):
            self.term(kind, key, (*path, index))

    def refs(self, what: str, keys: Sequence[str], known: set[str], path: Path) -> None:
        for index, key in enumerate(keys):
            if key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f"; define it under {what}s"
                self.add((*path, index), f"unknown {what} '{key}'{hint}")

    def unique(self, what: str, items: Iterable[tuple[str, Path]]) -> set[str]:
        seen: set[str] = set()
        for key, path in items:
            if key in seen:
                self.add(path, f"duplicate {what} id '{key}'; ids must be unique")
            seen.add(key)
        return seen


def _check_vocabulary(c: _Checker) -> None:
    base = default_taxonomy()
    sections = (
        ("data_categories", Kind.DATA_CATEGORY, c.statement.vocabulary.data_categories),
        ("data_uses", Kind.DATA_USE, c.statement.vocabulary.data_uses),
        ("data_subjects", Kind.DATA_SUBJECT, c.statement.vocabulary.data_subjects),
    )
    for section, kind, terms in sections:
        for index, term in enumerate(terms):
            path: Path = ("vocabulary", section, index, "key")
            if (kind, term.key) in base:
                c.add(path, f"'{term.key}' is already a default {_KIND_WORDS[kind]}; remove it here")
            parent = term.key.rpartition(".")[0]
            if parent and (kind, parent) not in c.taxonomy:
                c.add(path, f"parent '{parent}' of '{term.key}' is not a known {_KIND_WORDS[kind]}")


def _check_rules(c: _Checker, purposes: set[str], services: set[str], recipients: set[str]) -> None:
    located: list[tuple[Rule, Path]] = [(rule, ("rules", i)) for i, rule in enumerate(c.statement.rules)]
    for r, regime in enumerate(c.statement.regimes):
        located += [(rule, ("regimes", r, "rules", i)) for i, rule in enumerate(regime.rules)]
    c.unique("rule", ((rule.id, (*path, "id")) for rule, path in located))
    for rule, path in located:
        c.terms(Kind.DATA_CATEGORY, rule.categories, (*path, "categories"))
        c.terms(Kind.DATA_SUBJECT, rule.subjects, (*path, "subjects"))
        c.refs("purpose", rule.purposes, purposes, (*path, "purposes"))
        c.refs("recipient", rule.recipients, recipients, (*path, "recipients"))
        c.refs("service", rule.when.services, services, (*path, "when", "services"))
        low, high = rule.when.min_age, rule.when.max_age
        if low is not None and high is not None and low > high:
            c.add((*path, "when"), f"min_age {low} is above max_age {high}; no one can match")


def _check_rights(c: _Checker) -> None:
    jurisdictions = c.statement.rights.jurisdictions
    c.unique("jurisdiction", ((j.id, ("rights", "jurisdictions", i, "id")) for i, j in enumerate(jurisdictions)))
    if not jurisdictions:
        return
    if not any("*" in j.regions for j in jurisdictions):
        c.add(("rights", "jurisdictions"), "no jurisdiction covers '*'; people elsewhere would have no deadline")
    for j_index, jurisdiction in enumerate(jurisdictions):
        base: Path = ("rights", "jurisdictions", j_index)
        seen: set[str] = set()
        for r_index, offer in enumerate(jurisdiction.rights):
            path: Path = (*base, "rights", r_index)
            if offer.right in seen:
                c.add((*path, "right"), f"right '{offer.right}' is offered twice in '{jurisdiction.id}'")
            seen.add(offer.right)
            if offer.deadline is None and jurisdiction.deadline is None:
                c.add(
                    path,
                    f"right '{offer.right}' in '{jurisdiction.id}' has no deadline; "
                    f"set its deadline or the jurisdiction's",
                )


def _check_collection(c: _Checker, services: set[str]) -> None:
    collection = c.statement.collection
    c.terms(Kind.DATA_CATEGORY, collection.categories, ("collection", "categories"))
    if collection.minimum_age is not None:
        for index, exception in enumerate(collection.minimum_age.exceptions):
            path: Path = ("collection", "minimum_age", "exceptions", index, "services")
            c.refs("service", exception.services, services, path)
            proof = exception.parental_consent_proof
            if proof is not None and proof.below_age > collection.minimum_age.age:
                c.add(
                    ("collection", "minimum_age", "exceptions", index, "parental_consent_proof", "below_age"),
                    f"proof is asked below {proof.below_age}, above the minimum age {collection.minimum_age.age}",
                )


def check(statement: Statement) -> list[tuple[Path, str]]:
    """All problems of meaning, as (path, message); empty when the statement is sound."""
    taxonomy = vocabulary_of(statement)
    c = _Checker(statement, taxonomy)
    _check_vocabulary(c)
    s = statement
    purposes = c.unique("purpose", ((p.id, ("purposes", i, "id")) for i, p in enumerate(s.purposes)))
    services = c.unique(
        "service", ((v.id, ("organization", "services", i, "id")) for i, v in enumerate(s.organization.services))
    )
    recipients = c.unique("recipient", ((r.id, ("recipients", i, "id")) for i, r in enumerate(s.recipients)))
    c.unique("regime", ((g.id, ("regimes", i, "id")) for i, g in enumerate(s.regimes)))
    c.unique("retention rule", ((r.id, ("retention", "rules", i, "id")) for i, r in enumerate(s.retention.rules)))
    c.unique("contact", ((x.id, ("contacts", i, "id")) for i, x in enumerate(s.contacts)))
    c.unique("agreement", ((a.id, ("agreements", i, "id")) for i, a in enumerate(s.agreements)))
    c.unique(
        "transfer mechanism",
        ((m.id, ("transfers", "mechanisms", i, "id")) for i, m in enumerate(s.transfers.mechanisms)),
    )
    c.unique("cookie class", ((k.id, ("tracking", "cookies", i, "id")) for i, k in enumerate(s.tracking.cookies)))

    for index, purpose in enumerate(s.purposes):
        c.term(Kind.DATA_USE, purpose.data_use, ("purposes", index, "data_use"))
    for index, service in enumerate(s.organization.services):
        c.terms(Kind.DATA_CATEGORY, service.collects, ("organization", "services", index, "collects"))
        c.terms(Kind.DATA_SUBJECT, service.subjects, ("organization", "services", index, "subjects"))
    c.terms(Kind.DATA_CATEGORY, s.definitions.sensitive_categories, ("definitions", "sensitive_categories"))
    if s.definitions.anonymous_information is not None:
        c.refs(
            "purpose",
            s.definitions.anonymous_information.purposes,
            purposes,
            ("definitions", "anonymous_information", "purposes"),
        )
    _check_collection(c, services)
    _check_rules(c, purposes, services, recipients)
    for index, rule in enumerate(s.retention.rules):
        c.terms(Kind.DATA_CATEGORY, rule.categories, ("retention", "rules", index, "categories"))
        c.refs("purpose", rule.purposes, purposes, ("retention", "rules", index, "purposes"))
    for index, cookie in enumerate(s.tracking.cookies):
        c.refs("purpose", cookie.purposes, purposes, ("tracking", "cookies", index, "purposes"))
    for index, signal in enumerate(s.tracking.signals):
        c.refs("purpose", signal.denies, purposes, ("tracking", "signals", index, "denies"))
    _check_rights(c)
    return c.found


def check_loaded(loaded: Loaded) -> list[Problem]:
    return [loaded.problem(path, message) for path, message in check(loaded.statement)]


def ensure_valid(loaded: Loaded) -> Loaded:
    """Raise PolicyInvalid with every problem, or return the statement unchanged."""
    problems = check_loaded(loaded)
    if problems:
        raise PolicyInvalid(f"{loaded.source} has {len(problems)} problem(s)", problems=problems)
    return loaded
