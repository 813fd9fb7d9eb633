"""Moving in from Fides in one step: its DSR policy and connection configs as Charter's data-map files.

A Fides user already has three things: datasets (YAML, which Charter reads as
they are), an erasure policy (rules mapping data categories to masking
strategies, kept in Fides' database and exported as JSON from its API) and
connection configs (one per database, with secrets kept apart). This module
turns the last two into Charter's ``erasure_policy:`` and ``systems:``
documents, pure data in and out (the CLI and the API read and write files).

What cannot be carried over is said, never dropped silently: a strategy or an
option Charter does not honour is an error naming it (the same rules as the
data map's own, :func:`charter.datamap.schema.fides_erasure`); a connection
type Charter does not connect to (SaaS, MongoDB, BigQuery, …) is a note. A
password is never written anywhere: a system's URL comes from an environment
variable, and the import says which variable to set and its form, with
``PASSWORD`` where the secret goes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from charter.datamap.schema import fides_erasure
from charter.errors import InvalidInput

#: Fides connection types Charter connects to: (Charter's kind, the SQLAlchemy URL scheme, the default port).
CONNECTION_TYPES = {
    "postgres": ("sql", "postgresql+psycopg", 5432),
    "mysql": ("sql", "mysql+pymysql", 3306),
    "mariadb": ("sql", "mysql+pymysql", 3306),
    "redis": ("redis", "redis", 6379),
}
ENV_UNSAFE = re.compile(r"[^A-Z0-9]+")


class FidesImportInvalid(InvalidInput):
    """The Fides export cannot be carried over as it is; the message names the item, the field and the fix."""

    code = "fides_import_invalid"
    status = 422
    title = "The Fides export cannot be imported"


@dataclass
class Imported:
    """Charter's documents made from a Fides export, and what the person should know about them."""

    erasure_policy: dict[str, Any] | None = None
    systems: list[dict[str, Any]] = field(default_factory=list)
    #: environment variable → the URL's form, ``PASSWORD`` standing for the secret
    environment: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "erasure_policy": self.erasure_policy,
            "systems": self.systems,
            "environment": self.environment,
            "notes": self.notes,
        }


def _items(document: Any) -> list[dict[str, Any]]:
    """Fides' API answers a list as ``{"items": [...]}``; a single object, or a plain list, is taken too."""
    if isinstance(document, Mapping) and isinstance(document.get("items"), list):
        document = document["items"]
    if isinstance(document, Mapping):
        return [dict(document)]
    if isinstance(document, list):
        return [dict(item) for item in document if isinstance(item, Mapping)]
    return []


def classify(documents: Iterable[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(policies, connections) among the exported objects: a policy has ``rules``, a connection a
    ``connection_type``. Anything else is left to the caller (datasets are copied as they are)."""
    policies, connections = [], []
    for document in documents:
        for item in _items(document):
            if "rules" in item:
                policies.append(item)
            elif "connection_type" in item:
                connections.append(item)
    return policies, connections


def policy_of(policies: list[dict[str, Any]], chosen: str | None) -> dict[str, Any]:
    """Fides' DSR policy as Charter's ``erasure_policy``; ``chosen`` picks one by key when there are several."""
    if chosen is not None:
        policies = [p for p in policies if p.get("key") == chosen]
        if not policies:
            raise FidesImportInvalid(f"no policy with key '{chosen}' in the export")
    with_erasure = [p for p in policies if any(_is_erasure(r) for r in p.get("rules") or [])]
    if len(with_erasure) > 1:
        keys = ", ".join(str(p.get("key")) for p in with_erasure)
        raise FidesImportInvalid(f"the export holds several erasure policies ({keys}); choose one with --policy KEY")
    if not with_erasure:
        raise FidesImportInvalid("the export holds no policy with an erasure rule (action_type: erasure)")
    policy = with_erasure[0]
    label = policy.get("key") or policy.get("name") or "the policy"
    rules = []
    for index, rule in enumerate(policy.get("rules") or []):
        if not _is_erasure(rule):
            continue
        rule_label = rule.get("key") or rule.get("name") or f"rules[{index}]"
        masking = rule.get("masking_strategy") or {}
        strategy, configuration = masking.get("strategy"), masking.get("configuration") or None
        if not isinstance(strategy, str):
            raise FidesImportInvalid(f"{label}, rule '{rule_label}': masking_strategy.strategy is missing")
        try:
            fides_erasure(strategy, configuration)
        except ValueError as exc:
            raise FidesImportInvalid(f"{label}, rule '{rule_label}': {exc}") from None
        targets = [{"data_category": t["data_category"]} for t in rule.get("targets") or [] if t.get("data_category")]
        if not targets:
            raise FidesImportInvalid(f"{label}, rule '{rule_label}': no targets (data categories) to erase")
        built: dict[str, Any] = {
            "key": rule_label,
            "action_type": "erasure",
            "masking_strategy": {"strategy": strategy},
        }
        if configuration:
            built["masking_strategy"]["configuration"] = dict(configuration)
        built["targets"] = targets
        rules.append(built)
    out: dict[str, Any] = {"key": policy.get("key") or "imported_erasure_policy", "rules": rules}
    if policy.get("name"):
        out["name"] = policy["name"]
    return out


def _is_erasure(rule: Any) -> bool:
    return isinstance(rule, Mapping) and rule.get("action_type") == "erasure"


def env_name(key: str) -> str:
    return f"CHARTER_STORE_{ENV_UNSAFE.sub('_', key.upper()).strip('_')}_URL"


def system_of(connection: Mapping[str, Any], imported: Imported) -> dict[str, Any] | None:
    """One connection config as a Charter system (None, with a note, for a type Charter does not connect to)."""
    key = str(connection.get("key") or connection.get("name") or "")
    if not key:
        raise FidesImportInvalid("a connection config has no key")
    kind = str(connection.get("connection_type", "")).lower()
    if kind not in CONNECTION_TYPES:
        imported.notes.append(
            f"connection '{key}' ({kind}): Charter does not connect to this type; its datasets are not searched or "
            "erased by Charter (answer for them by hand, or keep Fides for them)"
        )
        return None
    if connection.get("disabled"):
        imported.notes.append(f"connection '{key}' is disabled in Fides; imported as it is, check before use")
    datasets = _datasets_of(connection)
    if not datasets:
        raise FidesImportInvalid(
            f"connection '{key}': name the datasets it holds (add \"datasets\": [fides_key, …], or its dataset "
            'configs as "dataset_configs")'
        )
    ours, scheme, port = CONNECTION_TYPES[kind]
    variable = env_name(key)
    imported.environment[variable] = _url_form(scheme, port, connection.get("secrets") or {})
    if connection.get("access") == "read":
        imported.notes.append(f"connection '{key}' has read access in Fides: a deletion needs a user that may write")
    system: dict[str, Any] = {"id": key, "kind": ours, "url_env": variable, "datasets": datasets}
    if connection.get("description") or connection.get("name"):
        system["description"] = str(connection.get("description") or connection.get("name"))
    return system


def _datasets_of(connection: Mapping[str, Any]) -> list[str]:
    named = [str(d) for d in connection.get("datasets") or [] if isinstance(d, str)]
    for config in connection.get("dataset_configs") or []:
        if isinstance(config, Mapping):
            ctl = config.get("ctl_dataset")
            key = config.get("ctl_dataset_fides_key") or (ctl.get("fides_key") if isinstance(ctl, Mapping) else None)
            key = key or config.get("fides_key")
            if key:
                named.append(str(key))
    return list(dict.fromkeys(named))


def _url_form(scheme: str, port: int, secrets: Mapping[str, Any]) -> str:
    """The URL's form with ``PASSWORD`` standing for the secret (the export's own password is never used)."""
    host = secrets.get("host") or "HOST"
    user = secrets.get("username") or "USER"
    chosen = secrets.get("port") or port
    if scheme == "redis":
        return f"redis://{user}:PASSWORD@{host}:{chosen}/{secrets.get('db_index') or 0}"
    database = secrets.get("dbname") or "DATABASE"
    return f"{scheme}://{user}:PASSWORD@{host}:{chosen}/{database}"


def convert(documents: Iterable[Any], *, policy: str | None = None) -> Imported:
    """Charter's erasure policy and systems from Fides' exported policies and connection configs."""
    policies, connections = classify(documents)
    if not policies and not connections:
        raise FidesImportInvalid(
            "nothing to import: expected Fides DSR policies (objects with rules) and/or connection configs "
            "(objects with connection_type), as Fides' API returns them"
        )
    imported = Imported()
    if policies:
        imported.erasure_policy = policy_of(policies, policy)
    else:
        imported.notes.append("no policy in the export: Charter's default erasure policy will apply")
    seen: set[str] = set()
    for connection in connections:
        system = system_of(connection, imported)
        if system is None:
            continue
        if system["id"] in seen:
            raise FidesImportInvalid(f"two connections have the key '{system['id']}'")
        seen.add(system["id"])
        imported.systems.append(system)
    return imported
