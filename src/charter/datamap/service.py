"""Checking a data map, for the CLI and the API alike.

``check_path`` reads a folder or file; ``check_sources`` takes texts already
in memory (an API body). Both give a :class:`Report`: the static findings
always, and with ``live`` the findings of connecting to each system (only
when the files themselves are valid: a broken map says nothing reliable
about a database).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charter.datamap import scope
from charter.datamap.check import check
from charter.datamap.errors import DatamapInvalid
from charter.datamap.findings import Finding, error, note
from charter.datamap.live import check_live
from charter.datamap.loader import Doc, Limits, read_all, read_path
from charter.datamap.model import DataMap, build
from charter.settings import Settings
from charter.taxonomy import Taxonomy, default_taxonomy


@dataclass
class Report:
    files: list[str]
    datamap: DataMap
    findings: list[Finding] = field(default_factory=list)
    live: bool = False
    checked_systems: list[str] = field(default_factory=list)

    def of(self, severity: str) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity]

    @property
    def valid(self) -> bool:
        return not self.of("error")

    def exit_code(self, *, strict: bool = False) -> int:
        """0 clean, 1 drift (or warnings under ``strict``), 2 invalid files."""
        if self.of("error"):
            return 2
        if self.of("drift") or (strict and self.of("warning")):
            return 1
        return 0

    def raise_if_invalid(self) -> None:
        errors = self.of("error")
        if errors:
            raise DatamapInvalid(
                f"the data map has {len(errors)} problem(s)", problems=[finding.problem for finding in errors]
            )

    def summary(self) -> dict[str, object]:
        return {
            "files": self.files,
            "systems": sorted(self.datamap.systems),
            "datasets": sorted(self.datamap.datasets),
            "collections": sum(1 for _ in self.datamap.collections()),
            "live": self.live,
            "checked_systems": self.checked_systems,
            "errors": len(self.of("error")),
            "drift": len(self.of("drift")),
            "warnings": len(self.of("warning")),
            "notes": len(self.of("note")),
        }

    def as_dict(self, *, strict: bool = False) -> dict[str, object]:
        return {
            "ok": self.exit_code(strict=strict) == 0,
            **self.summary(),
            "findings": [finding.as_dict() for finding in self.findings],
        }


def _limits(settings: Settings) -> Limits:
    return Limits(max_bytes=settings.datamap.max_bytes, max_nodes=settings.datamap.max_nodes)


def _report(
    docs: list[Doc],
    settings: Settings,
    *,
    live: bool,
    env: Mapping[str, str],
    taxonomy: Taxonomy | None,
) -> Report:
    datamap, problems = build(docs)
    findings = [note(p) for doc in docs for p in doc.notes]
    findings += [error(p) for p in problems]
    findings += [note(p) for p in scope.leave_out(datamap)]
    findings += check(datamap, taxonomy or default_taxonomy())
    report = Report(files=[d.where.source for d in docs], datamap=datamap, findings=findings, live=live)
    if live and report.valid:
        found, checked = check_live(datamap, settings.connectors, env, settings.home)
        report.findings += found
        report.checked_systems = checked
    return report


def check_path(
    path: Path,
    settings: Settings,
    *,
    live: bool = False,
    env: Mapping[str, str] | None = None,
    taxonomy: Taxonomy | None = None,
) -> Report:
    """Check the data map in a folder or file. Malformed files raise DatamapInvalid."""
    docs = read_path(path, limits=_limits(settings))
    return _report(docs, settings, live=live, env=os.environ if env is None else env, taxonomy=taxonomy)


def check_sources(
    sources: Iterable[tuple[str, bytes | str]],
    settings: Settings,
    *,
    live: bool = False,
    env: Mapping[str, str] | None = None,
    taxonomy: Taxonomy | None = None,
) -> Report:
    docs = read_all(sources, limits=_limits(settings))
    return _report(docs, settings, live=live, env=os.environ if env is None else env, taxonomy=taxonomy)


def load(path: Path, settings: Settings) -> DataMap:
    """A valid data map, or DatamapInvalid with every problem."""
    report = check_path(path, settings)
    report.raise_if_invalid()
    return report.datamap


@dataclass(frozen=True)
class FieldFate:
    """One field's fate in a deletion, for people: where, what (strategy, or None: left as it is) and why."""

    collection: str
    field: str
    strategy: str | None
    why: str
    personal: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "collection": self.collection,
            "field": self.field,
            "strategy": self.strategy,
            "why": self.why,
            "personal": self.personal,
        }


def erasure_table(datamap: DataMap) -> list[FieldFate]:
    """What a deletion does to every field of the map, and why (the same resolver the planner uses).

    An ambiguous field (two rules disagree) shows its error as the reason and no strategy: ``check``
    reports it as an error, so no deletion runs under that map."""
    from charter.datamap.erasure_policy import Ambiguous, Resolver, personal
    from charter.datamap.references import references, through

    resolver = Resolver(datamap)
    linking = through(references(datamap))
    fates = []
    for collection in datamap.collections():
        for entry in collection.fields.values():
            try:
                decided = resolver.field(collection, entry, linking)
                strategy = decided.erasure.strategy if decided.erasure else None
                why = decided.why
            except Ambiguous as exc:
                strategy, why = None, str(exc)
            fates.append(FieldFate(collection.key, entry.name, strategy, why, personal(entry)))
    return fates


@dataclass
class FidesMove:
    """What ``import-fides`` produced: Charter's files by name (text), the check of them, and what to do next."""

    files: dict[str, str]
    environment: dict[str, str]
    notes: list[str]
    report: Report

    def as_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "environment": self.environment,
            "notes": self.notes,
            "check": self.report.as_dict(),
        }


def import_fides(
    sources: Iterable[tuple[str, bytes | str]], settings: Settings, *, policy: str | None = None
) -> FidesMove:
    """Fides' exported DSR policy and connection configs (JSON or YAML) as ``erasure_policy.yaml`` and
    ``systems.yaml``; Fides dataset files among the sources are carried over as they are, under ``datasets/``.
    The result is checked like any data map (statically: the stores' URLs are not set yet)."""
    import yaml

    from charter.datamap import fides_import
    from charter.datamap.loader import parse

    limits = _limits(settings)
    exported: list[Any] = []
    files: dict[str, str] = {}
    for name, data in sources:
        value, _ = parse(data, source=name, limits=limits)
        if "dataset" in value:
            text = data.decode() if isinstance(data, bytes) else data
            files[f"datasets/{Path(name).name}"] = text
        else:
            exported.append(value)
    moved = fides_import.convert(exported, policy=policy)
    if moved.erasure_policy is not None:
        files["erasure_policy.yaml"] = "# Imported from Fides by charter datamap import-fides.\n" + yaml.safe_dump(
            {"erasure_policy": moved.erasure_policy}, sort_keys=False, allow_unicode=True
        )
    if moved.systems:
        header = "# Imported from Fides. Each URL comes from the environment variable named here (never a password).\n"
        files["systems.yaml"] = header + yaml.safe_dump({"systems": moved.systems}, sort_keys=False, allow_unicode=True)
    report = check_sources(sorted(files.items()), settings, env={})
    return FidesMove(files, moved.environment, moved.notes, report)
