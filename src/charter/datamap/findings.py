"""What a check found: a positioned problem and how much it matters.

``error``: the files are invalid (exit 2, HTTP 422). ``drift``: the files are
valid but a live store disagrees with them (exit 1). ``warning``: worth a
look, changes no exit code unless ``--strict``. ``note``: something the check
deliberately left alone (a Fides file of another kind, a SaaS or catalogue
dataset, a table mapped as holding nothing personal): shown, never counted as
drift, not even under ``--strict``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from charter.errors import Problem

Severity = Literal["error", "drift", "warning", "note"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    problem: Problem

    def render(self) -> str:
        if self.severity in ("warning", "note"):
            return Problem(
                self.problem.path,
                f"{self.severity}: {self.problem.message}",
                self.problem.source,
                self.problem.line,
                self.problem.column,
            ).render()
        return self.problem.render()

    def as_dict(self) -> dict[str, object]:
        return {"severity": self.severity, **self.problem.as_dict()}


def error(problem: Problem) -> Finding:
    return Finding("error", problem)


def drift(problem: Problem) -> Finding:
    return Finding("drift", problem)


def warning(problem: Problem) -> Finding:
    return Finding("warning", problem)


def note(problem: Problem) -> Finding:
    return Finding("note", problem)


def suggest(name: str, known: list[str]) -> str:
    """``; did you mean 'x'?`` for the closest of ``known``, or nothing: the tail of a finding's message."""
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""
