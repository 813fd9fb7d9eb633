"""Reading a statement file: bytes → YAML nodes → plain data with positions → Statement.

The safe, positioned YAML reading is shared (:mod:`charter.yamldoc`); this
module adds the statement's schema and its error class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from charter.errors import PolicyInvalid, Problem
from charter.policy.schema import Statement
from charter.yamldoc import MAX_DEPTH, Path, Positions, format_path, make_problem, problems_of
from charter.yamldoc import parse_yaml as _parse_yaml

__all__ = ["MAX_DEPTH", "Loaded", "Path", "Positions", "format_path", "load", "make_problem", "parse_yaml", "validate"]


@dataclass(frozen=True)
class Loaded:
    statement: Statement
    positions: Positions
    source: str

    def problem(self, path: Path, message: str) -> Problem:
        return make_problem(self.source, self.positions, path, message)


def parse_yaml(data: bytes | str, *, source: str, max_bytes: int, max_nodes: int) -> tuple[Any, Positions]:
    """Plain data and positions from a statement's YAML text, within the size and node limits."""
    return _parse_yaml(
        data,
        source=source,
        max_bytes=max_bytes,
        max_nodes=max_nodes,
        invalid=PolicyInvalid,
        size_setting="CHARTER_POLICY_MAX_BYTES",
        what="statements",
    )


def validate(value: Any, positions: Positions, *, source: str) -> Statement:
    if not isinstance(value, dict):
        raise PolicyInvalid(
            f"{source} is not a statement",
            problems=[make_problem(source, positions, (), "the document must be a mapping of fields")],
        )
    try:
        return Statement.model_validate(value)
    except ValidationError as exc:
        problems = problems_of(Statement, exc, positions, source=source)
        raise PolicyInvalid(f"{source} has {len(problems)} problem(s)", problems=problems) from None


def load(data: bytes | str, *, source: str, max_bytes: int = 1_000_000, max_nodes: int = 200_000) -> Loaded:
    """Parse and validate the shape of a statement (meaning is checked by ``check``)."""
    value, positions = parse_yaml(data, source=source, max_bytes=max_bytes, max_nodes=max_nodes)
    return Loaded(validate(value, positions, source=source), positions, source)
