"""Reading data-map files: YAML text → positioned, shape-checked documents.

A data map is a folder (every ``*.yaml``/``*.yml`` below it, in name order)
or a single file. Each file may hold Fides datasets (``dataset:``), Charter
systems (``systems:``) or both. Shape problems from every file are gathered
and raised together, each as ``FILE:LINE:COL: path: message``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path as FsPath

from pydantic import ValidationError

from charter.datamap.errors import DatamapInvalid
from charter.datamap.schema import DatamapFile
from charter.errors import CharterError, InputTooLarge, Problem
from charter.yamldoc import Path, Positions, make_problem, parse_yaml, problems_of

MAX_FILES = 1_000


@dataclass(frozen=True)
class Where:
    """A place in a file: a problem found about a value there points at its line and column."""

    source: str
    positions: Positions
    path: Path = ()

    def at(self, *parts: str | int) -> Where:
        return Where(self.source, self.positions, (*self.path, *parts))

    def problem(self, message: str, *parts: str | int) -> Problem:
        return make_problem(self.source, self.positions, (*self.path, *parts), message)


@dataclass(frozen=True)
class Doc:
    """One file, validated for shape."""

    content: DatamapFile
    where: Where


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 1_000_000
    max_nodes: int = 200_000


def read_text(data: bytes | str, *, source: str, limits: Limits) -> Doc:
    value, positions = parse_yaml(
        data,
        source=source,
        max_bytes=limits.max_bytes,
        max_nodes=limits.max_nodes,
        invalid=DatamapInvalid,
        size_setting="CHARTER_DATAMAP_MAX_BYTES",
        what="data-map files",
    )
    where = Where(source, positions)
    if not isinstance(value, dict):
        raise DatamapInvalid(
            f"{source} is not a data-map file",
            problems=[where.problem("the document must be a mapping with 'dataset' and/or 'systems'")],
        )
    try:
        content = DatamapFile.model_validate(value)
    except ValidationError as exc:
        problems = problems_of(DatamapFile, exc, positions, source=source)
        raise DatamapInvalid(f"{source} has {len(problems)} problem(s)", problems=problems) from None
    if content.dataset is None and content.systems is None and content.erasure_policy is None:
        raise DatamapInvalid(
            f"{source} holds no datasets or systems",
            problems=[
                where.problem("expected a 'dataset' list (Fides datasets), a 'systems' list and/or an 'erasure_policy'")
            ],
        )
    return Doc(content, where)


def files_of(path: FsPath) -> list[FsPath]:
    """The YAML files a path names: itself, or every one below a folder."""
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        if len(found) > MAX_FILES:
            raise DatamapInvalid(f"{path} holds {len(found)} YAML files; at most {MAX_FILES} are read")
        if not found:
            raise DatamapInvalid(f"{path} holds no .yaml or .yml files")
        return found
    if not path.exists():
        raise DatamapInvalid(f"{path} does not exist")
    return [path]


def read_all(sources: Iterable[tuple[str, bytes | str]], *, limits: Limits) -> list[Doc]:
    """Every file read; all their problems raised together."""
    docs: list[Doc] = []
    problems: list[Problem] = []
    for source, data in sources:
        try:
            docs.append(read_text(data, source=source, limits=limits))
        except CharterError as exc:
            if not exc.problems and not isinstance(exc, DatamapInvalid):
                raise  # too large: stop at once
            problems.extend(exc.problems or [Problem("", exc.detail, source)])
    if problems:
        raise DatamapInvalid(f"the data map has {len(problems)} problem(s)", problems=problems)
    return docs


def read_path(path: FsPath, *, limits: Limits) -> list[Doc]:
    files = files_of(path)
    for file in files:  # refuse an oversized file before reading it into memory
        size = file.stat().st_size
        if size > limits.max_bytes:
            raise InputTooLarge(
                f"{file}: the file is {size:,} bytes; data-map files may be at most {limits.max_bytes:,} bytes "
                "(CHARTER_DATAMAP_MAX_BYTES)"
            )
    return read_all(((str(f), f.read_bytes()) for f in files), limits=limits)
