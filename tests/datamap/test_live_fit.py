"""Live checks of what an erasure strategy writes, against real PostgreSQL and MariaDB tables.

Each drift here is a failure the runner would otherwise meet half-way through
a deletion, after earlier steps had already erased (P-RGT-3): the store's own
key, the column's width, type, nullability, whether the store computes it,
and foreign keys the rewrite would break.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from charter.datamap import service
from charter.settings import Settings
from tests.datamap.conftest import Check, Store, rendered

Write = Callable[[str, str], Path]


def people_tables(store: Store) -> None:
    uuid_type = "uuid"
    generated = "GENERATED ALWAYS AS (\"Email\" || ' ') STORED"
    if store.backend == "mariadb":
        generated = "AS (concat(`Email`, ' ')) STORED"
    q = store.q
    store.run(
        f"CREATE TABLE {store.table('People')} ({q('Id')} integer PRIMARY KEY, {q('Email')} varchar(20), "
        f"{q('Token')} varchar(30), {q('Note')} varchar(6), {q('Phone')} varchar(40) NOT NULL, "
        f"{q('Ref')} {uuid_type}, {q('Code')} varchar(40) UNIQUE, {q('Full')} varchar(80) {generated})",
        f"CREATE TABLE {store.table('Pairs')} ({q('A')} integer, {q('B')} integer, {q('Email')} varchar(64), "
        f"PRIMARY KEY ({q('A')}, {q('B')}))",
        f"CREATE TABLE {store.table('Orders')} ({q('Id')} integer PRIMARY KEY, {q('PersonCode')} varchar(40), "
        f"FOREIGN KEY ({q('PersonCode')}) REFERENCES {store.table('People')} ({q('Code')}))",
    )


MAP = """\
systems: [{{id: crm, kind: sql, url_env: CRM_URL, datasets: [crm]}}]
dataset:
  - fides_key: crm
{namespace}    collections:
      - name: People
        fields:
          - name: Id
            fides_meta: {{primary_key: true}}
          - name: Email
            data_categories: [user.contact.email]
            fides_meta: {{identity: email}}
            charter: {{erasure: keyed_hash}}
          - name: Token
            data_categories: [user.unique_id]
            charter: {{erasure: random_token}}
          - name: Note
            data_categories: [user.content]
            charter: {{erasure: redact_text}}
          - name: Phone
            data_categories: [user.contact.phone_number]
            charter: {{erasure: set_null}}
          - name: Ref
            data_categories: [user.unique_id]
            charter: {{erasure: random_token}}
          - name: Code
            data_categories: [user.unique_id]
            charter: {{erasure: keyed_hash}}
          - name: Full
            data_categories: [user.contact.email]
            charter: {{erasure: redact_text}}
      - name: Pairs
        fields:
          - name: A
            fides_meta: {{primary_key: true}}
          - name: B
          - name: Email
            data_categories: [user.contact.email]
            fides_meta: {{identity: email}}
            charter: {{erasure: keyed_hash}}
      - name: Orders
        fields:
          - name: Id
            fides_meta: {{primary_key: true}}
          - name: PersonCode
            data_categories: [user.unique_id]
            fides_meta:
              references: [{{dataset: crm, field: People.Code, direction: from}}]
            charter: {{erasure: keyed_hash}}
"""


def live_map(store: Store, write: Write) -> Path:
    namespace = f"    fides_meta: {{namespace: {{schema: {store.schema}}}}}\n" if store.schema else ""
    return write("crm.yaml", MAP.format(namespace=namespace))


def check_live(store: Store, path: Path, tmp_path: Path) -> service.Report:
    settings = Settings.load(env="test", home=tmp_path)
    return service.check_path(path, settings, live=True, env={"CRM_URL": store.url})


def test_each_rewrite_the_store_would_refuse_is_drift(store: Store, write: Write, tmp_path: Path) -> None:
    # P-RGT-3
    people_tables(store)
    path = live_map(store, write)
    report = check_live(store, path, tmp_path)
    assert report.of("error") == []
    drift = rendered(report, "drift")
    by_field = {line.split(": ", 2)[1]: line for line in drift}

    def about(field_path: str) -> str:
        assert field_path in by_field, drift
        return by_field[field_path]

    email = about("dataset[0].collections[0].fields[1].charter.erasure")
    assert email.startswith(f"{path}:")
    assert "keyed_hash writes 32 characters but column 'Email' is varchar(20) in 'crm'" in email
    assert "at least 32" in email
    note = about("dataset[0].collections[0].fields[3].charter.erasure")
    assert "redact_text writes 8 characters but column 'Note' is varchar(6)" in note
    assert "replacement of at most 6 characters" in note
    assert "NOT NULL" in about("dataset[0].collections[0].fields[4].charter.erasure")
    assert "column 'Ref' is uuid" in about("dataset[0].collections[0].fields[5].charter.erasure")
    full = about("dataset[0].collections[0].fields[7].charter.erasure")
    assert "column 'Full' is computed by the store" in full and "read_only" in full
    pairs = about("dataset[0].collections[1].fields[0].fides_meta.primary_key")
    assert "table 'Pairs' has a composite primary key (A, B) in 'crm'" in pairs and "delete_row" in pairs
    code = about("dataset[0].collections[0].fields[6].charter.erasure")
    assert "column 'Code', which the foreign key Orders.PersonCode refers to" in code
    fk = about("dataset[0].collections[2].fields[1].charter.erasure")
    assert "column 'PersonCode', which is a foreign key to People.Code" in fk
    # the token fits its varchar(30): nothing said about it
    assert "dataset[0].collections[0].fields[2].charter.erasure" not in by_field
    assert len(drift) == 8, drift
    assert report.exit_code() == 1


def test_a_map_the_store_can_take_is_clean(store: Store, write: Write, tmp_path: Path) -> None:
    q = store.q
    store.run(
        f"CREATE TABLE {store.table('Members')} ({q('MemberId')} integer PRIMARY KEY, {q('EmailAddress')} "
        f"varchar(64), {q('Nick')} varchar(8), {q('BirthDate')} date, {q('Phone')} varchar(40))"
    )
    namespace = f"    fides_meta: {{namespace: {{schema: {store.schema}}}}}\n" if store.schema else ""
    path = write(
        "crm.yaml",
        f"""\
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
            fides_meta: {{identity: email, length: 64}}
            charter: {{erasure: keyed_hash}}
          - name: Nick
            data_categories: [user.name]
            charter: {{erasure: redact_text}}
          - name: BirthDate
            data_categories: [user.demographic.date_of_birth]
            charter: {{erasure: generalize_date}}
          - name: Phone
            data_categories: [user.contact.phone_number]
            charter: {{erasure: set_null}}
""",
    )
    report = check_live(store, path, tmp_path)
    assert rendered(report) == [] and rendered(report, "drift") == []
    assert report.checked_systems == ["crm"]


FOREIGN_MAP = """\
systems: [{{id: crm, kind: sql, url_env: CRM_URL, datasets: [crm]}}]
dataset:
  - fides_key: crm
{namespace}    collections:
      - name: People
        fields:
          - name: Id
            fides_meta: {{primary_key: true}}
          - name: Email
            data_categories: [user.contact.email]
            fides_meta: {{identity: email}}
      - name: Referrals
{unfollowed}        fields:
          - name: Id
            fides_meta: {{primary_key: true}}
          - name: ReferrerId
            data_categories: [user.unique_id]
          - name: FriendEmail
            data_categories: [user.contact.email]
            fides_meta: {{identity: email}}
"""


def test_a_foreign_key_the_map_does_not_follow_can_be_acknowledged(store: Store, write: Write, tmp_path: Path) -> None:
    # P-RGT-1: a foreign key the map does not follow is a path requests do not take; saying so is deliberate
    q = store.q
    store.run(
        f"CREATE TABLE {store.table('People')} ({q('Id')} integer PRIMARY KEY, {q('Email')} varchar(64))",
        f"CREATE TABLE {store.table('Referrals')} ({q('Id')} integer PRIMARY KEY, {q('ReferrerId')} integer, "
        f"{q('FriendEmail')} varchar(64), FOREIGN KEY ({q('ReferrerId')}) REFERENCES {store.table('People')} "
        f"({q('Id')}))",
    )
    namespace = f"    fides_meta: {{namespace: {{schema: {store.schema}}}}}\n" if store.schema else ""
    path = write("crm.yaml", FOREIGN_MAP.format(namespace=namespace, unfollowed=""))
    [line] = [w for w in rendered(check_live(store, path, tmp_path), "warning") if "foreign key" in w]
    assert "dataset[0].collections[1].fields[1].name" in line
    assert "foreign key Referrals.ReferrerId → People.Id is not a reference in the map" in line
    assert "charter.unfollowed" in line
    acknowledged = "        charter: {unfollowed: [ReferrerId]}\n"
    path = write("crm.yaml", FOREIGN_MAP.format(namespace=namespace, unfollowed=acknowledged))
    report = check_live(store, path, tmp_path)
    assert [w for w in rendered(report, "warning") if "foreign key" in w] == []
    assert rendered(report) == [] and rendered(report, "drift") == []


def test_an_unfollowed_column_must_be_a_field(write: Write, check: Check) -> None:
    text = FOREIGN_MAP.format(namespace="", unfollowed="        charter: {unfollowed: [ReferrerID]}\n")
    [line] = rendered(check(write("crm.yaml", text)))
    assert "dataset[0].collections[1].charter.unfollowed[0]" in line
    assert "'ReferrerID' is not a field of 'crm.Referrals'; did you mean 'ReferrerId'?" in line
