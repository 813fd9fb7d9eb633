"""The access/portability package: JSON with a documented schema plus a CSV per collection, zipped, sealed at rest.

Layout of the zip (schema ``charter.package/1``):

* ``package.json``::

    {"schema": "charter.package/1", "request": ID, "type": "access"|"portability",
     "generated_at": ISO-8601, "identities": [{"kind", "masked"}],
     "collections": [{"collection": "dataset.collection", "system": ID, "rows": [{field: value}]}],
     "not_searched": [{"collection", "system", "reason"}]}

  Values are JSON: text, numbers, booleans, null; dates and times as ISO-8601 text.
* ``csv/<dataset.collection>.csv``: the same rows, a header of the fields; a cell
  that a spreadsheet would run as a formula (``= + - @``) is prefixed with ``'``.
* ``README.txt``: this description, for the person.

The zip is sealed (AES-256-GCM, context: the request id) and kept in Charter's
database (``execution_packages``), inserted in the transaction that completes the
run: "completed" and the package are one durable commit, so a crash can never
leave a request that says its copy is ready with no copy (a file beside the
database needed its own ``fsync``, and a worker on another machine wrote it where
the web server could not read it). The sealed bytes alone reveal nothing. Packages
written before migration 0013 were files, ``CHARTER_HOME/packages/<request>.zip.sealed``:
they are still read, and removed, there.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from charter.crypto import KeyRing, SealBroken
from charter.errors import Conflict, NotFound
from charter.execution.models import ExecutionPackage, ExecutionRun
from charter.execution.steps import Plan
from charter.requests.models import PrivacyRequest

SCHEMA = "charter.package/1"
FOLDER = "packages"
README = """This package holds the data {organization} found about you for request {request}.

package.json  every record, by collection (schema charter.package/1)
csv/          the same records, one CSV file per collection
"""


@dataclass(frozen=True)
class Built:
    """A package made and sealed, not stored yet (:func:`store` after the run is closed as ours)."""

    name: str
    sha256: str
    collections: int
    rows: int
    sealed: bytes = field(repr=False)


def _context(request: str) -> bytes:
    return b"charter.package\x00" + request.encode()


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """A header of every field any row has (in the order first seen), then a line per row; a field a row lacks
    is an empty cell. (``csv.DictWriter`` gives the same bytes, checking each row's keys on the way.)"""
    header = list(dict.fromkeys(k for row in rows for k in row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_cell(row.get(k, "")) for k in header] for row in rows)
    return out.getvalue()


#: one encoder for every value (``json.dumps`` with options builds one per call, once per row of a package)
_compact = json.JSONEncoder(sort_keys=True, default=str).encode


def _readable(document: Mapping[str, Any]) -> str:
    """``package.json`` as a person opens it in a text editor: the document indented, each row on a line of
    its own. (``json.dumps(indent=…)`` gives the same to a machine, but only through the standard library's
    pure-Python encoder: 2.5 times as long, 38 ms against 15 for a person with 4,000 rows.) Keys sorted, so the same
    inputs still give the same bytes."""
    parts = []
    for key in sorted(document):
        value = document[key]
        shown = _compact(value)
        if key == "collections" and value:
            shown = "[\n" + ",\n".join(_collection(found) for found in value) + "\n  ]"
        parts.append(f"  {_compact(key)}: {shown}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _collection(found: Mapping[str, Any]) -> str:
    fields = [f"{_compact(k)}: {_compact(found[k])}" for k in sorted(found) if k != "rows"]
    rows = ",\n".join(f"        {_compact(row)}" for row in found.get("rows", ()))
    fields.append(f'"rows": [\n{rows}\n    ]' if rows else '"rows": []')
    return "    {" + ", ".join(fields) + "}"


def build(plan: Plan, rows: Mapping[str, tuple[str, list[dict[str, Any]]]], *, now: datetime) -> bytes:
    """The zip's bytes; ``rows`` maps a collection to (system, rows). The same inputs give the same bytes."""
    document = {
        "schema": SCHEMA,
        "request": plan.request,
        "type": plan.kind,
        "generated_at": now.isoformat(),
        "identities": [i.as_dict() for i in plan.identities],
        "collections": [
            {"collection": key, "system": system, "rows": found} for key, (system, found) in sorted(rows.items())
        ],
        "not_searched": [n.as_dict() for n in plan.not_searched],
    }
    stamp = (max(now.year, 1980), now.month, now.day, now.hour, now.minute, now.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(name: str, text: str) -> None:
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), text, compress_type=zipfile.ZIP_DEFLATED)

        add("package.json", _readable(document))
        for key, (_system, found) in sorted(rows.items()):
            add(f"csv/{key}.csv", _csv(found))
        add("README.txt", README.format(organization="the organization", request=plan.request))
    return buffer.getvalue()


def seal(keys: KeyRing, plan: Plan, rows: Mapping[str, tuple[str, list[dict[str, Any]]]], *, now: datetime) -> Built:
    """The package built and sealed for its request, with its name and the SHA-256 of the zip."""
    data = build(plan, rows, now=now)
    total = sum(len(found) for _system, found in rows.values())
    sealed = keys.seal(data, context=_context(plan.request))
    return Built(f"{plan.request}.zip.sealed", hashlib.sha256(data).hexdigest(), len(rows), total, sealed)


def store(session: Session, run_id: int, built: Built, *, now: datetime) -> None:
    """Keep the sealed package with its run, in the caller's transaction: the transaction that completes the
    run (:func:`charter.execution.ending.complete_in`), so "completed" and the package are one commit."""
    session.connection().execute(STORE, store_values(run_id, built, now=now))


def store_values(run_id: int, built: Built, *, now: datetime) -> dict[str, Any]:
    """The parameters of :data:`STORE` (:func:`store`, and a run's pipelined end)."""
    return {"run": run_id, "sealed": built.sealed, "at": now}


STORE = insert(ExecutionPackage).values(run_id=bindparam("run"), sealed=bindparam("sealed"), created_at=bindparam("at"))
_SEALED = (
    select(ExecutionPackage.sealed)
    .join(ExecutionRun, ExecutionRun.id == ExecutionPackage.run_id)
    .join(PrivacyRequest, PrivacyRequest.id == ExecutionRun.request_id)
    .where(PrivacyRequest.public_id == bindparam("request"))
)


def _sealed(session: Session, home: Path, request: str) -> bytes | None:
    """The sealed package of ``request``: its row, else a file a Charter before migration 0013 wrote."""
    found = session.connection().execute(_SEALED, {"request": request}).scalar()
    if found is not None:
        return bytes(found)
    try:
        return (home / FOLDER / f"{request}.zip.sealed").read_bytes()
    except FileNotFoundError:
        return None


def remove(session: Session, home: Path, request: str) -> None:
    """Delete the request's package (none there is fine: retention runs again after a crash), in the caller's
    transaction; and the file of a package written before migration 0013, if there is one."""
    runs = select(ExecutionRun.id).join(PrivacyRequest, PrivacyRequest.id == ExecutionRun.request_id)
    session.connection().execute(
        delete(ExecutionPackage).where(ExecutionPackage.run_id.in_(runs.where(PrivacyRequest.public_id == request)))
    )
    (home / FOLDER / f"{request}.zip.sealed").unlink(missing_ok=True)


def read(session: Session, home: Path, keys: KeyRing, request: str) -> bytes:
    """The package's zip bytes (opened), or NotFound."""
    sealed = _sealed(session, home, request)
    if sealed is None:
        raise NotFound("this request has no package")
    return keys.open(sealed, context=_context(request))


# -- delivery: opening the package for the person or the staff (charter.delivery) --


class PackageDamaged(Conflict):
    """The stored package is not the one the run wrote: never hand out part of it or another one."""

    code = "package_damaged"
    title = "The stored package is damaged"


@dataclass(frozen=True)
class Opened:
    """A package checked against its run's SHA-256, with its contents counted (for summaries)."""

    data: bytes = field(repr=False)
    sha256: str
    collections: int
    rows: int


def open_checked(session: Session, home: Path, keys: KeyRing, request: str, sha256: str | None) -> Opened:
    """The package of ``request``, only if it opens and its SHA-256 is ``sha256`` (the run's).

    Missing: :class:`NotFound`; altered, truncated, sealed for another request or not
    the zip the run recorded: :class:`PackageDamaged`. Nothing is returned in part.
    """
    if not sha256:
        raise NotFound(f"request {request} has no package (only a completed access or portability request has one)")
    sealed = _sealed(session, home, request)
    if sealed is None:
        raise NotFound(f"the package of request {request} is missing from Charter's database")
    try:
        data = keys.open(sealed, context=_context(request))
    except SealBroken:
        raise PackageDamaged(f"the package file of request {request} was altered or is not this request's") from None
    found = hashlib.sha256(data).hexdigest()
    if not hmac.compare_digest(found, sha256):
        raise PackageDamaged(f"the package of request {request} does not match the SHA-256 recorded by its run")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            document = json.loads(archive.read("package.json"))
    except (zipfile.BadZipFile, KeyError, ValueError):
        raise PackageDamaged(f"the package of request {request} is not a readable zip") from None
    collections = document.get("collections", []) if isinstance(document, dict) else []
    rows = sum(len(c.get("rows", [])) for c in collections if isinstance(c, dict))
    return Opened(data, found, len(collections), rows)
