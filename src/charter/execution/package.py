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

The zip is sealed (AES-256-GCM, context: the request id) and written to
``CHARTER_HOME/packages/<request>.zip.sealed`` (mode 0600, written whole,
``fsync``-ed, then renamed, the folder ``fsync``-ed too, before the run's end is
committed): the file alone reveals nothing.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import threading
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from charter.crypto import KeyRing, SealBroken
from charter.errors import Conflict, NotFound, Unavailable
from charter.execution.steps import Plan

SCHEMA = "charter.package/1"
FOLDER = "packages"
README = """This package holds the data {organization} found about you for request {request}.

package.json  every record, by collection (schema charter.package/1)
csv/          the same records, one CSV file per collection
"""


class Landing:
    """The package file made durable (``fsync`` of the file, the rename, ``fsync`` of the folder) in a thread,
    while the run's end is written to Charter's database; :meth:`wait` before that commit.

    The request must never say "completed" with a package a crash of the machine could take back: without
    the two ``fsync`` the database's durable commit can outlive a file still in the page cache. On the
    bench's disk the two cost about 3.5 ms, most of an access run's end; overlapped with the end's
    statements they cost little (docs/bench.md)."""

    def __init__(self, fd: int, partial: Path, final: Path) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._land, args=(fd, partial, final), name="charter-package")
        self._thread.start()

    def _land(self, fd: int, partial: Path, final: Path) -> None:
        try:
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(partial, final)
            folder = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by wait()
            self._error = exc
            partial.unlink(missing_ok=True)

    def wait(self) -> None:
        """Return once the file is on disk under its name; raise what went wrong (the caller rolls back)."""
        self._thread.join()
        if self._error is not None:
            raise Unavailable(
                f"the package file could not be written to disk ({type(self._error).__name__}: {self._error}); "
                "nothing was completed: run the request again once the disk under CHARTER_HOME takes writes"
            ) from self._error


@dataclass(frozen=True)
class Written:
    name: str
    sha256: str
    collections: int
    rows: int
    #: wait on it before committing the run's end (:class:`Landing`)
    landing: Landing = field(repr=False, compare=False)


def _context(request: str) -> bytes:
    return b"charter.package\x00" + request.encode()


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _csv(rows: Sequence[Mapping[str, Any]]) -> str:
    header: list[str] = []
    for row in rows:
        header.extend(k for k in row if k not in header)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


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

        add("package.json", json.dumps(document, indent=2, sort_keys=True, default=str))
        for key, (_system, found) in sorted(rows.items()):
            add(f"csv/{key}.csv", _csv(found))
        add("README.txt", README.format(organization="the organization", request=plan.request))
    return buffer.getvalue()


def write(
    home: Path, keys: KeyRing, plan: Plan, rows: Mapping[str, tuple[str, list[dict[str, Any]]]], *, now: datetime
) -> Written:
    """Seal and store the package; writing it again for the same request replaces it whole. The file is on
    disk under its name only once ``landing.wait()`` returned (:class:`Landing`)."""
    data = build(plan, rows, now=now)
    sealed = keys.seal(data, context=_context(plan.request))
    folder = home / FOLDER
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{plan.request}.zip.sealed"
    partial = folder / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(sealed)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        partial.unlink(missing_ok=True)
        raise
    total = sum(len(found) for _system, found in rows.values())
    return Written(name, hashlib.sha256(data).hexdigest(), len(rows), total, Landing(fd, partial, folder / name))


def remove(home: Path, request: str) -> None:
    """Delete the request's package file (none there is fine: retention runs again after a crash)."""
    (home / FOLDER / f"{request}.zip.sealed").unlink(missing_ok=True)


def read(home: Path, keys: KeyRing, request: str) -> bytes:
    """The package's zip bytes (opened), or NotFound."""
    path = home / FOLDER / f"{request}.zip.sealed"
    if not path.exists():
        raise NotFound("this request has no package")
    return keys.open(path.read_bytes(), context=_context(request))


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


def open_checked(home: Path, keys: KeyRing, request: str, sha256: str | None) -> Opened:
    """The package of ``request``, only if it opens and its SHA-256 is ``sha256`` (the run's).

    Missing: :class:`NotFound`; altered, truncated, sealed for another request or not
    the zip the run recorded: :class:`PackageDamaged`. Nothing is returned in part.
    """
    if not sha256:
        raise NotFound(f"request {request} has no package (only a completed access or portability request has one)")
    path = home / FOLDER / f"{request}.zip.sealed"
    try:
        sealed = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"the package file of request {request} is missing from {FOLDER}/") from None
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
