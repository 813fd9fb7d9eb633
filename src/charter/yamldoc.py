"""YAML documents read safely, with the position of every value.

PyYAML's own constructor would expand aliases without limit (a "billion
laughs" file of a few hundred bytes becomes gigabytes) and drops line
numbers. So we compose the node graph, which shares aliased nodes and stays
small, then build plain Python values ourselves with a budget on nodes
visited, remembering where each value came from so every problem can be
reported as ``FILE:LINE:COL: path: message``.

Shared by every file format Charter reads (statements, data maps); each
passes the error class its callers expect and the setting that bounds size.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from charter.errors import InputTooLarge, InvalidInput, Problem

Path = tuple[str | int, ...]
#: libyaml's parser when PyYAML was built with it (2x faster), else the pure-Python one; both keep marks.
_NODE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def format_path(path: Path) -> str:
    """``rules[3].categories[0]``: how people read a path into a document."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True)
class Positions:
    """Where each path of the document starts (1-based line and column)."""

    marks: dict[Path, tuple[int, int]]

    def of(self, path: Path) -> tuple[int, int] | None:
        """The position of ``path`` or of its nearest ancestor that exists."""
        for end in range(len(path), -1, -1):
            mark = self.marks.get(path[:end])
            if mark is not None:
                return mark
        return None


def make_problem(source: str, positions: Positions, path: Path, message: str) -> Problem:
    line_col = positions.of(path)
    return Problem(
        path=format_path(path),
        message=message,
        source=source,
        line=line_col[0] if line_col else None,
        column=line_col[1] if line_col else None,
    )


MAX_DEPTH = 64


def _check_depth(text: str, source: str) -> None:
    """Refuse deep nesting before composing nodes.

    libyaml's composer recurses once per level and overflows the C stack
    (killing the process) on a few tens of thousands of ``[``; its event
    parser does not recurse, so depth is counted on events first.
    """
    too_deep = InputTooLarge(f"{source}: the document nests more than {MAX_DEPTH} levels deep")
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_NODE_LOADER):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise too_deep
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        # libyaml >= 0.2.6 refuses deep flow nesting itself, while scanning ahead.
        if "nesting depth" in str(exc):
            raise too_deep from None
        raise


class _Builder:
    def __init__(self, source: str, max_nodes: int) -> None:
        self.source = source
        self.max_nodes = max_nodes
        self.visited = 0
        self.marks: dict[Path, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self.scalars = SafeConstructor()

    def _fail(self, node: Node, path: Path, message: str) -> None:
        mark = node.start_mark
        self.problems.append(Problem(format_path(path), message, self.source, mark.line + 1, mark.column + 1))

    def build(self, node: Node, path: Path = (), depth: int = 0) -> Any:
        self.visited += 1
        if self.visited > self.max_nodes:
            raise InputTooLarge(
                f"{self.source}: the document expands to more than {self.max_nodes} YAML nodes "
                "(are anchors/aliases repeating large blocks?); write it out plainly"
            )
        if depth > MAX_DEPTH:
            raise InputTooLarge(f"{self.source}: the document nests more than {MAX_DEPTH} levels deep")
        self.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, ScalarNode):
            try:
                return self.scalars.construct_object(node, deep=True)
            except ValueError as exc:  # e.g. 2019-02-30: YAML reads it as a date that cannot exist
                self._fail(node, path, f"bad value {node.value!r}: {exc}")
                return None
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, index), depth + 1) for index, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth)
        self._fail(node, path, "unsupported YAML node")
        return None

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._fail(key_node, path, "merge keys ('<<') are not supported; write the fields out")
                continue
            if not isinstance(key_node, ScalarNode) or not isinstance(key_node.value, str):
                self._fail(key_node, path, "mapping keys must be plain strings")
                continue
            key = key_node.value
            if key in result:
                self._fail(key_node, (*path, key), f"duplicate key '{key}'; each field may appear once")
                continue
            self.marks[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result


def parse_yaml(
    data: bytes | str,
    *,
    source: str,
    max_bytes: int,
    max_nodes: int,
    invalid: type[InvalidInput] = InvalidInput,
    size_setting: str = "",
    what: str = "files",
) -> tuple[Any, Positions]:
    """Plain data and positions from YAML text, within the size and node limits.

    ``invalid`` is the error raised for malformed YAML (it carries the
    problems); ``size_setting`` names the setting that raises the limit.
    """
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > max_bytes:
        hint = f" ({size_setting})" if size_setting else ""
        raise InputTooLarge(
            f"{source}: the file is {len(raw):,} bytes; {what} may be at most {max_bytes:,} bytes{hint}"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid(
            f"{source} is not UTF-8 text",
            problems=[Problem("", f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", source)],
        ) from None
    try:
        _check_depth(text, source)
        node = yaml.compose(text, Loader=_NODE_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"malformed YAML: {exc.problem or exc.context}"
        problem = Problem("", message, source, mark.line + 1 if mark else None, mark.column + 1 if mark else None)
        raise invalid(f"{source} is not valid YAML", problems=[problem]) from None
    except yaml.YAMLError as exc:
        raise invalid(f"{source} is not valid YAML", problems=[Problem("", f"malformed YAML: {exc}", source)]) from None
    except RecursionError:
        raise InputTooLarge(f"{source}: the document nests too deeply to read") from None
    if node is None:
        raise invalid(f"{source} is empty", problems=[Problem("", "the file is empty", source, 1, 1)])
    builder = _Builder(source, max_nodes)
    try:
        value = builder.build(node)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        problem = Problem(
            "", f"bad value: {exc.problem}", source, mark.line + 1 if mark else None, mark.column + 1 if mark else None
        )
        raise invalid(f"{source} has a value YAML cannot read", problems=[problem]) from None
    if builder.problems:
        raise invalid(f"{source} has {len(builder.problems)} problem(s)", problems=builder.problems)
    return value, Positions(builder.marks)


def _model_at(root: type[BaseModel], path: Path) -> type[BaseModel] | None:
    """The schema model that owns the last segment of ``path`` (for "did you mean")."""
    model: Any = root
    for part in path[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        model = _inner_model(field.annotation)
        if model is None:
            return None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def error_message(root: type[BaseModel], error: Any, path: Path) -> str:
    """A pydantic error in words, with "did you mean" for a misspelt field."""
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_at(root, path)
        name = str(path[-1]) if path else ""
        hint = ""
        if model is not None:
            known = [f.alias or n for n, f in model.model_fields.items()]
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known fields: {', '.join(known)}"
        return f"unknown field '{name}'{hint}"
    if kind == "missing":
        return "required field is missing"
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return message[0].lower() + message[1:] if message else message


def problems_of(root: type[BaseModel], exc: ValidationError, positions: Positions, *, source: str) -> list[Problem]:
    """One positioned problem per pydantic error."""
    problems = []
    for error in exc.errors():
        path = tuple(part for part in error["loc"] if isinstance(part, str | int))
        problems.append(make_problem(source, positions, path, error_message(root, error, path)))
    return problems
