"""Unmapped personal data: column names read in any style, and every schema the store's user can see.

A requester's data in a table the map does not describe is data an access
request (P-RGT-1) does not return and a deletion (P-RGT-3) does not erase;
the check must name it, however the column is spelt and wherever it sits.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from charter.connectors.sql import dispose_engines
from charter.datamap import service
from charter.datamap.unmapped import looks_personal, words
from charter.settings import Settings
from tests.datamap.conftest import Store, rendered

Write = Callable[[str, str], Path]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("email_address", ["email", "address"]),
        ("EmailAddress", ["email", "address"]),
        ("emailAddress", ["email", "address"]),
        ("e-mail", ["e", "mail"]),
        ("IPAddress", ["ip", "address"]),
        ("ipAddr", ["ip", "addr"]),
        ("DOB", ["dob"]),
        ("PHONE_NUMBER", ["phone", "number"]),
        ("Date of Birth", ["date", "of", "birth"]),
        ("userID2", ["user", "id", "2"]),
    ],
)
def test_names_are_split_into_words_in_any_style(name: str, expected: list[str]) -> None:
    assert words(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "email_address",
        "EmailAddress",
        "e-mail",
        "E_MAIL",
        "PhoneNumber",
        "DOB",
        "ipAddr",
        "IPAddress",
        "Date of Birth",
        "birthDate",
        "FirstName",
        "lastname",
        "SSN",
        "customerId",
        "postal-code",
        "ZipCode",
        "gift_email",
    ],
)
def test_personal_names_in_any_style(name: str) -> None:
    # P-RGT-1 / P-RGT-3: a column spelt EmailAddress holds e-mail addresses as much as email_address does
    assert looks_personal(name)


@pytest.mark.parametrize("name", ["id", "created_at", "status", "shipping_cost", "Description", "zipper", "tip"])
def test_other_names_are_not_personal(name: str) -> None:
    assert not looks_personal(name)


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[tuple[str, Store]]:
    """A database of its own (nothing else in it) and a reader that may use some of its schemas only."""
    name = f"charter_store_{uuid.uuid4().hex[:10]}"
    role = f"charter_reader_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    owner = make_url(postgres_url).set(database=name)
    store = Store("postgresql", owner.render_as_string(hide_password=False), "Shop")
    store.run(
        'CREATE SCHEMA "Shop"',
        'CREATE SCHEMA "backup_schema"',
        'CREATE SCHEMA "Secret"',
        f'GRANT USAGE ON SCHEMA "Shop", "backup_schema" TO "{role}"',
        f'ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO "{role}"',
    )
    reader = owner.set(username=role).render_as_string(hide_password=False)
    yield reader, store
    store.engine.dispose()
    dispose_engines()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    admin.dispose()


@pytest.fixture
def maria_store(mariadb_url: str) -> Iterator[tuple[str, Store, str]]:
    """The run's database, a backup database the reader may read, and one it may not."""
    base = make_url(mariadb_url)
    database = base.database
    user = f"charter_r_{uuid.uuid4().hex[:8]}"
    backup, secret = f"{database}_Backup", f"{database}_secret"
    admin = Store("mariadb", mariadb_url, None)
    admin.run(
        f"CREATE DATABASE `{backup}`",
        f"CREATE DATABASE `{secret}`",
        f"CREATE USER '{user}'@'%'",
        f"GRANT SELECT ON `{database}`.* TO '{user}'@'%'",
        f"GRANT SELECT ON `{backup}`.* TO '{user}'@'%'",
    )
    reader = base.set(username=user, password=None).render_as_string(hide_password=False)
    yield reader, admin, backup
    dispose_engines()
    admin.run(
        f"DROP DATABASE `{backup}`",
        f"DROP DATABASE `{secret}`",
        f"DROP USER '{user}'@'%'",
        "DROP TABLE IF EXISTS `Members`, `Newsletter`",
    )
    admin.engine.dispose()


MEMBERS_MAP = """\
systems: [{{id: crm, kind: sql, url_env: CRM_URL, datasets: [crm]}}]
dataset:
  - fides_key: crm
{namespace}    collections:
      - name: Members
        fields:
          - name: MemberId
            fides_meta: {{primary_key: true}}
          - name: EmailAddress
            data_categories: [user.contact.email]
            fides_meta: {{identity: email}}
"""


def members_map(write: Write, schema: str | None) -> Path:
    namespace = f"    fides_meta: {{namespace: {{schema: {schema}}}}}\n" if schema else ""
    return write("crm.yaml", MEMBERS_MAP.format(namespace=namespace))


def live_check(path: Path, url: str, tmp_path: Path) -> service.Report:
    return service.check_path(path, Settings.load(env="test", home=tmp_path), live=True, env={"CRM_URL": url})


def test_every_schema_the_reader_sees_is_searched_for_personal_data_postgresql(
    pg_store: tuple[str, Store], write: Write, tmp_path: Path
) -> None:
    # P-RGT-1 / P-RGT-3: a backup copy of the customers is data a request would miss
    reader, store = pg_store
    store.run(
        'CREATE TABLE "Shop"."Members" ("MemberId" integer PRIMARY KEY, "EmailAddress" text, "ipAddr" text, '
        '"DOB" date, "Status" text)',
        'CREATE TABLE "Shop"."Newsletter" ("Id" integer PRIMARY KEY, "e-mail" text)',
        'CREATE TABLE "Shop"."Settings" ("Id" integer PRIMARY KEY, "Theme" text)',
        'CREATE TABLE "backup_schema"."customer" ("id" integer, "EmailAddress" text, "PhoneNumber" text)',
        'CREATE TABLE "backup_schema"."totals" ("day" date, "amount" integer)',
        'CREATE TABLE "Secret"."people" ("id" integer, "email" text)',
        'CREATE TABLE "public"."Visitors" ("Id" integer, "IPAddress" text)',
    )
    report = live_check(members_map(write, "Shop"), reader, tmp_path)
    assert rendered(report, "drift") == [] and report.checked_systems == ["crm"]
    warnings = [line.split(": warning: ", 1)[1] for line in rendered(report, "warning")]
    assert warnings == [
        "unmapped data: columns of 'Members' that look personal are not in the map (DOB, ipAddr)",
        "unmapped data: table 'Newsletter' in 'crm' is not in the data map and has columns that look personal (e-mail)",
        "unmapped data: table 'backup_schema.customer' in 'crm' is in a schema no dataset maps and has columns "
        "that look personal (EmailAddress, PhoneNumber); map it, or give the store's user no access to that schema",
        "unmapped data: table 'public.Visitors' in 'crm' is in a schema no dataset maps and has columns "
        "that look personal (IPAddress); map it, or give the store's user no access to that schema",
    ]


def test_every_database_the_reader_sees_is_searched_for_personal_data_mariadb(
    maria_store: tuple[str, Store, str], write: Write, tmp_path: Path
) -> None:
    # P-RGT-1 / P-RGT-3
    reader, admin, backup = maria_store
    secret = backup.removesuffix("_Backup") + "_secret"
    admin.run(
        "CREATE TABLE `Members` (`MemberId` integer PRIMARY KEY, `EmailAddress` text, `PhoneNumber` text)",
        f"CREATE TABLE `{backup}`.`Customer` (`Id` integer, `EmailAddress` text, `FirstName` text)",
        f"CREATE TABLE `{secret}`.`people` (`id` integer, `email` text)",
    )
    report = live_check(members_map(write, None), reader, tmp_path)
    assert rendered(report, "drift") == [] and report.checked_systems == ["crm"]
    warnings = [line.split(": warning: ", 1)[1] for line in rendered(report, "warning")]
    assert warnings == [
        "unmapped data: columns of 'Members' that look personal are not in the map (PhoneNumber)",
        f"unmapped data: table '{backup}.Customer' in 'crm' is in a schema no dataset maps and has columns "
        "that look personal (EmailAddress, FirstName); map it, or give the store's user no access to that schema",
    ]


def test_a_table_marked_skip_processing_holds_nothing_to_warn_about(tmp_path: Path, write: Write) -> None:
    # P-RGT-1: the map says so explicitly; the check takes its word and stops warning
    store = tmp_path / "crm.db"
    with sqlite3.connect(store) as db:
        db.execute('CREATE TABLE "Members" ("MemberId" INTEGER PRIMARY KEY, "EmailAddress" TEXT)')
        db.execute('CREATE TABLE "AuditLog" ("Id" INTEGER PRIMARY KEY, "ActorEmail" TEXT, "ClientIp" TEXT)')
    text = members_map(write, None).read_text() + (
        "      - name: AuditLog\n        fides_meta: {skip_processing: true}\n        fields:\n          - name: Id\n"
    )
    path = write("crm.yaml", text)
    report = live_check(path, f"sqlite:///{store}", tmp_path)
    # only the note that no index serves the e-mail's case-insensitive matching on Members
    assert [f.severity for f in report.findings] == ["note"] and report.checked_systems == ["crm"]
    assert "'Members.EmailAddress' is matched as an email" in report.findings[0].render()
    path = write("crm.yaml", text.replace("        fides_meta: {skip_processing: true}\n", ""))
    [line] = rendered(check_report := live_check(path, f"sqlite:///{store}", tmp_path), "warning")
    assert "columns of 'AuditLog' that look personal are not in the map (ActorEmail, ClientIp)" in line
    assert any("unreachable" in n for n in rendered(check_report, "note"))  # unreachable, no categories: a note
