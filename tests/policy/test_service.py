"""Publishing versions: immutable, ordered, checked, audited (P-STM-1)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from charter.audit import verify
from charter.audit.models import AuditEntry
from charter.db import Database
from charter.errors import EffectiveDateRegression, PolicyInvalid, VersionExists
from charter.policy import service
from charter.policy.models import PolicyVersion
from charter.settings import PolicySettings

LIMITS = PolicySettings()


def publish(database: Database, text: str, source: str = "s.yaml") -> PolicyVersion:
    loaded = service.read_text(text, source=source, limits=LIMITS)
    with database.session() as session:
        return service.publish(session, loaded, text, actor="user:test")


def count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(PolicyVersion)) or 0


def test_publish_both_examples_in_order(database: Database, statement_2019_text: str, statement_2023_text: str) -> None:
    publish(database, statement_2019_text)
    publish(database, statement_2023_text)
    with database.session() as session:
        assert [r.version for r in service.versions(session)] == ["2019-04-04", "2023-01-01"]
        assert service.in_force(session, date(2020, 6, 1)).version == "2019-04-04"  # type: ignore[union-attr]
        assert service.in_force(session, date(2023, 1, 1)).version == "2023-01-01"  # type: ignore[union-attr]
        assert service.in_force(session, date(2019, 4, 3)) is None
        row = service.get(session, "2019-04-04")
        assert service.statement_of(row).collection.minimum_age.age == 13  # type: ignore[union-attr]
        assert row.source_text == statement_2019_text


def test_publishing_is_audited(database: Database, statement_2019_text: str) -> None:
    publish(database, statement_2019_text)
    with database.session() as session:
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.action, entry.target, entry.actor) == (
            "policy.published",
            "policy_version:2019-04-04",
            "user:test",
        )
        assert verify(session).ok


def test_duplicate_version_is_refused(database: Database, statement_2019_text: str) -> None:
    publish(database, statement_2019_text)
    with pytest.raises(VersionExists):
        publish(database, statement_2019_text)
    assert count(database) == 1


def test_an_earlier_effective_date_is_refused(
    database: Database, statement_2019_text: str, statement_2023_text: str
) -> None:
    publish(database, statement_2023_text)
    with pytest.raises(EffectiveDateRegression):
        publish(database, statement_2019_text)
    assert count(database) == 1


def test_an_invalid_statement_stores_nothing(database: Database, statement_2023_text: str) -> None:
    broken = statement_2023_text.replace("effective: 2023-01-01", "effective: soon", 1)
    with pytest.raises(PolicyInvalid):
        publish(database, broken)
    with database.session() as session:
        assert count(database) == 0
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
