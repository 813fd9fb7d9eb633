"""The model-based test of issue 11, "A certificate that cannot lie": random schemas, several people, three dialects.

Hypothesis draws a store (``model_schemas.worlds``: tables with mixed-case
names, references both ways, composite and missing keys, mixed-case and padded
e-mails, phones with separators, narrow columns, nested JSON, a catalogue
table) and the rows of 3–6 people, one of whom asks for access and then for
deletion through the real :class:`Runner`. What the store holds before and after
is read with plain SQL (SQLAlchemy Core ``select``), never with Charter's own
reading, and compared with the model of what is the target's:

* access (P-RGT-1): the package holds, for every collection searched, exactly
  the target's rows (compared on the fields the map declares);
* deletion (P-RGT-3): every other row is byte-identical; each of the target's rows
  is deleted or holds exactly its erasure (identity fields a 24-character token,
  personal fields null, keys and references as they were); no identifying value
  of the target (identity values compared as identities, user.* texts) remains
  anywhere; the certificate says ``verified`` exactly then, ``no_record_found``
  (never verified) when the target has no rows;
* a deletion that cannot be made right (a token into a column too narrow on a
  strict store, a rewrite of a table without a single marked key) fails and
  issues no certificate; a row arriving in the target's name after the erase
  (in the root, or in a child by the target's id) is caught.

Nested JSON is left as it is and the check warns about it (current behaviour,
asserted as such). What the model found Charter doing wrong is kept at the
end, each a shrunk example written out by hand, fixed since: a failing
deletion had already changed the store (two causes); the package held
undeclared columns; a collection reached only by the phone found on the
account was never searched; an e-mail padded with a tab was not matched;
equal rows of a table without a key reached the package as one. The
generator still keeps clear of the last three (spaces only, distinct rows,
no phone-only table); widening it is left for later.

More examples: ``CHARTER_MODEL_EXAMPLES=200``; what they exercised:
``--hypothesis-show-statistics``.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, Column, Engine, Table, create_engine, insert, select, text
from sqlalchemy.engine import make_url

from charter.connectors.sql import dispose_engines
from charter.datamap import service as datamaps
from charter.datamap.errors import DatamapInvalid
from charter.db import Database
from charter.errors import NotFound
from charter.execution import service
from charter.execution.certificate import certificate_of
from charter.execution.runner import Fault, Outcome, Runner
from charter.execution.steps import Action, Step
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.execution.conftest import approved, package_collections
from tests.execution.model_schemas import (
    DATASET,
    TOKEN,
    URL_ENV,
    Col,
    Mail,
    Person,
    Realized,
    Spec,
    Spelling,
    World,
    describe,
    digits,
    worlds,
)

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)
Snapshot = dict[str, list[dict[str, Any]]]
#: examples per backend; CHARTER_MODEL_EXAMPLES=200 explores further (each example is a store of its own)
EXAMPLES = {"sqlite": 30, "postgresql": 12, "mariadb": 12}
if os.environ.get("CHARTER_MODEL_EXAMPLES"):
    EXAMPLES = dict.fromkeys(EXAMPLES, int(os.environ["CHARTER_MODEL_EXAMPLES"]))


@dataclass
class Store:
    url: str
    schema: str | None
    engine: Engine
    realized: Realized

    def snapshot(self) -> Snapshot:
        """Every row of every table, read by plain SQL (not by Charter)."""
        with self.engine.connect() as conn:
            return {
                name: [dict(r) for r in conn.execute(select(table).order_by(*_orderable(table))).mappings()]
                for name, table in self.realized.tables.items()
            }


def _orderable(table: Table) -> list[Column[Any]]:
    """Every column but JSON ones (PostgreSQL's json has no ordering): a stable order of the rows."""
    return [c for c in table.c if not isinstance(c.type, JSON)]


@contextmanager
def store(backend: str, realized: Realized, folder: Path, admin_url: str | None) -> Iterator[Store]:
    """The world's tables and rows in a SQLite file, a PostgreSQL schema or a MariaDB database of their own."""
    schema: str | None = None
    tag = uuid.uuid4().hex[:8]
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'store.db'}"
    elif backend == "postgresql":
        assert admin_url is not None
        url, schema = admin_url, f"Model_{tag}"  # mixed case: quoted everywhere
        _admin(admin_url, f'CREATE SCHEMA "{schema}"')
    else:
        assert admin_url is not None
        _admin(admin_url, f"CREATE DATABASE `model_{tag}` CHARACTER SET utf8mb4")
        url = make_url(admin_url).set(database=f"model_{tag}").render_as_string(hide_password=False)
    engine = create_engine(url)
    if schema:
        engine = engine.execution_options(schema_translate_map={None: schema})
    try:
        realized.metadata.create_all(engine)
        with engine.begin() as conn:
            for table in realized.metadata.sorted_tables:
                if realized.rows[table.name]:
                    conn.execute(insert(table), realized.rows[table.name])
        yield Store(url, schema, engine, realized)
    finally:
        engine.dispose()
        dispose_engines()  # Charter's pooled connections to this store, before it is dropped
        if backend == "postgresql":
            _admin(str(admin_url), f'DROP SCHEMA "{schema}" CASCADE')
        elif backend == "mariadb":
            _admin(str(admin_url), f"DROP DATABASE IF EXISTS `model_{tag}`")


def _admin(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


# -- reading the results ---------------------------------------------------------


def _key(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True, default=str)


def _bag(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(_key(r) for r in rows)


def _declared(realized: Realized, name: str, row: dict[str, Any]) -> dict[str, Any]:
    """A row on the fields the map declares, JSON as its value (MariaDB's JSON is text to a reflected table)."""
    spec = realized.world.spec(name)
    out = {}
    for col in spec.columns:
        if col.kind == "extra":
            continue
        value = row.get(col.name)
        out[col.name] = json.loads(value) if col.kind == "json" and isinstance(value, str) else value
    return out


def _package(database: Database, config: Settings, vault: Vault, public_id: str) -> dict[str, list[dict[str, Any]]]:
    return package_collections(database, config.home, vault, public_id)


def _certificate(database: Database, public_id: str) -> dict[str, Any] | None:
    try:
        return certificate_of(database, public_id)
    except NotFound:
        return None


def _is_token(value: Any, original: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) == TOKEN
        and all(c in "0123456789abcdef" for c in value)
        and value != original
    )


def _remaining_identifying(realized: Realized, after: Snapshot) -> list[tuple[str, str, str]]:
    """Every text cell of every table that still holds one of the target's identifying values."""
    texts, phones = realized.identifying()
    found = []
    for name, rows in after.items():
        for row in rows:
            for column, value in row.items():
                if isinstance(value, str) and (value.strip().lower() in texts or digits(value) in phones):
                    found.append((name, column, value))
    return found


# -- the checks --------------------------------------------------------------------


def check_access(realized: Realized, found: dict[str, list[dict[str, Any]]]) -> None:
    """P-RGT-1: every collection searched is in the package with exactly the target's rows."""
    searched = {f"{DATASET}.{spec.name}": spec.name for spec in realized.searched()}
    assert set(found) == set(searched)
    for collection, name in searched.items():
        declared = set(realized.declared(realized.world.spec(name)))
        assert all(declared <= set(r) for r in found[collection]), collection
        got = [_declared(realized, name, r) for r in found[collection]]
        want = [_declared(realized, name, r) for r in realized.mine(name)]
        assert _bag(got) == _bag(want), collection


def check_others_untouched(realized: Realized, after: Snapshot) -> dict[str, list[dict[str, Any]]]:
    """P-RGT-3: every other person's row (and nobody's) is in the store byte for byte; returns what is left."""
    left: dict[str, list[dict[str, Any]]] = {}
    for name, rows in after.items():
        pool = list(rows)
        for row in realized.theirs(name):
            assert row in pool, (name, row)
            pool.remove(row)
        left[name] = pool
    return left


def check_erased(realized: Realized, after: Snapshot) -> None:
    """P-RGT-3: the target's rows are deleted or hold exactly their erasure; nothing identifying remains."""
    left = check_others_untouched(realized, after)
    for spec in realized.world.tables:
        expected = [(r, realized.erased(spec, r)) for r in realized.mine(spec.name)]
        kept = [(original, e) for original, e in expected if e is not None]
        assert len(left[spec.name]) == len(kept), (spec.name, left[spec.name])
        by_id = {r["Id"]: r for r in left[spec.name]} if kept else {}
        for original, erased in kept:
            now = by_id[original["Id"]]
            for column, value in erased.items():
                if value == TOKEN and original[column] is not None:
                    assert _is_token(now[column], original[column]), (spec.name, column, now[column])
                else:
                    assert now[column] == value, (spec.name, column, now[column], value)
    assert _remaining_identifying(realized, after) == []


def _runner(
    database: Database, config: Settings, vault: Vault, store: Store, folder: Path, fault: Fault | None = None
) -> Runner:
    datamap = service.load_datamap(config, store.realized.write_map(folder, store.schema))
    env = {URL_ENV: store.url}
    return Runner(database, config, vault, datamap, env=env, sleep=lambda _s: None, fault=fault)


def _late_arrival(store: Store, late: int) -> Fault:
    """A row in the target's name arrives just after its table's erase step: in the root table (another
    spelling of the target's e-mail) or in a child of the root (the target's account id in its owner column)."""
    realized = store.realized
    root = realized.world.tables[0]
    accounts = [r["Id"] for r in realized.mine(root.name)]
    children = [s for s in realized.world.tables if s.role == "child" and s.owner == root.name] if accounts else []
    spec = [root, *children][(late - 1) % (len(children) + 1)]
    values = {"Id": 9999, "eMail": f" {realized.target_email.upper()}"} if spec is root else {"Id": 9999}
    if spec is not root:
        values["OwnerId"] = accounts[0]
    table = realized.tables[spec.name]

    def arrive(where: str, step: Step) -> None:
        if where == "after" and step.action == Action.ERASE and step.collection == f"{DATASET}.{spec.name}":
            with store.engine.begin() as conn:
                conn.execute(insert(table).values(values))

    event(f"late row in the {spec.role}")
    return arrive


def check_world(
    world: World,
    late: int,
    backend: str,
    admin_url: str | None,
    database: Database,
    config: Settings,
    vault: Vault,
    tmp_path: Path,
) -> None:
    """One drawn world on one backend: the target asks for access (P-RGT-1), then for deletion (P-RGT-3)."""
    folder = tmp_path / uuid.uuid4().hex[:8]
    folder.mkdir()
    realized = world.realize(f"d{uuid.uuid4().hex[:6]}.io")
    for feature in realized.features():
        event(feature)
    with store(backend, realized, folder, admin_url) as made:
        before = made.snapshot()
        assert {n: _bag(rows) for n, rows in before.items()} == {n: _bag(r) for n, r in realized.rows.items()}

        try:
            service.load_datamap(config, realized.write_map(folder / "map", made.schema))
        except DatamapInvalid:  # a map no deletion can carry out may be refused whole, before any request runs
            event("map refused at load")
            assert realized.unkeyed_rewrite(), describe(world)
            return

        # access: read only, whatever the map's flaws for a deletion
        public_id = approved(database, config, vault, RequestKind.ACCESS, email=realized.typed)
        outcome = _runner(database, config, vault, made, folder / "map").run(public_id)
        assert outcome.status == "completed", outcome.error
        check_access(realized, _package(database, config, vault, public_id))
        assert made.snapshot() == before
        if any(c.kind == "json" for c in world.tables[0].columns):  # nested personal data: left, and warned
            report = datamaps.check_path(folder / "map", config)
            assert any("Profile.nick" in f.render() for f in report.of("warning"))

        public_id = approved(database, config, vault, RequestKind.DELETION, email=realized.typed)
        fault = _late_arrival(made, late) if late else None
        deleted = _runner(database, config, vault, made, folder / "map", fault).run(public_id)
        document = _certificate(database, public_id)
        judge_deletion(realized, backend != "sqlite", late, deleted, document, before, made.snapshot())


def judge_deletion(
    realized: Realized,
    strict: bool,
    late: int,
    deleted: Outcome,
    document: dict[str, Any] | None,
    before: Snapshot,
    after: Snapshot,
) -> None:
    """P-RGT-3: a certificate, ``verified`` exactly when the model's after-state holds; else a failure with none.

    A deletion that cannot be made right must fail, and leave everyone else's rows alone; one a careful runner
    could refuse up front may be refused. Either way a failure comes before *any* change to a store (the map
    refused at load, or the runner's pre-flight against the live tables), unless a row arrived mid-run."""
    event(f"deletion {deleted.status}" + (" (late row)" if late else ""))
    if deleted.status == "failed":
        assert document is None, "a failed deletion has no certificate"
        assert realized.may_refuse(strict) or late, (deleted, describe(realized.world))
        check_others_untouched(realized, after)
        if not late:  # issue 11: a run that cannot be made right fails before any store is changed (pre-flight)
            event("failed after changing the store" if after != before else "failed, store unchanged")
            assert after == before, f"a failed deletion changed the store:\n{describe(realized.world)}"
        return
    assert not realized.must_fail(strict), (
        f"a deletion that cannot be made right completed:\n{describe(realized.world)}"
    )
    assert not late, "a row in the target's name arrived after the erase, and the deletion was certified"
    assert deleted.status == "completed", deleted.error
    check_erased(realized, after)
    assert document is not None
    expected = "erased" if realized.found_anything() else "no_record_found"
    event(f"certificate: {expected}")
    assert document["outcome"] == expected
    assert document["verified"] is (expected == "erased")
    check_certificate(realized, document)


def check_certificate(realized: Realized, document: dict[str, Any]) -> None:
    """The certificate says what was done: per collection, the rows found and how each was erased; the
    catalogue as not searched."""
    mine = {f"{DATASET}.{spec.name}": len(realized.mine(spec.name)) for spec in realized.searched()}
    assert {s["collection"]: s["rows_found"] for s in document["searched"]} == mine
    done = {c["collection"]: c for c in document["collections"]}
    assert set(done) == set(mine)
    for spec in realized.searched():
        entry = done[f"{DATASET}.{spec.name}"]
        assert entry["rows_matched"] == len(realized.mine(spec.name))
        if spec.delete:
            assert entry["strategy"] == "delete_row"
            continue
        fields = {c.name: "random_token" for c in spec.columns if c.identity}
        fields |= {c.name: "set_null" for c in spec.columns if c.kind in ("text", "number")}
        assert entry["fields"] == fields, spec.name
    skipped = {n["collection"] for n in document["not_searched"]}
    assert skipped == {f"{DATASET}.{s.name}" for s in realized.world.tables if s.role == "catalogue"}


# -- the properties, per backend ---------------------------------------------------

_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
}
#: 0: no row arrives during the deletion; else which table one arrives in (``_late_arrival``)
lates = st.sampled_from([0, 0, 0, 0, 0, 0, 1, 2])


@settings(max_examples=EXAMPLES["sqlite"], **_SETTINGS)
@given(world=worlds(), late=lates)
def test_requests_on_random_schemas_sqlite(
    world: World, late: int, database: Database, config: Settings, vault: Vault, tmp_path: Path
) -> None:
    """P-RGT-1, P-RGT-3 on SQLite (widths not enforced: a narrow column takes the token)."""
    check_world(world, late, "sqlite", None, database, config, vault, tmp_path)


@settings(max_examples=EXAMPLES["postgresql"], **_SETTINGS)
@given(world=worlds(), late=lates)
def test_requests_on_random_schemas_postgresql(
    world: World,
    late: int,
    database: Database,
    config: Settings,
    vault: Vault,
    tmp_path: Path,
    postgres_url: str,
) -> None:
    """P-RGT-1, P-RGT-3 on PostgreSQL, in a mixed-case schema of each example's own."""
    check_world(world, late, "postgresql", postgres_url, database, config, vault, tmp_path)


@settings(max_examples=EXAMPLES["mariadb"], **_SETTINGS)
@given(world=worlds(), late=lates)
def test_requests_on_random_schemas_mariadb(
    world: World,
    late: int,
    database: Database,
    config: Settings,
    vault: Vault,
    tmp_path: Path,
    mariadb_url: str,
) -> None:
    """P-RGT-1, P-RGT-3 on MariaDB (strict mode), in a database of each example's own."""
    check_world(world, late, "mariadb", mariadb_url, database, config, vault, tmp_path)


# -- examples the model found, shrunk and written out (each failed before its fix) -------------------------

ANA, BEN = Person(1, "ana1", "14155550110"), Person(2, "ben2", "14155550220")
#: a hand-written table's rows, each with its owner (a person's number, None for nobody's)
HandRows = list[tuple[int | None, dict[str, Any]]]
PLAIN = Spelling((False, True), 1, 0)


def _customer(*extra: Col, mail: Col | None = None) -> Spec:
    mail = mail or Col("eMail", "email", width=64, category="user.contact.email")
    return Spec("Customer", "root", (Col("Id", "id", key=True), mail, Col("FullName", "text", 40, "user.name"), *extra))


def _hand(tables: list[Spec], rows: dict[str, HandRows]) -> World:
    """A world written out by hand (a shrunk example, made readable)."""
    world = World(tables, [ANA, BEN], target=1, typed=Spelling((False,), 0, 0))
    for spec in tables:
        world.rows[spec.name] = [row for _, row in rows.get(spec.name, [])]
        world.owners[spec.name] = [owner for owner, _ in rows.get(spec.name, [])]
    return world


def _people_rows(**extra: Any) -> HandRows:
    return [
        (1, {"Id": 1, "eMail": Mail("ana1", PLAIN), "FullName": "Ana Costa"} | extra.get("ana", {})),
        (2, {"Id": 2, "eMail": Mail("ben2", PLAIN), "FullName": "Ben Brandt"} | extra.get("ben", {})),
    ]


ORDER = Spec(
    "Order",
    "child",
    (Col("Id", "id", key=True), Col("OwnerId", "owner", points_to="Customer"), Col("Note", "text", 60, "user.content")),
    owner="Customer",
)
ORDERS: HandRows = [
    (1, {"Id": 101, "OwnerId": 1, "Note": "for Ana's mother"}),
    (2, {"Id": 102, "OwnerId": 2, "Note": "Ben's"}),
]


def _deletion(
    backend: str,
    world: World,
    admin_url: str | None,
    database: Database,
    config: Settings,
    vault: Vault,
    tmp_path: Path,
) -> tuple[Outcome, Snapshot, Snapshot, dict[str, Any] | None, Realized]:
    realized = world.realize(f"d{uuid.uuid4().hex[:6]}.io")
    with store(backend, realized, tmp_path, admin_url) as made:
        before = made.snapshot()
        public_id = approved(database, config, vault, RequestKind.DELETION, email=realized.typed)
        outcome = _runner(database, config, vault, made, tmp_path / "map").run(public_id)
        return outcome, before, made.snapshot(), _certificate(database, public_id), realized


def test_a_child_with_its_own_e_mail_is_still_searched_by_its_owner_s_id(
    database: Database, config: Settings, vault: Vault, tmp_path: Path
) -> None:
    """P-RGT-1, P-RGT-3: an order carries a contact e-mail (an identity) and its owner's id (a reference from the
    account). Each of the person's orders is theirs, also the one without the e-mail: found by the owner's id.
    Shrunk from the model on main after 8a9141f (identities linked across collections): the account and the
    orders then form one component of the traversal, both at depth 0, and the order was searched by e-mail only."""
    contact = Col("ContactMail", "email", 64, "user.contact.email")
    order = replace(ORDER, columns=(*ORDER.columns, contact))
    orders: HandRows = [
        (1, {"Id": 101, "OwnerId": 1, "Note": "for Ana's mother", "ContactMail": Mail("ana1", PLAIN)}),
        (1, {"Id": 102, "OwnerId": 1, "Note": "by phone", "ContactMail": None}),
        (2, {"Id": 103, "OwnerId": 2, "Note": "Ben's", "ContactMail": Mail("ben2", PLAIN)}),
    ]
    world = _hand([_customer(), order], {"Customer": _people_rows(), "Order": orders})
    realized = world.realize(f"d{uuid.uuid4().hex[:6]}.io")
    with store("sqlite", realized, tmp_path, None) as made:
        public_id = approved(database, config, vault, RequestKind.ACCESS, email=realized.typed)
        outcome = _runner(database, config, vault, made, tmp_path / "map").run(public_id)
        assert outcome.status == "completed", outcome.error
        check_access(realized, _package(database, config, vault, public_id))
        public_id = approved(database, config, vault, RequestKind.DELETION, email=realized.typed)
        deleted = _runner(database, config, vault, made, tmp_path / "map").run(public_id)
        after = made.snapshot()
    assert deleted.status == "completed", deleted.error
    check_erased(realized, after)
    document = _certificate(database, public_id)
    assert document is not None and document["verified"] is True
    check_certificate(realized, document)


def test_a_deletion_that_cannot_be_made_right_changes_nothing_sqlite(
    database: Database, config: Settings, vault: Vault, tmp_path: Path
) -> None:
    """Done-when of issue 11: a run that cannot be made right fails before any store is changed (P-RGT-3)."""
    prefs = Spec(
        "PrefsByChannel",
        "composite",
        (
            Col("OwnerId", "owner", points_to="Customer", key=True),
            Col("Seq", "seq", key=True),
            Col("Setting", "text", 40, "user.content"),
        ),
        owner="Customer",
    )
    world = _hand(
        [_customer(), ORDER, prefs],
        {
            "Customer": _people_rows(),
            "Order": ORDERS,
            "PrefsByChannel": [
                (1, {"OwnerId": 1, "Seq": 1, "Setting": "sms"}),
                (2, {"OwnerId": 2, "Seq": 1, "Setting": "x"}),
            ],
        },
    )
    try:
        outcome, before, after, document, _ = _deletion("sqlite", world, None, database, config, vault, tmp_path)
    except DatamapInvalid:
        return  # the map refused whole when loaded (as on main since the check refuses key shapes): nothing ran
    assert outcome.status == "failed" and document is None
    assert after == before  # the map is refused at load: nothing runs


def test_a_token_that_cannot_fit_changes_nothing_postgresql(
    database: Database, config: Settings, vault: Vault, tmp_path: Path, postgres_url: str
) -> None:
    """Done-when of issue 11: a run that cannot be made right fails before any store is changed (P-RGT-3)."""
    narrow = Col("eMail", "email", category="user.contact.email", narrow=True)
    world = _hand([_customer(mail=narrow), ORDER], {"Customer": _people_rows(), "Order": ORDERS})
    outcome, before, after, document, realized = _deletion(
        "postgresql", world, postgres_url, database, config, vault, tmp_path
    )
    assert realized.widths[("Customer", "eMail")] < TOKEN
    assert outcome.status == "failed" and document is None
    assert after == before  # the pre-flight refused the run before any erase


def test_the_package_holds_only_the_declared_fields(
    database: Database, config: Settings, vault: Vault, tmp_path: Path
) -> None:
    """Done-when of issue 11: the package holds exactly the person's declared fields (P-RGT-1)."""
    world = _hand(
        [_customer(Col("PasswordHash", "extra", width=64))],
        {"Customer": _people_rows(ana={"PasswordHash": "pbkdf2$ana"}, ben={"PasswordHash": "pbkdf2$ben"})},
    )
    realized = world.realize(f"d{uuid.uuid4().hex[:6]}.io")
    with store("sqlite", realized, tmp_path, None) as made:
        public_id = approved(database, config, vault, RequestKind.ACCESS, email=realized.typed)
        outcome = _runner(database, config, vault, made, tmp_path / "map").run(public_id)
    assert outcome.status == "completed", outcome.error
    [row] = _package(database, config, vault, public_id)[f"{DATASET}.Customer"]
    assert set(row) == {"Id", "eMail", "FullName"}  # never the PasswordHash the map leaves out


def test_a_phone_found_on_the_account_reaches_the_sms_log(
    database: Database, config: Settings, vault: Vault, tmp_path: Path
) -> None:
    """Done-when of issue 11: several identity kinds; no identifying value remains, or no "verified" (P-RGT-3)."""
    phone = Col("PhoneNo", "phone", 32, "user.contact.phone_number")
    sms = Spec(
        "SmsLog",
        "log",
        (Col("Phone", "phone", 32, "user.contact.phone_number"), Col("Body", "text", 60, "user.content")),
        delete=True,
    )
    world = _hand(
        [_customer(phone), sms],
        {
            "Customer": _people_rows(ana={"PhoneNo": "+1 415 555 0110"}, ben={"PhoneNo": "+1 415 555 0220"}),
            "SmsLog": [
                (1, {"Phone": "+1 (415) 555.0110", "Body": "code 1234"}),
                (2, {"Phone": "+14155550220", "Body": "hi"}),
            ],
        },
    )
    outcome, _, after, document, realized = _deletion("sqlite", world, None, database, config, vault, tmp_path)
    assert outcome.status == "completed", outcome.error
    assert document is not None
    remaining = _remaining_identifying(realized, after)
    assert not (document["verified"] and remaining), remaining  # SmsLog is searched by the phone on her row


def test_an_e_mail_padded_with_a_tab_is_the_person_s(
    database: Database, config: Settings, vault: Vault, tmp_path: Path
) -> None:
    """Done-when of issue 11: padded identities; no identifying value remains, or no "verified" (P-RGT-3)."""
    log = Spec("VisitLog", "log", (Col("Mail", "email", 64, "user.contact.email"), Col("SeenAt", "plain")), delete=True)
    world = _hand(
        [_customer(), log],
        {
            "Customer": _people_rows(),
            "VisitLog": [(1, {"Mail": Mail("ana1", Spelling((True,), 1, 0, "\t")), "SeenAt": 1})],
        },
    )
    outcome, _, after, document, realized = _deletion("sqlite", world, None, database, config, vault, tmp_path)
    assert outcome.status == "completed", outcome.error
    assert document is not None
    remaining = _remaining_identifying(realized, after)
    assert not (document["verified"] and remaining), remaining  # the tab-padded address is found and erased


def test_equal_rows_without_a_key_all_reach_the_package(
    database: Database, config: Settings, vault: Vault, tmp_path: Path
) -> None:
    """Done-when of issue 11: the package holds exactly the person's rows (P-RGT-1)."""
    agent = Col("Agent", "text", 60, "user.behavior")
    log = Spec(
        "VisitLog",
        "log",
        (Col("OwnerId", "owner", points_to="Customer"), agent, Col("SeenAt", "plain")),
        delete=True,
        owner="Customer",
    )
    visit = {"OwnerId": 1, "Agent": "Firefox 128", "SeenAt": 7}
    world = _hand([_customer(), log], {"Customer": _people_rows(), "VisitLog": [(1, dict(visit)), (1, dict(visit))]})
    realized = world.realize(f"d{uuid.uuid4().hex[:6]}.io")
    with store("sqlite", realized, tmp_path, None) as made:
        public_id = approved(database, config, vault, RequestKind.ACCESS, email=realized.typed)
        outcome = _runner(database, config, vault, made, tmp_path / "map").run(public_id)
    assert outcome.status == "completed", outcome.error
    assert len(_package(database, config, vault, public_id)[f"{DATASET}.VisitLog"]) == 2  # both identical visits
