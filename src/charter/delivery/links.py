"""One-time download links: issued after re-verification, checked and used up in one transaction.

A link is ``BASE_URL/privacy/requests/download?token=…`` with 256 random bits
(``secrets.token_urlsafe(32)``). Only a keyed hash of the token is stored
(HMAC under the identity lookup key, like the e-mailed links' tokens), so a
copy of the database cannot be turned into links. The token goes in the
query string because the access log masks ``token=`` values
(:mod:`charter.web.accesslog`).

:func:`use` spends the link with one conditional ``UPDATE … SET used_at
WHERE token_hash = … AND used_at IS NULL AND revoked_at IS NULL AND
expires_at > now`` as the first statement of its transaction: of two GETs at
once, exactly one gets the file. Only then does it read the row, to tell a
used, replaced or expired link (each its own 410) from an unknown one (404,
hash compared again in constant time), and open the package: a missing or
damaged package raises and rolls the spending back, so it does not burn the
link. Issuing a new link for a request revokes the
older one, so at most one works at a time.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from charter import audit
from charter.db import Database
from charter.db.base import rowcount, utcnow
from charter.delivery.errors import ASK_AGAIN, LinkExpired, LinkReplaced, LinkUnknown, LinkUsed
from charter.delivery.models import PackageDownload
from charter.execution import claims, package
from charter.requests.models import PrivacyRequest
from charter.settings import Settings
from charter.subjects.service import Vault

PATH = "/privacy/requests/download"
_KIND = "delivery.download.token"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{40,64}")
UNKNOWN = f"this download link is not valid; check it against the page that gave it, or {ASK_AGAIN}"
USED = f"this link was already used (it works once); {ASK_AGAIN}"
REPLACED = f"a newer link was issued for this request and replaces this one; use it, or {ASK_AGAIN}"
EXPIRED = f"this link has expired; {ASK_AGAIN}"
DELETED = (
    "your copy was kept for a limited time after your request was completed and has been deleted; "
    "a new access request makes a new one"
)


@dataclass(frozen=True)
class Issued:
    """A new link. ``token`` exists in the clear only here and in the page that shows it."""

    expires_at: datetime
    url: str = field(repr=False)
    token: str = field(repr=False)


@dataclass(frozen=True)
class Download:
    filename: str
    sha256: str
    collections: int
    rows: int
    data: bytes = field(repr=False)


def token_hash(vault: Vault, token: str) -> str:
    return vault.keys.lookup_hash(_KIND, token)


def url_for(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}{PATH}?{urlencode({'token': token})}"


def filename_for(row: PrivacyRequest) -> str:
    return f"charter-{row.kind}-{row.public_id}.zip"


def issue(session: Session, row: PrivacyRequest, *, vault: Vault, settings: Settings, now: datetime) -> Issued:
    """A new link for ``row`` (in the caller's transaction), revoking any earlier one still live; audited."""
    revoked = session.execute(
        update(PackageDownload)
        .where(
            PackageDownload.request_id == row.id,
            PackageDownload.used_at.is_(None),
            PackageDownload.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(hours=settings.requests.download_hours)
    link = PackageDownload(request_id=row.id, token_hash=token_hash(vault, token), issued_at=now, expires_at=expires_at)
    session.add(link)
    session.flush()
    audit.record(
        session,
        actor="requester",
        action="package.link_issued",
        target=f"request:{row.public_id}",
        data={"link": link.id, "expires_at": expires_at.isoformat(), "replaced": rowcount(revoked)},
    )
    return Issued(expires_at=expires_at, url=url_for(settings, token), token=token)


def use(database: Database, token: str, *, vault: Vault, home: Path, now: datetime | None = None) -> Download:
    """The package behind a live link, the link spent in the same transaction; 404 / 410 otherwise."""
    now = now or utcnow()
    token = token.strip()
    if not _TOKEN.fullmatch(token):
        raise LinkUnknown(UNKNOWN)
    digest = token_hash(vault, token)
    with database.session() as session:
        # Spend first, as the transaction's first statement: of two GETs at once exactly one changes the row
        # (the other waits for its lock, then finds used_at set); what follows only explains a refusal.
        spent = session.execute(
            update(PackageDownload)
            .where(
                PackageDownload.token_hash == digest,
                PackageDownload.used_at.is_(None),
                PackageDownload.revoked_at.is_(None),
                PackageDownload.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        link = session.scalar(
            select(PackageDownload)
            .where(PackageDownload.token_hash == digest)
            .execution_options(populate_existing=True)
        )
        if link is None or not hmac.compare_digest(link.token_hash.encode(), digest.encode()):
            raise LinkUnknown(UNKNOWN)
        if rowcount(spent) != 1:
            if link.used_at is not None:
                raise LinkUsed(USED)
            if link.revoked_at is not None:
                run = claims.run_of(session, link.request_id)
                if run is not None and run.package is None:  # charter.delivery.retention deleted the copy
                    raise LinkExpired(DELETED)
                raise LinkReplaced(REPLACED)
            raise LinkExpired(EXPIRED)
        row = session.get_one(PrivacyRequest, link.request_id)
        run = claims.run_of(session, row.id)
        # A missing or damaged package raises here and rolls the spending back: the link still works later.
        opened = package.open_checked(session, home, vault.keys, row.public_id, run.package_sha256 if run else None)
        audit.record(
            session,
            actor="requester",
            action="package.downloaded",
            target=f"request:{row.public_id}",
            data={"link": link.id, "package_sha256": opened.sha256},
        )
        return Download(filename_for(row), opened.sha256, opened.collections, opened.rows, opened.data)
