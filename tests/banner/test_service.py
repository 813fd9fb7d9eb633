"""The banner service on a database: statement in force, GPC declaration, refusals (P-TRK-1/2)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from charter.banner import service as banner
from charter.banner.choices import Choice
from charter.db import Database
from charter.errors import NotFound
from charter.ledger.signals import BrowserSignals
from charter.policy import service as policy
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.conftest import EXAMPLES

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def publish(database: Database, settings: Settings, *names: str) -> None:
    for name in names:
        loaded, raw = policy.read_file(EXAMPLES / name, limits=settings.policy)
        with database.session() as session:
            policy.publish(session, loaded, raw, actor="test")


def test_the_banner_and_gpc_follow_the_statement_in_force(database: Database, settings: Settings) -> None:
    with database.session() as session:
        assert banner.in_force(session, date(2024, 1, 1)) is None
        assert banner.gpc_declaration(session, date(2024, 1, 1)) is None
    publish(database, settings, "statement-2019.yaml", "statement-2023.yaml")
    with database.session() as session:
        view = banner.in_force(session, date(2022, 6, 1))
        assert view is not None and view.statement_version == "2019-04-04"
        # 2019 lists only Do Not Track: GPC is not declared for that period.
        assert banner.gpc_declaration(session, date(2022, 6, 1)) == banner.GpcDeclaration(False, date(2019, 4, 4))
        assert banner.gpc_declaration(session, date(2024, 1, 1)) == banner.GpcDeclaration(True, date(2023, 1, 1))
        again = banner.in_force(session, date(2024, 1, 1))
        assert again is banner.in_force(session, date(2024, 2, 1))  # memoized per published row


def test_a_bad_cookie_id_or_no_statement_records_nothing(database: Database, settings: Settings) -> None:
    vault = Vault.from_settings(settings)
    choice = Choice("0" * 32, {}, "0" * 64, "2023-01-01")
    with database.session() as session, pytest.raises(NotFound, match="no privacy statement is in force"):
        banner.record_choice(session, choice, headers=BrowserSignals(), vault=vault, at=AT)
    bad = Choice("Z" * 32, {}, "0" * 64, "2023-01-01")
    with database.session() as session, pytest.raises(banner.InvalidCookieId, match="32 lower-case hexadecimal"):
        banner.record_choice(session, bad, headers=BrowserSignals(), vault=vault, at=AT)
