"""The deletion certificate: what was erased where, how, when, and the audit entries that record it.

Stored as JSON on the run (``execution_runs.certificate``) when a deletion's
verification passed; never issued for a partial erasure. Schema
``charter.certificate/1``::

    {"schema", "request", "type": "deletion", "started_at", "finished_at",
     "outcome": "erased" | "no_record_found" | "kept", "verified": true only for "erased",
     "searched": [{"system", "collection", "rows_found"}],
     "systems": [ID],
     "collections": [{"system", "collection", "strategy" | "fields": {field: strategy} (a name holding a
                      dot written in double quotes, as charter.datamap.paths shows it),
                      "rows_matched", "rows_affected", "erased_at", "verified_at",
                      "rows_checked", "identity_values_searched",
                      "audit_seq": the entry ``execution.erase`` of that step}],
     "kept": [{"collection", "system", "reason"}], "not_searched": [...],
     "audit": [{"seq", "action", "at", "hash"}]}

``outcome`` says what happened, in words an auditor can trust: ``erased``
(rows were found, erased and the verification proved it), ``no_record_found``
(every collection was searched and none holds the person: nothing to erase,
and *not* "verified", which would claim work that was never done), ``kept``
(rows were found only where the map keeps them, each with its reason).

``rows_matched`` is what discovery found; ``rows_affected`` what the erase
statement changed (0 for a step re-run after a crash, whose first run had
already done the work: the verification is what proves the outcome).
``audit_seq`` is null for such a step when the crash came after the store
committed and before Charter did: the entry is written with the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.audit.models import AuditEntry
from charter.db import Database
from charter.errors import NotFound
from charter.execution import claims
from charter.execution.steps import Action, Plan
from charter.requests import review

SCHEMA = "charter.certificate/1"
ERASED, NO_RECORD_FOUND, KEPT = "erased", "no_record_found", "kept"


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def build(session: Session, plan: Plan, steps: Sequence[Any], *, started_at: datetime, now: datetime) -> dict[str, Any]:
    """The certificate of a completed deletion from its steps as stored (``claims.outcome_rows``: each with
    ``action``, ``collection``, ``summary``, ``finished_at``) and the request's audit entries."""
    by_key = {(s.action, s.collection): s for s in steps}
    entries = list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.target == f"request:{plan.request}").order_by(AuditEntry.seq)
        )
    )
    erase_entries = {(e.data or {}).get("step"): e.seq for e in entries if e.action == "execution.erase"}
    collections = []
    for erase in plan.of(Action.ERASE):
        done = by_key[(Action.ERASE.value, erase.collection)]
        fetched = by_key[(Action.FETCH.value, erase.collection)]
        verified = by_key.get((Action.VERIFY.value, erase.collection))
        entry: dict[str, Any] = {"system": erase.system, "collection": erase.collection}
        if erase.strategy:
            entry["strategy"] = erase.strategy
        else:
            entry["fields"] = {f.shown: f.strategy for f in erase.fields}  # "addr.line1": a name with a dot
        entry.update(
            rows_matched=(fetched.summary or {}).get("rows", 0),
            rows_affected=(done.summary or {}).get("rows", 0),
            erased_at=_iso(done.finished_at),
            verified_at=_iso(verified.finished_at if verified else None),
            # what the verification read again: rows by their key, identity values searched (execution.verification)
            rows_checked=((verified.summary or {}) if verified else {}).get("rows_checked"),
            identity_values_searched=((verified.summary or {}) if verified else {}).get("identity_values"),
            audit_seq=erase_entries.get(erase.id),
        )
        collections.append(entry)
    searched = [
        {
            "system": f.system,
            "collection": f.collection,
            "rows_found": (by_key[(f.action.value, f.collection)].summary or {}).get("rows", 0),
        }
        for f in plan.of(Action.FETCH)
    ]
    outcome = outcome_of(plan, searched)
    return {
        "schema": SCHEMA,
        "request": plan.request,
        "type": plan.kind,
        "started_at": started_at.isoformat(),
        "finished_at": now.isoformat(),
        "outcome": outcome,
        "verified": outcome == ERASED,
        "searched": searched,
        "systems": sorted({c["system"] for c in collections}),
        "collections": collections,
        "kept": [k.as_dict() for k in plan.kept],
        "not_searched": [n.as_dict() for n in plan.not_searched],
        "audit": [{"seq": e.seq, "action": e.action, "at": e.at.isoformat(), "hash": e.hash} for e in entries],
    }


def outcome_of(plan: Plan, searched: Sequence[dict[str, Any]]) -> str:
    """``erased`` when something was erased (and, the run having completed, verified); else whether anything
    of the person was found at all."""
    if not any(s["rows_found"] for s in searched):
        return NO_RECORD_FOUND
    erased = {e.collection for e in plan.of(Action.ERASE)}
    if any(s["rows_found"] and s["collection"] in erased for s in searched):
        return ERASED
    return KEPT


def certificate_of(database: Database, public_id: str) -> dict[str, Any]:
    """The stored certificate of a completed deletion, or NotFound."""
    with database.session() as session:
        row = review.get(session, public_id)
        run = claims.run_of(session, row.id)
        if run is None or run.certificate is None:
            raise NotFound(f"request {row.public_id} has no certificate (only a completed deletion has one)")
        return dict(run.certificate)
