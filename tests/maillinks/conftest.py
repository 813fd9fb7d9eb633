"""Mail-link tests run on both backends with both example statements published.

``links`` is a :class:`MailLinks` with a fixed test key; ``mint`` gives the
links of one message to a person known by an e-mail address, minted now
(or at ``at``), and the person's public id.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import func, select

from charter.db import Database, utcnow
from charter.maillinks.keys import LinkKeys
from charter.maillinks.service import MailLinks, MintedLinks, recipient
from tests.subjects.factories import make_vault, publish_examples

MARKETING = "marketing_new_services"
"""The 2019 and 2023 statements' marketing purpose (data use marketing.communications.new_services)."""
SECRET = b"a test secret key for mail links"
VAULT = make_vault()

Mint = Callable[..., MintedLinks]


def make_links(secret: bytes = SECRET, *, previous: tuple[bytes, ...] = ()) -> MailLinks:
    return MailLinks(
        LinkKeys(secret, previous=previous),
        base_url="https://privacy.example.org/",
        valid_days=365,
        mailto="unsubscribe@example.org",
    )


def count(database: Database, model: type) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def token_of(url: str) -> str:
    """The token in an unsubscribe URL (``…/u/TOKEN``) or a pixel URL (``…/o/TOKEN.gif``)."""
    return url.rsplit("/", 1)[1].removesuffix(".gif")


@pytest.fixture
def links_db(database: Database) -> Database:
    publish_examples(database)
    return database


@pytest.fixture
def links() -> MailLinks:
    return make_links()


@pytest.fixture
def mint(links_db: Database, links: MailLinks) -> Mint:
    def make(
        email: str = "ana@example.org",
        list_id: str = MARKETING,
        campaign: str | None = "spring-2026",
        at: datetime | None = None,
    ) -> MintedLinks:
        with links_db.session() as session:
            person = recipient(session, VAULT, identity=("email", email))
            return links.mint(session, person, list_id, campaign, actor="test", at=at or utcnow())

    return make
