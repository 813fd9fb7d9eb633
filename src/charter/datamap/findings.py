"""What a check found: a positioned problem and how much it matters.

``error``: the files are invalid (exit 2, HTTP 422). ``drift``: the files are
valid but a live store disagrees with them (exit 1). ``warning``: worth a
look, changes no exit code unless ``--strict``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from charter.errors import Problem

Severity = Literal["error", "drift", "warning"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    problem: Problem

    def render(self) -> str:
        if self.severity == "warning":
            return Problem(
                self.problem.path,
                f"warning: {self.problem.message}",
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
