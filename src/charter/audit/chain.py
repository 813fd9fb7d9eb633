"""The hash chain itself: canonical encoding and entry hashes, no database.

Kept apart from the storage code so that anyone holding an export can
re-check it with these few functions (or twenty lines of their own), and so
the rules that make a hash reproducible live in one place:

* the encoding is JSON with sorted keys, no whitespace and ``ensure_ascii``,
  so it is the same bytes on every machine and Python version;
* timestamps are UTC ISO 8601 with exactly six fractional digits, so a
  timestamp that happens to fall on a whole second encodes the same way
  after a round trip through any database;
* ``data`` holds only strings, integers, booleans, null, lists and objects:
  no floats, whose text form a database (PostgreSQL ``jsonb``) may rewrite.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from charter.errors import InvalidInput, Problem

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of entry 1: there is nothing before it."""


def canonical_json(value: object) -> str:
    """The one encoding that is hashed (and exported)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def timestamp(at: datetime) -> str:
    """``at`` as hashed: UTC, microseconds always written out."""
    if at.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    seq: int,
    at: str,
    actor: str,
    action: str,
    target: str,
    data: Mapping[str, object],
    prev_hash: str,
) -> str:
    """Hex SHA-256 of the canonical encoding of an entry's fields.

    ``at`` is the string from :func:`timestamp` (the form an export carries),
    so an export can be checked without parsing dates.
    """
    payload = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "target": target,
        "data": dict(data),
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainedEntry:
    """An entry as stored and exported: plain values, ``at`` already in hashed form.

    ``ChainedEntry(**json.loads(line))`` rebuilds one from an export line.
    """

    seq: int
    at: str
    actor: str
    action: str
    target: str
    data: dict[str, object]
    prev_hash: str
    hash: str

    def computed_hash(self) -> str:
        """What ``hash`` must be for these contents."""
        return entry_hash(
            seq=self.seq,
            at=self.at,
            actor=self.actor,
            action=self.action,
            target=self.target,
            data=self.data,
            prev_hash=self.prev_hash,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "data": self.data,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


_FIELD_TYPES: dict[str, type] = {
    "seq": int,
    "at": str,
    "actor": str,
    "action": str,
    "target": str,
    "data": dict,
    "prev_hash": str,
    "hash": str,
}


def read_export(lines: Iterable[str], *, source: str) -> Iterator[ChainedEntry]:
    """Entries from the JSON lines ``export`` wrote, checked for shape (not for the chain).

    A malformed line raises ``InvalidInput`` naming ``source`` and the line number.
    """
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
        except ValueError:
            fields = None
        if (
            not isinstance(fields, dict)
            or set(fields) != set(_FIELD_TYPES)
            or any(
                not isinstance(fields[name], kind) or isinstance(fields[name], bool)
                for name, kind in _FIELD_TYPES.items()
            )
        ):
            problem = Problem(
                path="",
                message="not an audit entry as `charter audit export` writes them",
                source=source,
                line=number,
            )
            raise InvalidInput(f"{source} is not an audit export", problems=[problem])
        yield ChainedEntry(**fields)
