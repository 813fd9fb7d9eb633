"""One-time download links and pushes to third parties, for access/portability packages.

Nothing here can be used to fetch a package: a link is stored only as a
keyed hash of its token (the token exists in the clear in the page that
showed it, nowhere else), and a delivery keeps only the recipient's host —
the full URL, whose path or query may carry the recipient's token for the
person, stays sealed in the request's details. No IP address or other
personal value is kept (P-SEC-1).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from charter.db.base import Base, utcnow
from charter.subjects.models import new_public_id


class PackageDownload(Base):
    """A link that downloads a request's package once, before it expires."""

    __tablename__ = "package_downloads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("privacy_requests.id"), index=True)
    #: HMAC-SHA256 of the token under the identity lookup key (hex): finds the row, cannot be turned into a link
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    #: set, in the transaction that checks the link, by the one GET that downloads it
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    #: set when a newer link for the same request was issued: one live link per request
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class PackageDelivery(Base):
    """One push of a portability package to the third party the person named, with how it went."""

    __tablename__ = "package_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    request_id: Mapped[int] = mapped_column(ForeignKey("privacy_requests.id"), index=True)
    #: host[:port] of the recipient only (see the module docstring)
    recipient_host: Mapped[str] = mapped_column(String(260))
    #: pending | sending | sent | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    http_status: Mapped[int | None] = mapped_column(Integer, default=None)
    #: SHA-256 of the zip that was (to be) sent: the run's package_sha256
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    #: class of failure and HTTP status, never the URL or anything the recipient wrote back
    error: Mapped[str | None] = mapped_column(String(300), default=None)
