"""A failed run is a state the office acts on: permanent errors fail at once, transient ones are waited out, and a
failed request is retried (done steps kept) or given up with a reason the requester is sent.

Promises: P-RGT-3 (a deletion finished after its cause is fixed, each erasure done and audited once, certified),
P-RGT-8 (the request is answered within the deadline — a failed one is still open, its deadline running — and the
organization can show what was done: the run step by step, the audit log).
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from charter.audit.models import AuditEntry
from charter.connectors.base import StoreRefused
from charter.datamap.model import DataMap
from charter.db import Database
from charter.db.base import utcnow
from charter.demo import stores
from charter.errors import Unavailable
from charter.execution import claims, retry, service
from charter.execution.certificate import certificate_of
from charter.execution.models import ExecutionRun, ExecutionStep
from charter.execution.runner import Runner
from charter.execution.steps import Action, Step
from charter.requests import notices, queue, review
from charter.requests.kinds import RequestKind, Status
from charter.requests.models import RequestNotice
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.execution.conftest import ANA, DATAMAP, approved, table
from tests.requests.conftest import Recorder

MakeRunner = Callable[..., Runner]
SYSTEMS = """
systems:
  - id: shop
    kind: sql
    url_env: WEST_SHOP_URL
    datasets: [west_shop]
  - id: support
    kind: sql
    url: sqlite:///support.db
    datasets: [west_support]
"""


class Clock:
    """Time that passes only when the runner sleeps: a window of minutes is tested in no time."""

    def __init__(self) -> None:
        self.now = utcnow()
        self.waits: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += timedelta(seconds=seconds)


def _steps(database: Database, public_id: str) -> dict[str, ExecutionStep]:
    with database.session() as session:
        run = claims.run_of(session, review.get(session, public_id).id)
        assert run is not None
        return {s.step_id: s for s in claims.steps_of(session, run.id)}


def _status(database: Database, public_id: str) -> str:
    with database.session() as session:
        return review.get(session, public_id).status


def _erase_audits(database: Database, public_id: str) -> Counter[str]:
    with database.session() as session:
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.target == f"request:{public_id}", AuditEntry.action == "execution.erase"
            )
        )
        return Counter(str((e.data or {}).get("step")) for e in entries)


def _mail(database: Database, config: Settings, vault: Vault, public_id: str) -> list[str]:
    """Send the request's pending e-mails; the texts of those sent now."""
    recorder = Recorder()
    notices.deliver(database, recorder, vault=vault, settings=config, public_id=public_id)
    return recorder.texts()


@pytest.fixture
def url_map(config: Settings, tmp_path: Path) -> DataMap:
    """The West map with the shop's URL in WEST_SHOP_URL (the office fixes a wrong one there)."""
    folder = tmp_path / "url-map"
    shutil.copytree(DATAMAP / "datasets", folder / "datasets")
    (folder / "systems.yaml").write_text(SYSTEMS)
    return service.load_datamap(config, folder)


@pytest.fixture
def wrong_login(request: pytest.FixtureRequest) -> str:
    """A URL the server refuses the login of: MariaDB a wrong password (1045); PostgreSQL (trust on this host,
    so any password passes) a role that does not exist (28000)."""
    if request.param == "mariadb":
        return str(
            create_engine(request.getfixturevalue("mariadb_url"))
            .url.set(password="not-the-password")
            .render_as_string(hide_password=False)
        )
    request.getfixturevalue("postgres_url")  # skips (or fails under CI) when the server is not there
    return "postgresql+psycopg://no_such_role:not-the-password@127.0.0.1:5432/test"


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("wrong_login", ["postgresql", "mariadb"], indirect=True)
def test_a_wrong_password_fails_at_once_then_a_retry_after_the_fix_completes(
    database: Database, config: Settings, vault: Vault, home: Path, url_map: DataMap, wrong_login: str
) -> None:
    config.execution.max_attempts = 0  # only the window would stop it: a permanent error must not wait at all
    public_id = approved(database, config, vault, RequestKind.DELETION)
    _mail(database, config, vault, public_id)  # the approval's e-mail
    clock = Clock()
    failed = Runner(
        database, config, vault, url_map, env={"WEST_SHOP_URL": wrong_login}, sleep=clock.sleep, clock=clock
    ).run(public_id)
    assert failed.status == "failed" and clock.waits == []  # no retry, no backoff
    assert failed.error is not None and "refused the login" in failed.error
    assert "not-the-password" not in failed.error
    broken = [s for s in _steps(database, public_id).values() if s.status == "failed"]
    assert [(s.system, s.attempts) for s in broken] == [("shop", 1)]
    assert _mail(database, config, vault, public_id) == []  # the requester hears nothing of a failure

    fixed = {"WEST_SHOP_URL": f"sqlite:///{home / stores.SHOP_FILE}"}
    with database.session() as session:
        reopened = retry.reopen(
            session,
            review.get(session, public_id),
            service.plan_request(session, public_id, url_map, vault=vault),
            actor="office",
            now=utcnow(),
        )
    assert reopened.plan_changed is False and reopened.new == [] and reopened.dropped == []
    assert broken[0].step_id in reopened.remaining and reopened.redone == []
    outcome = Runner(database, config, vault, url_map, env=fixed, sleep=clock.sleep).run(public_id)
    assert outcome.status == "completed", outcome.error
    assert certificate_of(database, public_id)["verified"] is True
    sent = _mail(database, config, vault, public_id)
    assert len(sent) == 1 and "It is done." in sent[0]


def test_a_store_down_for_13_seconds_is_waited_out_and_the_request_completes(
    database: Database, config: Settings, vault: Vault, make_runner: MakeRunner
) -> None:
    config.execution.max_attempts = 0  # the window decides (15 minutes by default)
    config.execution.retry_base, config.execution.retry_max = 1.0, 4.0
    public_id = approved(database, config, vault, RequestKind.DELETION)
    clock = Clock()
    back_at = clock.now + timedelta(seconds=13)

    def down(where: str, step: Step) -> None:
        if where == "before" and step.system == "support" and clock.now < back_at:
            raise Unavailable("system 'support' is unavailable: OperationalError: the server is restarting")

    outcome = make_runner(fault=down, sleep=clock.sleep, clock=clock).run(public_id)
    assert outcome.status == "completed", outcome.error
    assert sum(clock.waits) >= 13 and len(clock.waits) > 4  # more tries than the old limit of five
    tickets = next(s for s in _steps(database, public_id).values() if s.collection == "west_support.tickets")
    assert tickets.attempts > 1


def test_a_store_down_past_the_window_fails_the_request_and_says_how_long(
    database: Database, config: Settings, vault: Vault, make_runner: MakeRunner
) -> None:
    config.execution.max_attempts = 0
    config.execution.retry_window_minutes = 2
    config.execution.retry_base, config.execution.retry_max = 1.0, 30.0
    public_id = approved(database, config, vault, RequestKind.ACCESS)
    clock = Clock()

    def down(where: str, step: Step) -> None:
        if where == "before" and step.system == "support":
            raise Unavailable("system 'support' is unavailable: OperationalError: no answer")

    outcome = make_runner(fault=down, sleep=clock.sleep, clock=clock).run(public_id)
    assert outcome.status == "failed" and outcome.error is not None
    assert "over 120 s" in outcome.error and "support" in outcome.error
    assert sum(clock.waits) == pytest.approx(120)  # the last wait is cut to end at the window


def _rename_column(home: Path, old: str, new: str) -> None:
    engine = create_engine(f"sqlite:///{home / stores.SHOP_FILE}")
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE customers RENAME COLUMN {old} TO {new}"))
    engine.dispose()


def test_failed_on_a_missing_column_then_fixed_and_retried_keeps_the_done_steps(
    database: Database, config: Settings, vault: Vault, home: Path, make_runner: MakeRunner
) -> None:
    public_id = approved(database, config, vault, RequestKind.DELETION)
    _mail(database, config, vault, public_id)
    waits: list[float] = []
    untouched = {name: table(home, name) for name in ("addresses", "orders", "order_items", "payments")}
    support = {name: table(home, name, stores.SUPPORT_FILE) for name in ("tickets", "messages")}

    def break_the_store(where: str, step: Step) -> None:
        # after the fetches, as the erasures begin, someone renames a column the map names
        if where == "before" and step.action == Action.ERASE and "phone" in {c["name"] for c in _columns(home)}:
            _rename_column(home, "phone", "phone_number")

    first = make_runner(fault=break_the_store, sleep=waits.append).run(public_id)
    assert first.status == "failed" and waits == []  # a missing column is not retried
    assert first.error is not None and "column" in first.error and ANA not in first.error
    before = _steps(database, public_id)
    done = {i for i, s in before.items() if s.status == "done"}
    assert {before[i].action for i in done} == {"fetch"}
    # the erasures of the failed batch shared a transaction per store: none of them is half-done, all wait
    assert {s.status for s in before.values() if s.action == "erase"} == {"pending", "failed"}
    assert {name: table(home, name) for name in untouched} == untouched  # her rows, as they were: independent SQL
    assert {name: table(home, name, stores.SUPPORT_FILE) for name in support} == support
    assert _status(database, public_id) == "failed"
    with database.session() as session:
        row = review.get(session, public_id)
        shown = retry.report(session, row)
        assert Status(row.status) not in queue.CLOSED  # still owed: the deadline keeps running (P-RGT-8)
        assert public_id in [s.public_id for s in queue.listed(session)]
    assert shown is not None and shown["status"] == "failed" and shown["failed"] == 1
    assert {s["id"] for s in shown["steps"] if s["status"] == "done"} == done
    assert all(s["changed"]["rows"] >= 0 for s in shown["steps"] if s["status"] == "done")
    assert _mail(database, config, vault, public_id) == []

    _rename_column(home, "phone_number", "phone")  # the office fixes the store
    with database.session() as session:
        plan = service.plan_request(session, public_id, make_runner().datamap, vault=vault)
        reopened = retry.reopen(session, review.get(session, public_id), plan, actor="office", now=utcnow())
    assert set(reopened.kept) == done and not reopened.plan_changed and reopened.redone == []
    outcome = make_runner().run(public_id)
    assert outcome.status == "completed", outcome.error
    assert not set(outcome.executed) & done  # the kept steps were not done again
    after = _steps(database, public_id)
    assert all(after[i].attempts == before[i].attempts for i in done)
    audits = _erase_audits(database, public_id)
    # one audit entry per erase step: the batch rolled back left none (nothing it claimed had happened)
    assert all(count == 1 for count in audits.values())
    assert sum(audits.values()) == sum(1 for s in after.values() if s.action == "erase")
    document = certificate_of(database, public_id)
    assert document["verified"] is True
    with database.session() as session:
        run = session.scalars(select(ExecutionRun)).one()
        assert run.retries == 1 and run.status == "completed"
        assert all(s.sealed is None for s in claims.steps_of(session, run.id))
    sent = _mail(database, config, vault, public_id)
    assert len(sent) == 1 and "It is done." in sent[0]


def _columns(home: Path) -> list[dict[str, object]]:
    engine = create_engine(f"sqlite:///{home / stores.SHOP_FILE}")
    with engine.connect() as conn:
        found = [dict(r) for r in conn.execute(text("PRAGMA table_info(customers)")).mappings()]
    engine.dispose()
    return found


def _refuse(collection: str) -> Callable[[str, Step], None]:
    def fault(where: str, step: Step) -> None:
        if where == "before" and step.action == Action.ERASE and step.collection == collection:
            raise StoreRefused(f"system '{step.system}' refused the statement: OperationalError (SQLSTATE 42501)")

    return fault


def _refuse_verify(collection: str) -> Callable[[str, Step], None]:
    def fault(where: str, step: Step) -> None:
        if where == "before" and step.action == Action.VERIFY and step.collection == collection:
            raise StoreRefused(f"system '{step.system}' refused the statement: OperationalError (SQLSTATE 42501)")

    return fault


@pytest.fixture
def changed_map(config: Settings, tmp_path: Path) -> Callable[[], DataMap]:
    """The West map as the office changes it: customers' phone redacted instead of nulled, support messages no
    longer erased, the order dates erased."""
    folder = tmp_path / "changed"
    shutil.copytree(DATAMAP, folder)

    def change() -> DataMap:
        shop = folder / "datasets" / "shop.yaml"
        found = shop.read_text()
        found = found.replace("charter: {erasure: set_null}", "charter: {erasure: redact_text}", 1)
        placed = found.index("- name: placed_at")
        end = found.index("\n", found.index("data_categories", placed))
        found = found[:end] + "\n            charter: {erasure: {strategy: generalize_date, to: year}}" + found[end:]
        shop.write_text(found)
        support = folder / "datasets" / "support.yaml"
        messages = support.read_text()
        at = messages.index("- name: messages")
        cut = messages.index("charter: {erasure: delete_row}", at)
        kept = 'charter: {erasure: {strategy: keep, reason: "kept"}}'
        support.write_text(messages[:cut] + kept + messages[cut + len("charter: {erasure: delete_row}") :])
        return service.load_datamap(config, folder)

    return change


def test_a_retry_after_the_map_changed_shows_the_new_plan(
    database: Database,
    config: Settings,
    vault: Vault,
    make_runner: MakeRunner,
    changed_map: Callable[[], DataMap],
) -> None:
    public_id = approved(database, config, vault, RequestKind.DELETION)
    assert make_runner(fault=_refuse_verify("west_shop.customers")).run(public_id).status == "failed"
    before = _steps(database, public_id)
    new_map = changed_map()
    with database.session() as session:
        plan = service.plan_request(session, public_id, new_map, vault=vault)
        reopened = retry.reopen(session, review.get(session, public_id), plan, actor="office", now=utcnow())
    shown = reopened.as_dict()
    assert shown["plan_changed"] is True and shown["plan"]["request"] == public_id
    by_id = {s.id: s for s in plan.steps}
    customers_erase = next(s.id for s in plan.steps if s.action == Action.ERASE and "customers" in s.collection)
    assert before[customers_erase].status == "done" and customers_erase in reopened.redone  # its strategy changed
    assert {by_id[i].collection for i in reopened.new} == {"west_shop.orders"}  # its erase and verify
    assert {d["collection"] for d in reopened.dropped} == {"west_support.messages"}
    assert all(before[i].status == "done" for i in reopened.kept)
    assert {s.id for s in plan.of(Action.FETCH)} <= set(reopened.kept)
    outcome = make_runner(datamap=new_map).run(public_id)
    assert outcome.status == "completed", outcome.error
    assert set(outcome.executed) == set(reopened.redone) | set(reopened.remaining) | set(reopened.new)
    document = certificate_of(database, public_id)
    assert "west_support.messages" not in {c["collection"] for c in document["collections"]}
    assert "west_shop.orders" in {c["collection"] for c in document["collections"]}


def test_give_up_tells_the_requester_once_with_the_reason(
    database: Database, config: Settings, vault: Vault, make_runner: MakeRunner
) -> None:
    public_id = approved(database, config, vault, RequestKind.ACCESS)
    _mail(database, config, vault, public_id)
    assert make_runner(fault=_refuse_fetch("support")).run(public_id).status == "failed"
    assert _mail(database, config, vault, public_id) == []
    with database.session() as session, pytest.raises(Exception, match="reason"):
        retry.give_up(session, review.get(session, public_id), reason="  ", actor="office")
    reason = "Our support system was retired and its records cannot be read any more."
    with database.session() as session:
        retry.give_up(session, review.get(session, public_id), reason=reason, actor="office")
    sent = _mail(database, config, vault, public_id)
    assert len(sent) == 1 and reason in sent[0] and "could not complete" in sent[0]
    assert _mail(database, config, vault, public_id) == []  # once
    with database.session() as session:
        row = review.get(session, public_id)
        assert row.status == "given_up" and Status(row.status) in queue.CLOSED
        shown = retry.report(session, row)
        assert shown is not None and shown["given_up"]["reason"] == reason
        run = session.scalars(select(ExecutionRun)).one()
        assert all(s.sealed is None for s in claims.steps_of(session, run.id))  # the rows found are dropped
        with pytest.raises(retry.NotFailed):
            retry.give_up(session, row, reason=reason, actor="office")
        kinds = [n.kind for n in session.scalars(select(RequestNotice).where(RequestNotice.request_id == row.id))]
    assert kinds.count(notices.FAILED) == 1


def _refuse_fetch(system: str) -> Callable[[str, Step], None]:
    def fault(where: str, step: Step) -> None:
        if where == "before" and step.system == system:
            raise StoreRefused(f"system '{system}': the database does not exist (OperationalError, SQLSTATE 3D000)")

    return fault


def test_only_a_failed_request_is_retried(database: Database, config: Settings, vault: Vault, datamap: DataMap) -> None:
    public_id = approved(database, config, vault, RequestKind.ACCESS)
    with pytest.raises(retry.NotFailed, match="only a failed request can be retried") as caught:
        retry.reopen_request(database, vault, datamap, public_id, actor="office")
    assert caught.value.status == 409 and caught.value.exit_code == 2
    assert _status(database, public_id) == "approved"
