"""What a Fides folder holds besides the data map: left out, each with a note, never an error.

Fides reads one folder of manifests: datasets, but also systems, policies,
organizations, taxonomy entries, connections, SaaS connector configs and
the datasets of SaaS connections. Charter reads the datasets it can connect
to and its own ``systems``; the rest is not its business, and must not make
the whole map invalid. Strictness stays where it protects a user: a
top-level key close to ``dataset`` or ``systems`` is a misspelling (an error
with "did you mean"), and so is a Fides ``system:`` list written like
Charter's systems. Catalogue datasets are left out later, once the whole map
is known (:mod:`charter.datamap.scope`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from charter.errors import Problem

if TYPE_CHECKING:
    from charter.datamap.loader import Where

CHARTER_KEYS = ("dataset", "systems", "erasure_policy")
#: Fides resource types that share manifest folders with datasets (fideslang's, the older ones, Fides' connections).
FIDES_KINDS = frozenset(
    {
        "system",
        "organization",
        "data_category",
        "data_use",
        "data_subject",
        "data_qualifier",
        "policy",
        "registry",
        "evaluation",
        "taxonomy",
        "connection",
        "connection_config",
    }
)
SAAS_CONFIG = "saas_config"
CONNECTIONS = ("connection", "connection_config")


def split(value: Mapping[Any, Any], where: Where) -> tuple[dict[str, Any], list[Problem], list[Problem]]:
    """(Charter's keys of a file, notes on what is left out, errors for near-misses of Charter's keys)."""
    kept: dict[str, Any] = {}
    notes: list[Problem] = []
    problems: list[Problem] = []
    saas_file = SAAS_CONFIG in value
    for raw, item in value.items():
        key = str(raw)
        if key in CHARTER_KEYS:
            if not (key == "dataset" and saas_file):  # a SaaS connector's dataset: said in its note
                kept[key] = item
        elif key == SAAS_CONFIG:
            names = ", ".join(f"'{k}'" for k in _dataset_keys(value.get("dataset")))
            also = f" and its dataset {names}" if names else ""
            message = (
                f"skipped: a Fides SaaS connector (saas_config){also}; Charter does not connect to SaaS APIs, so "
                "what it holds is not searched or erased by Charter"
            )
            notes.append(where.problem(message, key))
        elif key == "system" and _charter_systems(item):
            message = (
                "unknown key 'system'; did you mean 'systems'? (Charter's systems have id, kind and datasets; "
                "a Fides system has a fides_key)"
            )
            problems.append(where.problem(message, key))
        elif key in FIDES_KINDS:
            notes.append(where.problem(f"skipped: a Fides {key} is not part of the data map", key))
        elif close := difflib.get_close_matches(key, CHARTER_KEYS, n=1, cutoff=0.75):
            problems.append(where.problem(f"unknown key '{key}'; did you mean '{close[0]}'?", key))
        else:
            message = (
                f"skipped: '{key}' is neither a key Charter reads ('dataset', 'systems', 'erasure_policy') "
                "nor a Fides resource"
            )
            notes.append(where.problem(message, key))
    return kept, notes, problems


def saas_datasets(values: Iterable[Mapping[Any, Any]]) -> dict[str, str]:
    """Dataset key → key of the Fides SaaS connection (``connection_type: saas``) whose dataset it is."""
    found: dict[str, str] = {}
    for value in values:
        for kind in CONNECTIONS:
            entries = value.get(kind)
            for entry in entries if isinstance(entries, list) else [entries]:
                if not isinstance(entry, Mapping) or str(entry.get("connection_type", "")).lower() != "saas":
                    continue
                name = str(entry.get("key") or entry.get("name") or "?")
                named = entry.get("datasets", entry.get("dataset"))
                for dataset in named if isinstance(named, list) else [named]:
                    if isinstance(dataset, str):
                        found.setdefault(dataset, name)
    return found


def without_saas(
    datasets: Any, where: Where, saas: Mapping[str, str]
) -> tuple[Any, tuple[int, ...] | None, list[Problem]]:
    """A file's datasets without SaaS ones: (kept, each kept one's index in the file or None if all are, notes)."""
    if not isinstance(datasets, list):
        return datasets, None, []
    kept: list[Any] = []
    indexes: list[int] = []
    notes: list[Problem] = []
    for index, item in enumerate(datasets):
        key = item.get("fides_key") if isinstance(item, Mapping) else None
        if isinstance(key, str) and ("<" in key or key in saas):
            whose = f"the SaaS connection '{saas[key]}'" if key in saas else "a Fides SaaS connector (a template key)"
            message = (
                f"skipped: dataset '{key}' belongs to {whose}; Charter does not connect to SaaS APIs, so it is "
                "not searched or erased by Charter"
            )
            notes.append(where.problem(message, "dataset", index, "fides_key"))
            continue
        kept.append(item)
        indexes.append(index)
    return kept, (tuple(indexes) if notes else None), notes


def _dataset_keys(datasets: Any) -> list[str]:
    if not isinstance(datasets, list):
        return []
    return [str(d["fides_key"]) for d in datasets if isinstance(d, Mapping) and "fides_key" in d]


def _charter_systems(item: Any) -> bool:
    entries = item if isinstance(item, list) else [item]
    return any(isinstance(e, Mapping) and "kind" in e and "fides_key" not in e for e in entries)
