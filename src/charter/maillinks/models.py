"""The two tables of mail links: the links minted, and the opens their pixels recorded.

Neither table holds a token: only keyed hashes of them (``charter.maillinks.keys``),
so a copy of the database does not let anyone unsubscribe people or forge opens.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from charter.db.base import Base, utcnow


class MailLink(Base):
    """The links of one message to one person: an unsubscribe token and an open-pixel token.

    Two tokens, not one: a pixel URL is fetched by image proxies and mail
    scanners, which must not be able to unsubscribe anyone with what they saw.
    ``used_at`` is set once, atomically, by the unsubscribe (P-TRK-3).
    """

    __tablename__ = "mail_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unsubscribe_hash: Mapped[str] = mapped_column(String(64), unique=True)
    open_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    list_id: Mapped[str] = mapped_column(String(80))
    campaign: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class MailOpen(Base):
    """One fetch of a pixel that was allowed to count as an open: tracking data, not something the person said."""

    __tablename__ = "mail_opens"
    __table_args__ = (Index("ix_mail_opens_link_at", "link_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("mail_links.id"))
    at: Mapped[datetime] = mapped_column()
