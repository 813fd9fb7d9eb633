"""Requests on a store nobody on the project designed for: Fides-style datasets, mixed-case e-mails, three dialects.

Issue 11. Each test here failed before its fix; results are checked with plain
SQL against the store (``Store.snapshot``), never with Charter's own reading.
Promises: P-RGT-1 (access: every row of the person), P-RGT-3 (deletion: every
identifying value gone, every other row untouched, and a certificate only when
that holds).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from charter.connectors.base import Miscounted
from charter.connectors.sql_queue import QueuedWrites
from charter.db import Database
from charter.execution import claims, service
from charter.execution.certificate import certificate_of
from charter.execution.models import ExecutionRun
from charter.execution.runner import Runner
from charter.execution.steps import Action, Step
from charter.requests import notices
from charter.requests.kinds import RequestKind
from charter.requests.models import RequestNotice
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.execution import fides_style
from tests.execution.conftest import approved, read_package

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[fides_style.Store]:
    admin = None
    if request.param == "postgresql":
        admin = request.getfixturevalue("postgres_url")
    elif request.param == "mariadb":
        admin = request.getfixturevalue("mariadb_url")
    with fides_style.store(request.param, tmp_path, admin_url=admin) as made:
        yield made


def _runner(database: Database, config: Settings, vault: Vault, store: fides_style.Store, folder: Path) -> Runner:
    datamap = service.load_datamap(config, fides_style.write_map(folder, store.schema))
    return Runner(database, config, vault, datamap, env={"FIDES_STYLE_URL": store.url}, sleep=lambda _s: None)


def _anas(snapshot: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Ana's rows by independent reading: her customer row by e-mail in any case, and what points at it."""
    [me] = [r for r in snapshot["customer"] if r["email"].strip().lower() == fides_style.ANA]
    return {
        "customer": [me],
        "address": [r for r in snapshot["address"] if r["id"] in {me["address_id"], 201, 301}],
        "payment_card": [r for r in snapshot["payment_card"] if r["customer_id"] == me["id"]],
        "orders": [r for r in snapshot["orders"] if r["customer_id"] == me["id"]],
        "login": [r for r in snapshot["login"] if r["customer_id"] == me["id"]],
        "visit": [r for r in snapshot["visit"] if r["email"].strip().lower() == fides_style.ANA],
        "sms_optin": [r for r in snapshot["sms_optin"] if r["msisdn"] == "15125550101"],
    }


def _values(rows: dict[str, list[dict[str, Any]]], *names: str) -> set[str]:
    return {str(r[n]).strip().lower() for table in rows.values() for r in table for n in names if r.get(n)}


def test_a_fides_style_map_checks_clean_against_the_live_store(
    config: Settings, store: fides_style.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from charter.datamap import service as datamaps

    monkeypatch.setenv("FIDES_STYLE_URL", store.url)
    report = datamaps.check_path(fides_style.write_map(tmp_path / "map", store.schema), config, live=True)
    assert [f.render() for f in report.findings if f.severity in ("error", "drift")] == []


def test_deletion_by_category_erases_the_person_and_nothing_else(
    database: Database, config: Settings, vault: Vault, store: fides_style.Store, tmp_path: Path
) -> None:
    """Finding 1: no charter: keys, categories only. Before: nothing changed, yet "verified" (P-RGT-3)."""
    before = store.snapshot()
    mine = _anas(before)
    identifying = _values(mine, "email", "name", "street", "ccn", "phone", "msisdn") | {fides_style.ANA}
    public_id = approved(database, config, vault, RequestKind.DELETION, email=fides_style.ANA)
    outcome = _runner(database, config, vault, store, tmp_path / "map").run(public_id)
    assert outcome.status == "completed", outcome.error
    after = store.snapshot()
    # no identifying value of hers is left in any text column of any table (independent SQL reading)
    for table, found in after.items():
        for row in found:
            held = {str(v).strip().lower() for v in row.values() if isinstance(v, str)}
            assert not held & identifying, (table, held & identifying)
    # her rows: the visit log rows (any case) are deleted; her personal fields are null or a token
    assert not [r for r in after["visit"] if r["email"].strip().lower() == fides_style.ANA]
    [me] = [r for r in after["customer"] if r["id"] == fides_style.ANA_ID]
    assert me["name"] is None and len(me["email"]) == 24 and me["created"] == mine["customer"][0]["created"]
    assert all(r["name"] is None and r["ccn"] is None for r in after["payment_card"] if r["customer_id"] == 1)
    # every other row is byte-identical
    for table, found in before.items():
        theirs = [r for r in found if r not in mine[table]]
        assert all(r in after[table] for r in theirs), table
    document = certificate_of(database, public_id)
    assert document["outcome"] == "erased" and document["verified"] is True
    erased = {c["collection"]: c for c in document["collections"]}
    assert erased["fides_style_db.visit"]["strategy"] == "delete_row"
    assert erased["fides_style_db.customer"]["fields"] == {
        "email": "random_token",
        "name": "set_null",
        "phone": "random_token",
    }
    # finding 7: the SMS system, keyed on her phone in another format and referenced by nothing
    assert erased["fides_style_db.sms_optin"]["rows_matched"] == 1
    assert erased["fides_style_db.customer"]["rows_checked"] == 1


def test_access_finds_every_row_whatever_the_case_of_the_e_mail(
    database: Database, config: Settings, vault: Vault, store: fides_style.Store, tmp_path: Path
) -> None:
    """Finding 2: PostgreSQL compared case-sensitively, so half of Ana's rows were missing (P-RGT-1)."""
    mine = _anas(store.snapshot())
    public_id = approved(database, config, vault, RequestKind.ACCESS, email=fides_style.ANA)
    outcome = _runner(database, config, vault, store, tmp_path / "map").run(public_id)
    assert outcome.status == "completed", outcome.error
    archive = zipfile.ZipFile(io.BytesIO(read_package(database, config.home, vault, public_id)))
    found = {c["collection"]: c["rows"] for c in json.loads(archive.read("package.json"))["collections"]}
    assert [r["id"] for r in found["fides_style_db.customer"]] == [fides_style.ANA_ID]
    assert sorted(r["email"] for r in found["fides_style_db.visit"]) == sorted(r["email"] for r in mine["visit"])
    assert len(mine["visit"]) == 2  # one in upper case, one as she typed it
    assert sorted(r["id"] for r in found["fides_style_db.payment_card"]) == ["card-1-0", "card-1-1"]
    # finding 6: the addresses only her second order and card point at are hers too
    assert sorted(r["id"] for r in found["fides_style_db.address"]) == [101, 201, 301]
    # finding 7: the phone on her own row finds the SMS opt-in kept under its digits alone
    assert [r["id"] for r in found["fides_style_db.sms_optin"]] == [501]


def test_verification_reads_the_rows_again_by_key_and_catches_a_wrong_value(
    database: Database, config: Settings, vault: Vault, store: fides_style.Store, tmp_path: Path
) -> None:
    """Finding 3: the old verify searched by the requested e-mail; once it was rewritten it found nothing and
    passed whatever the row held. Here the e-mail is cut short after the erase (as a non-strict session would):
    the row is read again by its key, the value is not the erasure, and no certificate is issued (P-RGT-3)."""

    def truncate(where: str, step: Step) -> None:
        if where == "after" and step.action == Action.ERASE and step.collection == "fides_style_db.customer":
            table = fides_style.customer
            with store.engine.begin() as conn:
                conn.execute(update(table).where(table.c.id == 1).values(email=func.substr(table.c.email, 1, 12)))

    public_id = approved(database, config, vault, RequestKind.DELETION, email=fides_style.ANA)
    runner = _runner(database, config, vault, store, tmp_path / "map")
    runner.fault = truncate
    outcome = runner.run(public_id)
    assert outcome.status == "failed"
    assert outcome.error is not None and "email" in outcome.error and "do not hold their erasure" in outcome.error
    with pytest.raises(Exception, match="no certificate"):
        certificate_of(database, public_id)


def test_verification_searches_every_identity_value_discovery_found(
    database: Database, config: Settings, vault: Vault, store: fides_style.Store, tmp_path: Path
) -> None:
    """Finding 3: a visit row in yet another spelling of her e-mail arrives after the erase; the search by
    every identity value (case-insensitive) finds it and the deletion is not certified (P-RGT-3)."""

    def arrives(where: str, step: Step) -> None:
        if where == "after" and step.action == Action.ERASE and step.collection == "fides_style_db.visit":
            with store.engine.begin() as conn:
                conn.execute(fides_style.visit.insert().values(email=" ANA.costa@example.com", last_visit=None))

    public_id = approved(database, config, vault, RequestKind.DELETION, email=fides_style.ANA)
    runner = _runner(database, config, vault, store, tmp_path / "map")
    runner.fault = arrives
    outcome = runner.run(public_id)
    assert outcome.status == "failed" and outcome.error is not None
    assert "still identifies the requester" in outcome.error


def test_nobody_found_is_its_own_outcome_never_verified(
    database: Database, config: Settings, vault: Vault, store: fides_style.Store, tmp_path: Path
) -> None:
    """Finding 8: 0 rows everywhere used to say "verified" and e-mail "It is done" (P-RGT-3, P-RGT-1)."""
    before = store.snapshot()
    public_id = approved(database, config, vault, RequestKind.DELETION, email="nobody@example.net")
    outcome = _runner(database, config, vault, store, tmp_path / "map").run(public_id)
    assert outcome.status == "completed", outcome.error
    assert store.snapshot() == before
    document = certificate_of(database, public_id)
    assert document["outcome"] == "no_record_found" and document["verified"] is False
    assert {s["rows_found"] for s in document["searched"]} == {0}
    with database.session() as session:
        [notice] = [
            n
            for n in session.query(RequestNotice).all()
            if n.kind == notices.COMPLETED and n.request_id == _row_id(database, public_id)
        ]
        assert notice.note == notices.NOTHING_FOUND
        from charter.requests import review

        body = notices.body(session, review.get(session, public_id), notice.kind, notice.note, config)
    assert "It is done" not in body and "found none about you" in body


def _row_id(database: Database, public_id: str) -> int:
    from charter.requests import review

    with database.session() as session:
        return review.get(session, public_id).id


def test_a_deletion_that_cannot_be_written_fails_before_any_store_changes(
    database: Database, config: Settings, vault: Vault, store: fides_style.Store, tmp_path: Path
) -> None:
    """Done when (issue 11): a run that cannot be made right fails before any store is changed (P-RGT-3).
    Here the shop made a personal column NOT NULL after the map was written: nulling it would fail half-way."""
    if store.engine.dialect.name == "sqlite":
        pytest.skip("SQLite cannot add NOT NULL to an existing column; PostgreSQL and MariaDB show it")
    with store.engine.begin() as conn:
        quote = conn.dialect.identifier_preparer.quote
        table = f"{quote(store.schema)}.payment_card" if store.schema else "payment_card"
        alter = "MODIFY name VARCHAR(80) NOT NULL" if conn.dialect.name != "postgresql" else "ALTER name SET NOT NULL"
        conn.execute(text(f"ALTER TABLE {table} {alter}"))
    before = store.snapshot()
    public_id = approved(database, config, vault, RequestKind.DELETION, email=fides_style.ANA)
    outcome = _runner(database, config, vault, store, tmp_path / "map").run(public_id)
    assert outcome.status == "failed" and outcome.error is not None
    assert "fides_style_db.payment_card.name: set_null on a NOT NULL column" in outcome.error
    assert "nothing was changed" in outcome.error
    assert store.snapshot() == before
    with database.session() as session:  # and nothing is shown as under way: the steps claimed are given back
        run = session.scalars(select(ExecutionRun)).one()
        assert {s.status for s in claims.steps_of(session, run.id)} == {claims.PENDING}


@pytest.mark.parametrize("pipeline", ["together", "fails"])
def test_a_layers_reads_go_together_where_the_store_can_and_one_by_one_otherwise(
    database: Database,
    config: Settings,
    vault: Vault,
    store: fides_style.Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pipeline: str,
) -> None:
    """P-RGT-1, P-RGT-3: on PostgreSQL a layer's fetches and the verifications are read in one round trip
    (``read_ahead``); whether that happens, or fails and the steps read one by one, the package and the
    certificate are the same."""
    from charter.connectors.sql import SqlConnector

    sent: list[int] = []
    original = SqlConnector.read_many

    def read_many(self: SqlConnector, reads: Any) -> Any:
        sent.append(len(reads))
        return None if pipeline == "fails" else original(self, reads)

    monkeypatch.setattr(SqlConnector, "read_many", read_many)
    access = approved(database, config, vault, RequestKind.ACCESS, email=fides_style.ANA)
    assert _runner(database, config, vault, store, tmp_path / "a").run(access).status == "completed"
    deletion = approved(database, config, vault, RequestKind.DELETION, email=fides_style.ANA)
    outcome = _runner(database, config, vault, store, tmp_path / "d").run(deletion)
    assert outcome.status == "completed", outcome.error
    document = certificate_of(database, deletion)
    assert document["outcome"] == "erased" and document["verified"] is True
    assert all(c["rows_checked"] == c["rows_matched"] for c in document["collections"] if c.get("fields"))
    assert sent and max(sent) > 2  # several reads offered together (every backend is asked; only PostgreSQL can)


def test_a_row_gone_since_the_discovery_is_counted_as_the_store_counts_it(
    database: Database,
    config: Settings,
    vault: Vault,
    store: fides_style.Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One of her payment cards is deleted by someone else between the discovery and the erasure. On PostgreSQL
    the batch's writes by key were queued with the counts the discovery found; the UPDATE changes one row fewer,
    so nothing is committed and the batch is written again one statement at a time: the certificate says what
    the store did (one row fewer affected than matched), and she is erased (P-RGT-3)."""
    gone: list[str] = []

    def meanwhile(where: str, step: Step) -> None:
        if where == "before" and step.action == Action.ERASE and not gone:
            table = fides_style.payment_card
            with store.engine.begin() as conn:
                conn.execute(table.delete().where(table.c.id == "card-1-1"))
            gone.append("card-1-1")

    miscounted: list[str] = []
    send = QueuedWrites.send

    def watched(self: QueuedWrites) -> None:
        try:
            send(self)
        except Miscounted as exc:
            miscounted.append(str(exc))
            raise

    monkeypatch.setattr(QueuedWrites, "send", watched)
    public_id = approved(database, config, vault, RequestKind.DELETION, email=fides_style.ANA)
    runner = _runner(database, config, vault, store, tmp_path / "map")
    runner.fault = meanwhile
    outcome = runner.run(public_id)
    assert outcome.status == "completed", outcome.error
    assert len(miscounted) == (1 if store.url.startswith("postgresql") else 0)  # queued only on PostgreSQL
    cards = [r for r in store.snapshot()["payment_card"] if r["customer_id"] == fides_style.ANA_ID]
    assert [(r["id"], r["name"], r["ccn"]) for r in cards] == [("card-1-0", None, None)]
    document = certificate_of(database, public_id)
    erased = {c["collection"]: c for c in document["collections"]}["fides_style_db.payment_card"]
    assert (erased["rows_matched"], erased["rows_affected"]) == (2, 1)
    assert document["verified"] is True
