"""How long the person's copy is kept: a completed request's package is deleted after a while (P-RGT-1, P-SEC-1).

The package is everything Charter found about a person, sealed. It exists to be
handed over, not to be kept: ``CHARTER_REQUESTS_PACKAGE_DAYS`` after the run
finished, :func:`drop_expired` deletes the file, forgets its name on the run
and revokes the links still out. The run keeps the package's SHA-256, and the
audit log both its issue and its deletion, so the privacy office can still
show *what* was disclosed (the hash of it), not the data itself. A push to a
third party still pending is failed with the reason. After this, "Get my copy"
is no longer offered; a new access request makes a new one.

Idempotent and safe to run from every sweep: a file already gone counts as
deleted, and a run is changed only if it still names its package.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from charter import audit
from charter.db.base import rowcount
from charter.delivery.models import PackageDelivery, PackageDownload
from charter.delivery.push import FAILED, PENDING
from charter.execution import package
from charter.execution.models import ExecutionRun
from charter.requests.models import PrivacyRequest
from charter.settings import Settings

ACTOR = "retention"
BATCH = 500
DROPPED = "the copy was deleted after CHARTER_REQUESTS_PACKAGE_DAYS; a new access request makes a new one"


def drop_expired(session: Session, *, settings: Settings, now: datetime) -> int:
    """Delete the packages of runs that finished more than ``package_days`` ago (at most ``BATCH`` per call,
    oldest first); how many. Each is committed with the caller's transaction."""
    cutoff = now - timedelta(days=settings.requests.package_days)
    found = session.execute(
        select(
            ExecutionRun.id,
            ExecutionRun.request_id,
            ExecutionRun.package,
            ExecutionRun.package_sha256,
            PrivacyRequest.public_id,
        )
        .join(PrivacyRequest, PrivacyRequest.id == ExecutionRun.request_id)
        .where(ExecutionRun.package.is_not(None), ExecutionRun.finished_at < cutoff)
        .order_by(ExecutionRun.finished_at, ExecutionRun.id)
        .limit(BATCH)
    ).all()
    dropped = 0
    for run_id, request_id, name, sha256, public_id in found:
        changed = session.execute(
            update(ExecutionRun)
            .where(ExecutionRun.id == run_id, ExecutionRun.package == name)
            .values(package=None)
            .execution_options(synchronize_session=False)
        )
        if rowcount(changed) != 1:
            continue  # another sweeper dropped it a moment ago
        revoked = session.execute(
            update(PackageDownload)
            .where(
                PackageDownload.request_id == request_id,
                PackageDownload.used_at.is_(None),
                PackageDownload.revoked_at.is_(None),
            )
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        failed = session.execute(
            update(PackageDelivery)
            .where(PackageDelivery.request_id == request_id, PackageDelivery.status == PENDING)
            .values(status=FAILED, error=DROPPED[:300])
            .execution_options(synchronize_session=False)
        )
        # in the same transaction as the run's forgetting it (a package written before migration 0013 is a
        # file: it goes before the commit; if the commit fails the next sweep finishes the job)
        package.remove(session, settings.home, public_id)
        audit.record(
            session,
            actor=ACTOR,
            action="package.dropped",
            target=f"request:{public_id}",
            data={
                "package_sha256": sha256,
                "package_days": settings.requests.package_days,
                "links_revoked": rowcount(revoked),
                "pushes_failed": rowcount(failed),
            },
        )
        dropped += 1
    return dropped
