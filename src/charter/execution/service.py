"""Planning a stored request: open what planning needs from the request, then call the pure planner.

The identity value is opened from the sealed request only to be masked; it
never leaves this function except inside the plan's masked form.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy.orm import Session

from charter.datamap import service as datamaps
from charter.datamap.loader import files_of
from charter.datamap.model import DataMap
from charter.errors import CharterError
from charter.execution import plan
from charter.execution.steps import Plan
from charter.requests import claimed, review
from charter.requests.kinds import RequestKind
from charter.requests.models import PrivacyRequest
from charter.requests.sealing import details_of, identity_of
from charter.settings import Settings
from charter.subjects.normalize import IdentityKind
from charter.subjects.service import Vault


def load_datamap(settings: Settings, path: Path | None = None) -> DataMap:
    """The valid data map at ``path`` (default ``CHARTER_DATAMAP_PATH``), or DatamapInvalid with every problem.

    A worker loads it for every run; reading and checking the YAML again each time cost more than an
    access request's own work, so the last few maps loaded are kept while their files' sizes and
    modification times stay the same (an edited file, one added or removed, is read again)."""
    where = path or settings.datamap.path
    key = (str(where.resolve()), settings.datamap.max_bytes, settings.datamap.max_nodes)
    seen = _fingerprint(where)
    with _loaded_lock:
        kept = _loaded.get(key)
    if kept is not None and seen is not None and kept[0] == seen:
        return kept[1]
    datamap = datamaps.load(where, settings)
    if seen is not None:
        with _loaded_lock:
            _loaded[key] = (seen, datamap)
            while len(_loaded) > _MAX_LOADED:
                _loaded.pop(next(iter(_loaded)))
    return datamap


_MAX_LOADED = 8
_loaded: dict[tuple[str, int, int], tuple[tuple[tuple[str, int, int], ...], DataMap]] = {}
_loaded_lock = threading.Lock()


def _fingerprint(path: Path) -> tuple[tuple[str, int, int], ...] | None:
    """Every YAML file of the map with its size and modification time; None when they cannot be listed (the
    loader then reports why)."""
    try:
        files = files_of(path)
        return tuple((str(f), (st := f.stat()).st_size, st.st_mtime_ns) for f in files)
    except (CharterError, OSError):
        return None


def plan_request(session: Session, public_id: str, datamap: DataMap, *, vault: Vault) -> Plan:
    """The plan of the stored request ``public_id`` (NotFound if there is none)."""
    return plan_of(review.get(session, public_id), datamap, vault=vault)


def identities_of(row: PrivacyRequest, datamap: DataMap, *, vault: Vault) -> tuple[dict[str, list[str]], list[str]]:
    """The identities a request's discovery starts from, and notes about the ones it does not.

    The verified e-mail always; the other identifiers the requester gave (``charter.requests.claimed``) only
    once the office confirmed them, and only kinds Charter or the data map knows. An unconfirmed one is left
    to the linked identities: searched where the person's own rows hold it."""
    starts: dict[str, list[str]] = {row.identity_kind: [identity_of(vault, row)]}
    notes: list[str] = []
    opened = details_of(vault, row)
    others = claimed.claimed_of(opened)
    if not others:
        return starts, notes
    known = {k.value for k in IdentityKind} | plan.map_identity_kinds(datamap)
    for kind, values in sorted(others.items()):
        if not claimed.confirmed(opened):
            notes.append(
                f"the requester also gave a {kind}, not confirmed by the office: it is searched only where "
                "the person's own rows hold it"
            )
        elif kind not in known:
            notes.append(f"the requester also gave a {kind}; no collection of the data map is keyed on that kind")
        else:
            starts.setdefault(kind, []).extend(values)
    return starts, notes


def plan_of(
    row: PrivacyRequest,
    datamap: DataMap,
    *,
    vault: Vault,
    identities: tuple[dict[str, list[str]], list[str]] | None = None,
) -> Plan:
    """The plan of a request row already read; ``identities``: what :func:`identities_of` gave for it, when
    the caller needs them too (the runner: the sealed identity and details are opened once)."""
    kind = RequestKind(row.kind)
    fields: list[str] = []
    if kind == RequestKind.CORRECTION:
        named = details_of(vault, row).get("field")
        fields = [named] if isinstance(named, str) else []
    starts, notes = identities if identities is not None else identities_of(row, datamap, vault=vault)
    return plan.build(datamap, plan.PlanRequest(row.public_id, kind, starts, fields, tuple(notes)))
