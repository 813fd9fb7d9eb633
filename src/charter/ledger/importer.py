"""Importing existing consents from CSV or JSON lines, with a reject report per row.

Each row names one identity and one event. Rows are checked one by one
(identity, event fields, purpose against the statement); the valid ones are
recorded together in one transaction, the others are reported with their
line and field — never with the identity value. ``dry_run`` checks only.

CSV columns (header required; unknown columns refused): ``identity_kind``,
``identity``, ``kind``, ``at``, ``source`` (default ``import``),
``statement_version``, ``jurisdiction``, and the event's data fields:
``purpose``, ``on``, ``written``, ``origin``, ``service``, ``key``, ``value``,
``age``, ``birth_date``, ``deadline``; optional ``evidence`` and ``data`` hold
JSON objects. A JSON-lines file has one object per line with the same names;
``data`` and ``evidence`` are objects there.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from charter.errors import InvalidInput, Problem
from charter.ledger import service as ledger
from charter.ledger.events import Event, EventKind, Source
from charter.subjects import service as subjects
from charter.subjects.normalize import IdentityKind

MAX_ROWS = 1_000_000
BASE_FIELDS = ("identity_kind", "identity", "kind", "at", "source", "statement_version", "jurisdiction")
DATA_FIELDS = ("purpose", "on", "written", "origin", "service", "key", "value", "age", "birth_date", "deadline")
JSON_FIELDS = ("evidence", "data")
KNOWN = frozenset(BASE_FIELDS + DATA_FIELDS + JSON_FIELDS)
_BOOLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_BOOL_FIELDS = frozenset({"on", "written", "value"})


class RowError(Exception):
    """One row's problem: the field and a message that never contains the identity."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Reject:
    line: int
    field: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "field": self.field, "reason": self.reason}


@dataclass
class ImportReport:
    source: str
    dry_run: bool
    rows: int = 0
    recorded: int = 0
    valid: int = 0
    rejects: list[Reject] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "valid": self.valid,
            "recorded": self.recorded,
            "rejected": len(self.rejects),
            "rejects": [r.as_dict() for r in self.rejects],
        }

    def problems(self) -> list[Problem]:
        return [Problem(path=r.field, message=r.reason, source=self.source, line=r.line) for r in self.rejects]


@dataclass(frozen=True)
class Row:
    line: int
    kind: IdentityKind
    identity: str
    event: Event


# --- reading ----------------------------------------------------------------------------------------


def read_rows(path: Path, handle: IO[str]) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """(line number, fields) per row; a row that cannot even be read yields its RowError."""
    if path.suffix.lower() == ".csv":
        yield from _csv_rows(handle)
    elif path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        yield from _json_rows(handle)
    else:
        raise InvalidInput(f"{path.name}: use a .csv or .jsonl file")


def _csv_rows(handle: IO[str]) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    reader = csv.DictReader(handle)
    header = reader.fieldnames or []
    unknown = sorted(set(header) - KNOWN)
    if unknown:
        raise InvalidInput(
            f"unknown CSV columns: {', '.join(unknown)}",
            problems=[Problem(path=name, message="unknown column", line=1) for name in unknown],
        )
    for missing in ("identity_kind", "identity", "kind", "at"):
        if missing not in header:
            raise InvalidInput(f"the CSV header needs a {missing} column")
    for row in reader:
        line = reader.line_num
        if None in row:
            yield line, RowError("row", "more values than header columns")
            continue
        yield line, {k: v for k, v in row.items() if v not in (None, "")}


def _json_rows(handle: IO[str]) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    for number, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield number, RowError("line", f"not JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(value, dict):
            yield number, RowError("line", "each line must be a JSON object")
            continue
        unknown = sorted(set(value) - KNOWN)
        if unknown:
            yield number, RowError(unknown[0], "unknown field")
            continue
        yield number, value


# --- checking ---------------------------------------------------------------------------------------


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value.strip():
        raise RowError(name, "is required (text)")
    return value


def _object(fields: dict[str, Any], name: str, from_csv: bool) -> dict[str, Any]:
    value = fields.get(name)
    if value is None:
        return {}
    if from_csv and isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise RowError(name, "must hold a JSON object") from None
    if not isinstance(value, dict):
        raise RowError(name, "must be an object")
    return value


def _data(fields: dict[str, Any], from_csv: bool) -> dict[str, Any]:
    data = _object(fields, "data", from_csv)
    for name in DATA_FIELDS:
        if name not in fields:
            continue
        value = fields[name]
        if from_csv and name in _BOOL_FIELDS:
            flag = _BOOLS.get(str(value).strip().lower())
            if flag is None:
                raise RowError(name, "must be true or false")
            value = flag
        elif from_csv and name == "age":
            try:
                value = int(value)
            except ValueError:
                raise RowError(name, "must be a whole number") from None
        data[name] = value
    return data


def check_row(fields: dict[str, Any], *, vault: subjects.Vault, from_csv: bool, line: int) -> Row:
    """The row as an identity and an event, or RowError naming the field at fault."""
    kind_text = _text(fields, "identity_kind")
    try:
        kind, normalized = vault.normalize(kind_text, _text(fields, "identity"))
    except InvalidInput as exc:
        raise RowError("identity", exc.detail) from None
    try:
        kind_value = EventKind(_text(fields, "kind"))
    except ValueError:
        raise RowError("kind", "is not an event kind (see `charter consent record --help`)") from None
    try:
        event = Event(
            kind=kind_value,
            at=_text(fields, "at"),
            source=fields.get("source") or Source.IMPORT,
            statement_version=fields.get("statement_version"),
            jurisdiction=fields.get("jurisdiction"),
            evidence=_object(fields, "evidence", from_csv),
            data=_data(fields, from_csv),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "data"
        raise RowError(where, str(first["msg"]).removeprefix("Value error, ")) from None
    return Row(line=line, kind=kind, identity=normalized, event=event)


def import_rows(
    session: Session,
    rows: Iterator[tuple[int, dict[str, Any] | RowError]],
    *,
    source: str,
    vault: subjects.Vault,
    actor: str,
    dry_run: bool,
    from_csv: bool,
) -> ImportReport:
    """Check every row, then (unless ``dry_run``) record the valid ones in the caller's transaction."""
    report = ImportReport(source=source, dry_run=dry_run)
    known = ledger.StatementPurposes(session)
    valid: list[Row] = []
    for line, fields in rows:
        report.rows += 1
        if report.rows > MAX_ROWS:
            raise InvalidInput(f"{source}: more than {MAX_ROWS:,} rows; split the file")
        try:
            if isinstance(fields, RowError):
                raise fields
            row = check_row(fields, vault=vault, from_csv=from_csv, line=line)
            try:
                row = Row(row.line, row.kind, row.identity, ledger.check_purposes(session, row.event, known=known))
            except InvalidInput as exc:
                raise RowError(
                    "purpose" if isinstance(exc, ledger.UnknownPurpose) else "statement_version", exc.detail
                ) from None
        except RowError as exc:
            report.rejects.append(Reject(line=line, field=exc.field, reason=exc.reason))
            continue
        valid.append(row)
    report.valid = len(valid)
    if dry_run:
        return report
    for row in valid:
        person = subjects.resolve(session, row.kind, row.identity, vault=vault, create=True)
        assert person is not None  # create=True always gives a person
        ledger.record(session, person, row.event, actor=actor)
        report.recorded += 1
    return report


def import_file(session: Session, path: Path, *, vault: subjects.Vault, actor: str, dry_run: bool) -> ImportReport:
    """Import ``path`` (``.csv`` or ``.jsonl``) in the caller's transaction."""
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be read ({exc.strerror})") from None
    with handle:
        try:
            return import_rows(
                session,
                read_rows(path, handle),
                source=str(path),
                vault=vault,
                actor=actor,
                dry_run=dry_run,
                from_csv=path.suffix.lower() == ".csv",
            )
        except UnicodeDecodeError:
            raise InvalidInput(f"{path}: is not UTF-8 text") from None
