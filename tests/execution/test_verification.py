"""Verification searches every identity value discovery found, not only the one asked with (issue 11, finding 3).

A value found on the person's rows elsewhere (the work address on a support ticket) is theirs: an account under
it that remains after the erasure means the person is still identifiable, so no certificate (P-RGT-3). The
request's own address, the rows read again by key and the discovery's search again would all pass here: only
the search by every found value catches it.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, create_engine, insert

from charter.db import Database
from charter.execution import service
from charter.execution.runner import Runner
from charter.execution.steps import Action, Step
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.execution.conftest import approved

metadata = MetaData()
account = Table("account", metadata, Column("id", Integer, primary_key=True), Column("email", String(120)))
ticket = Table(
    "ticket",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("account.id")),
    Column("email", String(120)),
)
MAP = """\
systems: [{id: desk, kind: sql, url_env: DESK_URL, datasets: [desk]}]
dataset:
  - fides_key: desk
    collections:
      - name: account
        fields:
          - {name: id, fides_meta: {primary_key: true}}
          - {name: email, data_categories: [user.contact.email], fides_meta: {identity: email}}
      - name: ticket
        fides_meta: {masking_strategy_override: {strategy: delete}}
        fields:
          - {name: id, fides_meta: {primary_key: true}}
          - name: account_id
            fides_meta: {references: [{dataset: desk, field: account.id, direction: from}]}
          - {name: email, data_categories: [user.contact.email], fides_meta: {identity: email}}
"""
ANA, WORK = "ana@example.org", "ana.work@example.org"


def test_an_account_under_an_address_found_on_her_ticket_stops_the_certificate(
    database: Database, config: Settings, vault: Vault, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(account), [{"id": 1, "email": ANA}, {"id": 2, "email": "ben@example.org"}])
        conn.execute(insert(ticket), [{"id": 10, "account_id": 1, "email": WORK}])
    (tmp_path / "map").mkdir()
    (tmp_path / "map" / "desk.yaml").write_text(MAP)
    datamap = service.load_datamap(config, tmp_path / "map")

    def opens_an_account(where: str, step: Step) -> None:  # after the erasure, before its verification
        if where == "after" and step.action == Action.ERASE and step.collection == "desk.account":
            with engine.begin() as conn:
                conn.execute(insert(account).values(id=3, email=WORK.upper()))

    public_id = approved(database, config, vault, RequestKind.DELETION, email=ANA)
    runner = Runner(
        database, config, vault, datamap, env={"DESK_URL": url}, sleep=lambda _s: None, fault=opens_an_account
    )
    outcome = runner.run(public_id)
    engine.dispose()
    assert outcome.status == "failed" and outcome.error is not None
    assert "desk.account" in outcome.error and "email still holds the person's email" in outcome.error


def test_a_ticket_filed_under_her_account_after_the_erasure_stops_the_certificate(
    database: Database, config: Settings, vault: Vault, tmp_path: Path
) -> None:
    """No identity in the row, only her account's id: the discovery's own search again finds it (P-RGT-3)."""
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(account), [{"id": 1, "email": ANA}])
        conn.execute(insert(ticket), [{"id": 10, "account_id": 1, "email": None}])
    (tmp_path / "map").mkdir()
    (tmp_path / "map" / "desk.yaml").write_text(MAP)
    datamap = service.load_datamap(config, tmp_path / "map")

    def files_a_ticket(where: str, step: Step) -> None:
        if where == "after" and step.action == Action.ERASE and step.collection == "desk.ticket":
            with engine.begin() as conn:
                conn.execute(insert(ticket).values(id=11, account_id=1, email=None))

    public_id = approved(database, config, vault, RequestKind.DELETION, email=ANA)
    runner = Runner(
        database, config, vault, datamap, env={"DESK_URL": url}, sleep=lambda _s: None, fault=files_a_ticket
    )
    outcome = runner.run(public_id)
    engine.dispose()
    assert outcome.status == "failed" and outcome.error is not None
    assert "desk.ticket" in outcome.error and "found again by account_id" in outcome.error
