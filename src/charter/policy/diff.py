"""What changed between two statements, and which changes people must be told of.

Two steps, both pure. ``structural_changes`` walks the two documents:
mappings by key, lists of objects by their identity (``id``, ``key``,
``right``, ``signal``), lists of plain values as sets. Then ``classify``
decides, per change, whether it is *substantive* (P-STM-2: it must be
announced, and consent asked where the law requires it), with a reason a
visitor can read. The table below is the policy of what "substantive"
means; a change it does not name is treated as substantive, because telling
people too much is the safer mistake.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

from charter.policy.schema import Statement
from charter.policy.types import Duration

ChangeKind = Literal["added", "removed", "changed"]
_IDENTITY_FIELDS = ("id", "key", "right", "signal")


@dataclass(frozen=True)
class Change:
    path: str
    kind: ChangeKind
    old: Any
    new: Any
    substantive: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Raw:
    segments: tuple[str, ...]
    kind: ChangeKind
    old: Any
    new: Any

    @property
    def path(self) -> str:
        return "".join(s if s.startswith("[") else f".{s}" for s in self.segments).lstrip(".")

    @property
    def pattern(self) -> str:
        return re.sub(r"\[[^\]]*\]", "[]", self.path)


def _identity(a: list[Any], b: list[Any]) -> str | None:
    """The field that names each object uniquely within both lists, if any."""
    if not (a or b) or not all(isinstance(item, dict) for item in a + b):
        return None
    for name in _IDENTITY_FIELDS:
        if all(_unique_strings([item.get(name) for item in side]) for side in (a, b)):
            return name
    return None


def _unique_strings(values: list[Any]) -> bool:
    return all(isinstance(v, str) for v in values) and len(set(values)) == len(values)


def _is_plain(items: list[Any]) -> bool:
    return all(isinstance(item, str | int | float | bool) for item in items)


def _walk(a: Any, b: Any, segments: tuple[str, ...]) -> Iterator[_Raw]:
    if a == b:
        return
    if a is None:
        yield _Raw(segments, "added", None, b)
    elif b is None:
        yield _Raw(segments, "removed", a, None)
    elif isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(a.keys() | b.keys()):
            yield from _walk(a.get(key), b.get(key), (*segments, key))
    elif isinstance(a, list) and isinstance(b, list):
        yield from _walk_list(a, b, segments)
    else:
        yield _Raw(segments, "changed", a, b)


def _walk_list(a: list[Any], b: list[Any], segments: tuple[str, ...]) -> Iterator[_Raw]:
    identity = _identity(a, b)
    if identity is not None:
        old = {item[identity]: item for item in a}
        new = {item[identity]: item for item in b}
        for key in [*old, *(k for k in new if k not in old)]:
            yield from _walk(old.get(key), new.get(key), (*segments, f"[{key}]"))
    elif _is_plain(a) and _is_plain(b) and len(set(map(str, a))) == len(a) and len(set(map(str, b))) == len(b):
        for value in [v for v in a if v not in b]:
            yield _Raw((*segments, f"[{value}]"), "removed", value, None)
        for value in [v for v in b if v not in a]:
            yield _Raw((*segments, f"[{value}]"), "added", None, value)
    else:
        yield _Raw(segments, "changed", a, b)


# --- what is substantive --------------------------------------------------------------

Verdict = tuple[bool, str]
Rule = Callable[[_Raw], Verdict]

_WORDING = {
    "name",
    "description",
    "summary",
    "introduction",
    "title",
    "notes",
    "body",
    "measures",
    "personal_information",
    "display_name",
    "law",
}
_METADATA = {"promises", "cite", "assumed", "version", "effective", "charter"}
_STRICTNESS = {"allow": 0, "opt_out": 1, "consent": 2, "forbid": 3}
_VERIFICATION = {"none": 0, "email": 1, "email_and_facts": 2, "email_facts_and_document": 3}


def _duration(value: Any) -> float | None:
    return Duration.parse(value).approx_days if value is not None else None


def _when(yes: str, no: str, on: ChangeKind = "added") -> Rule:
    return lambda raw: (True, yes) if raw.kind == on else (False, no)


def _flag(turns_bad: bool, yes: str, no: str) -> Rule:
    """A boolean whose change to ``turns_bad`` takes something from people."""
    return lambda raw: (True, yes) if raw.new is turns_bad else (False, no)


def _longer(yes: str, no: str) -> Rule:
    def verdict(raw: _Raw) -> Verdict:
        old, new = _duration(raw.old), _duration(raw.new)
        if old is None or new is None:
            return True, f"a period was {raw.kind}"
        return (True, yes) if new > old else (False, no)

    return verdict


def _rule_item(raw: _Raw) -> Verdict:
    """A whole rule added or removed: new permissions and lost protections matter."""
    rule = raw.new if raw.kind == "added" else raw.old
    if raw.kind == "added":
        if rule.get("effect") == "forbid":
            return False, f"a new prohibition protects people: {rule.get('description', '')}"
        return True, f"a new permitted use of personal information: {rule.get('description', '')}"
    if rule.get("effect") == "forbid":
        return True, f"a protection was removed: {rule.get('description', '')}"
    return False, f"a permitted use was dropped: {rule.get('description', '')}"


def _regime_item(raw: _Raw) -> Verdict:
    regime = raw.new if raw.kind == "added" else raw.old
    verdicts = [
        _rule_item(
            _Raw(raw.segments, raw.kind, rule if raw.kind == "removed" else None, rule if raw.kind == "added" else None)
        )
        for rule in regime.get("rules", [])
    ]
    name = regime.get("name", "")
    if any(v[0] for v in verdicts):
        return True, f"special rules '{name}' were {raw.kind}, changing what may be done with data"
    return False, f"special rules '{name}' were {raw.kind} without widening any use"


def _effect(raw: _Raw) -> Verdict:
    old, new = _STRICTNESS.get(raw.old, 0), _STRICTNESS.get(raw.new, 0)
    if (raw.old == "consent") != (raw.new == "consent"):
        now = "now requires" if raw.new == "consent" else "no longer requires"
        return True, f"this use {now} consent ({raw.old} → {raw.new})"
    if new < old:
        return True, f"less protection: {raw.old} → {raw.new}"
    return False, f"more protection: {raw.old} → {raw.new}"


def _rule_scope(raw: _Raw) -> Verdict:
    if raw.kind == "removed":
        return False, "the rule now covers less"
    return True, "the rule now covers more data, purposes, people or recipients"


def _verification(raw: _Raw) -> Verdict:
    stricter = _VERIFICATION.get(raw.new, 0) > _VERIFICATION.get(raw.old, 0)
    return (
        (True, "exercising this right now needs more proof of identity")
        if stricter
        else (False, "exercising this right now needs less proof")
    )


def _age(raw: _Raw) -> Verdict:
    return True, f"the minimum age changed ({raw.old} → {raw.new})"


_TABLE: list[tuple[str, Rule]] = [
    (r"organization\.(name|short_name)", lambda r: (True, "the organization responsible changed")),
    (r"organization\.affiliates\[\]", _when("a new affiliate may receive data", "an affiliate was removed")),
    (
        r"organization\.services\[\]",
        _when("a new service processes personal information", "a service no longer processes personal information"),
    ),
    (
        r"organization\.services\[\]\.(collects|subjects)\[\]",
        _when("a service collects new kinds of data or people", "a service collects less"),
    ),
    (r"organization\.services\[\]\.(role|controller)", lambda r: (True, "who controls the data changed")),
    (r"vocabulary\..*", lambda r: (False, "vocabulary only; uses are judged by the rules")),
    (
        r"definitions\.sensitive_categories\[\]",
        _when("data is no longer treated as sensitive", "more data is treated as sensitive", on="removed"),
    ),
    (
        r"definitions\.linked_data_is_personal",
        _flag(False, "linked data is no longer personal", "linked data is personal"),
    ),
    (r"definitions\.anonymous_information.*", lambda r: (False, "what anonymous information is used for")),
    (
        r"collection\.categories\[\]",
        _when("a new category of personal information is collected", "a category is no longer collected"),
    ),
    (r"collection\.sources\[\].*", _when("personal information comes from a new source", "a source is no longer used")),
    (r"collection\.minimum_age\.age", _age),
    (r"collection\.minimum_age", lambda r: (True, "the minimum age rule was " + r.kind)),
    (
        r"collection\.minimum_age\.exceptions\[\].*",
        _when(
            "data may now be collected below the minimum age in a new case",
            "an exception to the minimum age was removed",
        ),
    ),
    (
        r"collection\.minimum_age\.parent_can_request_removal",
        _flag(False, "parents can no longer ask for a child's data to be removed", "parents can ask for removal"),
    ),
    (r"collection\.consent_by_providing", lambda r: (True, "consent by providing information changed")),
    (r"purposes\[\]", _when("a new purpose for using personal information", "a purpose was dropped")),
    (
        r"purposes\[\]\.(consent|explicit|withdrawable|condition_of_service|withdrawal)",
        lambda r: (True, f"consent for this purpose changed ({r.old} → {r.new})"),
    ),
    (
        r"purposes\[\]\.(legal_basis|data_use)",
        lambda r: (True, f"the basis or kind of use changed ({r.old} → {r.new})"),
    ),
    (r"(rules|regimes\[\]\.rules)\[\]", _rule_item),
    (r"regimes\[\]", _regime_item),
    (r"(rules|regimes\[\]\.rules)\[\]\.effect", _effect),
    (r"(rules|regimes\[\]\.rules)\[\]\.(categories|purposes|subjects|recipients)\[\]", _rule_scope),
    (r"(rules|regimes\[\]\.rules)\[\]\.when\.min_age", _age),
    (
        r"(rules|regimes\[\]\.rules)\[\]\.obligations.*",
        _when("a safeguard attached to a use was removed", "a safeguard was added", on="removed"),
    ),
    (r"retention\.rules\[\]\.period", _longer("data is kept longer", "data is kept for less time")),
    (r"retention\.rules\[\]\.(action|trigger)", lambda r: (True, "what happens at the end of retention changed")),
    (r"retention\.rules\[\]", _when("a new retention rule", "a retention rule was removed")),
    (
        r"retention\.deletion_may_be_refused_for_legal_obligation",
        _flag(True, "deletion may now be refused where the law requires keeping data", "deletion refusals narrowed"),
    ),
    (r"recipients\[\]", _when("a new recipient of personal information", "a recipient no longer receives data")),
    (r"recipients\[\]\.(kind|form|basis)", lambda r: (True, f"how data is shared changed ({r.old} → {r.new})")),
    (
        r"recipients\[\]\.subject_can_refuse",
        _flag(False, "people can no longer refuse this disclosure", "people can now refuse this disclosure"),
    ),
    (
        r"recipients\[\]\.obligations.*",
        _when("a safeguard on this disclosure was removed", "a safeguard was added", on="removed"),
    ),
    (r"transfers\.countries\[\]", _when("data may be processed in a new country", "a country is no longer used")),
    (r"transfers\.mechanisms\[\].*", lambda r: (True, f"how data crosses borders changed ({r.kind})")),
    (
        r"rights\.jurisdictions\[\]",
        _when("rights in a jurisdiction were withdrawn", "rights were extended to a new jurisdiction", on="removed"),
    ),
    (
        r"rights\.jurisdictions\[\]\.regions\[\]",
        _when("fewer places are covered", "more places are covered", on="removed"),
    ),
    (
        r"rights\.jurisdictions\[\]\.rights\[\]",
        _when("a right is no longer offered", "a new right is offered", on="removed"),
    ),
    (
        r"rights\.jurisdictions\[\](\.rights\[\])?\.(deadline|extension|acknowledge_within)",
        _longer("answers to requests may take longer", "answers to requests come sooner"),
    ),
    (r"rights\.jurisdictions\[\]\.rights\[\]\.verification", _verification),
    (
        r"rights\.(authorized_agents|non_discrimination|verify_with_data_held)",
        _flag(False, "a protection for people exercising rights was removed", "a protection for rights was added"),
    ),
    (r"rights\.agent_proof_required", _flag(True, "agents must now prove their authority", "agents need less proof")),
    (r"rights\.refusal_reasons\[\]", _when("a new ground for refusing a request", "a refusal ground was dropped")),
    (r"rights\.jurisdictions\[\]\.dispute_body", lambda r: (True, "the independent dispute body changed")),
    (r"tracking\.cookies\[\]", _when("a new class of cookies", "a class of cookies is no longer used")),
    (
        r"tracking\.cookies\[\]\.(required|purposes\[\]|lifetimes\[\])",
        lambda r: (True, "what a class of cookies does changed"),
    ),
    (
        r"tracking\.signals\[\]",
        _when("a browser privacy signal is no longer honored", "a browser privacy signal is now honored", on="removed"),
    ),
    (
        r"tracking\.signals\[\]\.(denies|treated_as)\[\]",
        _when("a browser signal now protects less", "a browser signal now protects more", on="removed"),
    ),
    (
        r"tracking\.email\.open_pixels",
        _flag(True, "e-mail opens are now tracked", "e-mail opens are no longer tracked"),
    ),
    (
        r"tracking\.email\.stops_on_unsubscribe",
        _flag(False, "tracking continues after unsubscribing", "unsubscribing stops tracking"),
    ),
    (r"tracking\.login_services_need_essential_cookies", lambda r: (False, "how logins use cookies")),
    (
        r"security\.encryption_at_rest",
        _flag(False, "data is no longer encrypted at rest", "data is now encrypted at rest"),
    ),
    (
        r"security\.breach_notify\[\]",
        _when("fewer people are told of a breach", "more people are told of a breach", on="removed"),
    ),
    (r"security\.breach_deadline", _longer("breach notices may come later", "breach notices come sooner")),
    (
        r"changes\.(announce_substantive|consent_when_law_requires)",
        _flag(False, "people will be told or asked less about changes", "people will be told more about changes"),
    ),
    (
        r"changes\.continued_use_is_acceptance",
        _flag(True, "continued use now counts as accepting changes", "continued use no longer counts as acceptance"),
    ),
    (r"changes\..*", lambda r: (False, "how changes are announced")),
    (r"contacts.*", lambda r: (False, "contact details only")),
    (r"agreements.*", lambda r: (False, "agreements offered to clients")),
    (r"notices.*", lambda r: (False, "wording only")),
]
_COMPILED = [(re.compile(pattern + r"$"), rule) for pattern, rule in _TABLE]


def _only_forbidden(purpose_id: str, document: dict[str, Any]) -> bool:
    """True when every rule naming this purpose forbids it (e.g. "we never sell")."""
    rules = [*document.get("rules", []), *(r for g in document.get("regimes", []) for r in g.get("rules", []))]
    effects = {rule["effect"] for rule in rules if purpose_id in rule.get("purposes", [])}
    return effects == {"forbid"}


def classify(raw: _Raw, old: dict[str, Any], new: dict[str, Any]) -> Verdict:
    """Substantive or not, and why, for one change between documents ``old`` and ``new``."""
    names = [s for s in raw.segments if not s.startswith("[")]
    if any(name in _METADATA for name in names):
        return False, "version details and citations"
    if raw.pattern == "purposes[]" and raw.kind == "added" and _only_forbidden(raw.new["id"], new):
        return False, f"a purpose named only to forbid it: {raw.new.get('name', '')}"
    for pattern, rule in _COMPILED:
        if pattern.match(raw.pattern):
            return rule(raw)
    if names and names[-1] in _WORDING:
        return False, "wording only"
    return True, "a change to what the statement promises"


def diff(old: Statement, new: Statement) -> list[Change]:
    """Every change from ``old`` to ``new``, classified; empty when they are equal."""
    a, b = old.model_dump(mode="json"), new.model_dump(mode="json")
    changes = []
    for raw in _walk(a, b, ()):
        substantive, reason = classify(raw, a, b)
        changes.append(Change(raw.path, raw.kind, raw.old, raw.new, substantive, reason))
    return changes
