"""A pure, immutable view of the vocabulary.

Keys are dotted (``user.contact.email``); a term covers every key below it,
so a rule about ``user.cpni`` applies to ``user.cpni.billing``. The default
vocabulary is fideslang's (a snapshot of it, :mod:`charter.taxonomy.snapshot`),
loaded once, plus ``extensions.yaml``; a statement may add terms of its own on
top (``Taxonomy.extended``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from types import MappingProxyType

import yaml


class Kind(StrEnum):
    DATA_CATEGORY = "data_category"
    DATA_USE = "data_use"
    DATA_SUBJECT = "data_subject"


@dataclass(frozen=True)
class Term:
    key: str
    name: str
    description: str = ""
    origin: str = "fideslang"
    promises: tuple[str, ...] = ()

    @property
    def parent(self) -> str | None:
        head, dot, _ = self.key.rpartition(".")
        return head if dot else None


def covers(general: str, specific: str) -> bool:
    """True when ``specific`` is ``general`` or lies below it."""
    return specific == general or specific.startswith(general + ".")


@dataclass(frozen=True)
class Taxonomy:
    terms: Mapping[Kind, Mapping[str, Term]] = field(default_factory=dict)

    def get(self, kind: Kind, key: str) -> Term | None:
        return self.terms.get(kind, {}).get(key)

    def __contains__(self, item: tuple[Kind, str]) -> bool:
        kind, key = item
        return key in self.terms.get(kind, {})

    def keys(self, kind: Kind) -> list[str]:
        return sorted(self.terms.get(kind, {}))

    def suggest(self, kind: Kind, key: str) -> str | None:
        """The closest known key, for a "did you mean" hint."""
        known = self.keys(kind)
        matches = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        if not matches:
            leaf = key.rsplit(".", 1)[-1]
            by_leaf = {k.rsplit(".", 1)[-1]: k for k in known}
            found = difflib.get_close_matches(leaf, list(by_leaf), n=1, cutoff=0.75)
            matches = [by_leaf[found[0]]] if found else []
        return matches[0] if matches else None

    def label(self, kind: Kind, key: str) -> str:
        term = self.get(kind, key)
        return term.name if term else key

    def extended(self, kind: Kind, new_terms: Iterable[Term]) -> Taxonomy:
        merged = {k: dict(v) for k, v in self.terms.items()}
        bucket = merged.setdefault(kind, {})
        for term in new_terms:
            bucket[term.key] = term
        return Taxonomy({k: MappingProxyType(v) for k, v in merged.items()})


_EXTENSION_SECTIONS = {
    "data_categories": Kind.DATA_CATEGORY,
    "data_uses": Kind.DATA_USE,
    "data_subjects": Kind.DATA_SUBJECT,
}


@cache
def default_taxonomy() -> Taxonomy:
    """fideslang's defaults plus Charter's extensions; built once per process.

    fideslang's defaults are read from their snapshot (:mod:`charter.taxonomy.snapshot`: the same terms,
    without loading fideslang's models into every serving process)."""
    from charter.taxonomy.snapshot import stored

    buckets: dict[Kind, dict[str, Term]] = {kind: {} for kind in Kind}
    snapshot = stored()
    for kind in Kind:
        for item in snapshot[kind.value]:
            buckets[kind][item["key"]] = Term(key=item["key"], name=item["name"], description=item["description"])
    text = resources.files("charter.taxonomy").joinpath("extensions.yaml").read_text()
    for section, entries in yaml.safe_load(text).items():
        kind = _EXTENSION_SECTIONS[section]
        for entry in entries:
            buckets[kind][entry["key"]] = Term(
                key=entry["key"],
                name=entry["name"],
                description=entry.get("description", ""),
                origin="charter",
                promises=tuple(entry.get("promises", ())),
            )
    return Taxonomy({k: MappingProxyType(v) for k, v in buckets.items()})
