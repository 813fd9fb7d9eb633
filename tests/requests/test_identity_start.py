"""Requests started from a phone or a loyalty number, with no e-mail address (issue 11, design: identity-start.md).

P-RGT-7: completed only after identity is verified with data already held (the facts), the office confirming;
P-RGT-1 / P-RGT-3: the person's rows, and only theirs, are read or erased, checked by plain SQL.
Charter's database runs on SQLite and PostgreSQL (``database``), the club store on both too (``store``).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from charter.datamap.model import DataMap
from charter.db import Database
from charter.db.base import utcnow
from charter.execution import package, plan, service
from charter.execution.certificate import certificate_of
from charter.execution.facts_lookup import StoreLookup
from charter.execution.runner import Runner
from charter.requests import identity_start, intake, notices, queue, review, status_secret
from charter.requests.errors import InvalidRequest
from charter.requests.identity_start import StartKinds
from charter.requests.kinds import RequestKind, Status
from charter.requests.models import PrivacyRequest, RequestNotice, RequestSecret
from charter.settings import DatabaseSettings, DatamapSettings, ExecutionSettings, Settings
from charter.subjects.normalize import InvalidIdentity
from charter.subjects.service import Vault
from tests.requests import club_store
from tests.requests.conftest import Recorder
from tests.subjects.factories import make_vault, publish_examples

BEN_FACTS = {"postal_code": "78702", "date_of_birth": "1985-02-03"}
CLEO_FACTS = {"postal_code": "787 03", "date_of_birth": "1979-11-30"}


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[club_store.Store]:
    admin = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    with club_store.store(request.param, tmp_path, admin_url=admin) as made:
        yield made


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[club_store.Store]:
    with club_store.store("sqlite", tmp_path) as made:
        yield made


class World:
    """Charter on ``database`` with the club's data map, its stores and the example statements."""

    def __init__(self, database: Database, store: club_store.Store, tmp_path: Path) -> None:
        self.database = database
        self.store = store
        self.folder = club_store.write_map(tmp_path / "map", store.schema)
        publish_examples(database)
        self.config = Settings.load(
            env="test",
            home=tmp_path / "home",
            database=DatabaseSettings(url=database.url),
            datamap=DatamapSettings(path=self.folder),
            execution=ExecutionSettings(max_attempts=2, retry_base=0.01, retry_max=0.02),
        )
        self.vault: Vault = make_vault(self.config.secret_key())
        self.env = {"CLUB_URL": store.url}
        self.datamap: DataMap = service.load_datamap(self.config, self.folder)
        self.starts = StartKinds.of(plan.map_identity_kinds(self.datamap))

    def submit(self, kind: RequestKind, identity_kind: str, value: str, facts: dict[str, str]) -> intake.Received:
        submission = intake.Submission(
            kind=kind, identity_kind=identity_kind, identity=value, jurisdiction="eu", facts=facts
        )
        return intake.submit(
            self.database,
            Recorder(),
            submission,
            vault=self.vault,
            settings=self.config,
            starts=self.starts,
            lookup=StoreLookup(self.datamap, self.config, env=self.env),
        )

    def approve(self, public_id: str, *, identity_checked: bool = True) -> None:
        with self.database.session() as session:
            review.approve(
                session,
                review.get(session, public_id),
                actor="test",
                vault=self.vault,
                identity_checked=identity_checked,
            )

    def run(self, public_id: str) -> str:
        runner = Runner(self.database, self.config, self.vault, self.datamap, env=self.env, sleep=lambda _s: None)
        outcome = runner.run(public_id)
        assert outcome.status == "completed", outcome.error
        return outcome.status

    def document(self, public_id: str) -> dict[str, Any]:
        with self.database.session() as session:
            return queue.document(session, review.get(session, public_id), vault=self.vault)


@pytest.fixture
def world(database: Database, store: club_store.Store, tmp_path: Path) -> World:
    return World(database, store, tmp_path)


@pytest.fixture
def club(database: Database, sqlite_store: club_store.Store, tmp_path: Path) -> World:
    return World(database, sqlite_store, tmp_path)


def _package_rows(world: World, public_id: str) -> dict[str, list[dict[str, Any]]]:
    with world.database.session() as session:
        zipped = package.read(session, world.config.home, world.vault.keys, public_id)
    archive = zipfile.ZipFile(io.BytesIO(zipped))
    return {c["collection"]: c["rows"] for c in json.loads(archive.read("package.json"))["collections"]}


# -- happy paths through the real runner ------------------------------------------------------------------


def test_a_phone_only_access_request_gets_exactly_that_persons_rows(world: World) -> None:
    """Ben has no e-mail: he asks with his phone as he writes it, proves two facts; the package holds his rows
    and nobody else's (P-RGT-1, P-RGT-7)."""
    received = world.submit(RequestKind.ACCESS, "phone", "(512) 555-0102", BEN_FACTS)
    assert received.secret and received.challenge_id == ""
    doc = world.document(received.public_id)
    assert doc["status"] == Status.IN_REVIEW.value and doc["identity_kind"] == "phone"
    assert doc["facts"].startswith("facts matched: 2 of 2")
    assert "facts prove the identity" in doc["without_email"]
    world.approve(received.public_id)
    world.run(received.public_id)
    found = _package_rows(world, received.public_id)
    members = [r for rows in found.values() for r in rows if "loyalty_id" in r]
    assert [(m["id"], m["name"]) for m in members] == [(2, "Ben Brandt")]
    visits = sorted(r["id"] for rows in found.values() for r in rows if "note" in r)
    by_sql = sorted(v["id"] for v in world.store.rows(club_store.visits) if v["member_id"] == 2)
    assert visits == by_sql == [11, 12]
    with world.database.session() as session:  # nowhere to e-mail: nothing sent, nothing failing
        row = review.get(session, received.public_id)
        assert notices.pending(session, request_id=row.id) == []
        assert session.scalars(select(RequestNotice).where(RequestNotice.request_id == row.id)).all()


def test_a_loyalty_id_only_deletion_erases_that_person_and_leaves_everyone_else(world: World) -> None:
    """Cleo asks with her loyalty number (a custom kind the map declares): her rows are erased and verified; every
    other row is byte-identical, by plain SQL (P-RGT-3)."""
    before = {r["id"]: r for r in world.store.rows(club_store.members)}
    visits_before = world.store.rows(club_store.visits)
    received = world.submit(RequestKind.DELETION, "loyalty_id", "  L-1003 ", CLEO_FACTS)
    world.approve(received.public_id)
    world.run(received.public_id)
    after = {r["id"]: r for r in world.store.rows(club_store.members)}
    assert after[1] == before[1] and after[2] == before[2]
    cleo = after[3]
    for name in ("phone", "loyalty_id", "name", "postal_code", "birth_date"):
        assert cleo[name] != before[3][name], name
    assert "L-1003" not in json.dumps(after) and "0103" not in json.dumps(cleo)
    assert world.store.rows(club_store.visits) == [v for v in visits_before if v["member_id"] != 3]
    certificate = certificate_of(world.database, received.public_id)
    assert certificate["verified"] is True and certificate["outcome"] == "erased"
    with world.database.session() as session:  # the suppression list has the loyalty number's keyed hash
        from charter.suppression.models import Suppressed

        kinds = set(session.scalars(select(Suppressed.kind)))
    assert "loyalty_id" in kinds


# -- what never approves, and always answers the same ---------------------------------------------------------


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("value", "facts", "why"),
    [
        ("L-1002", {"postal_code": "10115", "date_of_birth": "2001-01-01"}, "facts did not prove"),  # wrong facts
        ("L-9999", {"postal_code": "78702", "date_of_birth": "1985-02-03"}, "facts did not prove"),  # nobody
        ("L-1002", {"postal_code": "78702"}, "only 1 fact(s) could be compared"),  # too little
    ],
)
def test_another_persons_number_never_reads_or_erases_their_rows(
    club: World, value: str, facts: dict[str, str], why: str
) -> None:
    """Someone types Ben's loyalty number (or an unknown one): the same answer as Ben himself would get, and the
    office cannot approve it, even ticking "identity checked" (P-RGT-7)."""
    before = club.store.rows(club_store.members)
    received = club.submit(RequestKind.DELETION, "loyalty_id", value, facts)
    assert received.secret is not None and len(received.secret) >= 40
    assert club.document(received.public_id)["status"] == Status.IN_REVIEW.value
    with pytest.raises(InvalidRequest) as refused:
        club.approve(received.public_id, identity_checked=True)
    assert why in refused.value.detail
    assert club.store.rows(club_store.members) == before


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_facts_guessed_across_requests_do_not_prove_a_later_match(club: World) -> None:
    """One guess per request, many requests: a match after failed requests for the same identity is not proof."""
    club.submit(RequestKind.ACCESS, "phone", "+1 512 555 0102", {"postal_code": "11111", "date_of_birth": "2000-01-01"})
    lucky = club.submit(RequestKind.ACCESS, "phone", "+1 512 555 0102", BEN_FACTS)
    assert "1 other request(s) for the same phone" in club.document(lucky.public_id)["without_email"]
    with pytest.raises(InvalidRequest) as refused:
        club.approve(lucky.public_id)
    assert "other request(s) for the same phone failed them" in refused.value.detail


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_even_matched_facts_wait_for_the_office(club: World) -> None:
    received = club.submit(RequestKind.ACCESS, "phone", "+1 512 555 0102", BEN_FACTS)
    with pytest.raises(InvalidRequest) as refused:
        club.approve(received.public_id, identity_checked=False)
    assert "confirm you checked the requester's identity" in refused.value.detail


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_phones_own_digits_are_no_proof(club: World) -> None:
    """A phone start cannot prove itself with the last four digits of the number just typed."""
    with pytest.raises(InvalidRequest) as refused:
        club.submit(RequestKind.ACCESS, "phone", "+1 512 555 0102", {"phone_last4": "0102"})
    assert "give at least one fact (postal_code, date_of_birth)" in refused.value.detail


# -- bad input: one clear line, naming the kinds accepted, never the value ------------------------------------


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("passport", "X1234567", "cannot start from identity kind passport; use one of email, loyalty_id, phone"),
        ("phone", "12", "phone identity is not"),
        ("loyalty_id", "   ", "loyalty_id identity must be 1-200 printable characters"),
    ],
)
def test_bad_identities_are_refused_naming_the_kinds(club: World, kind: str, value: str, message: str) -> None:
    with pytest.raises(InvalidIdentity) as refused:
        club.submit(RequestKind.ACCESS, kind, value, BEN_FACTS)
    assert message in refused.value.detail and (value.strip() == "" or value not in refused.value.detail)
    with club.database.session() as session:
        assert session.scalars(select(PrivacyRequest)).all() == []


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_statement_that_verifies_by_email_only_refuses_a_start_without_email(club: World) -> None:
    """Fail closed: a statement that does not verify with data held cannot be met by facts alone."""
    from charter.policy import service as policy
    from charter.settings import PolicySettings
    from tests.conftest import EXAMPLES

    raw = (EXAMPLES / "statement-2023.yaml").read_text()
    raw = raw.replace("verify_with_data_held: true", "verify_with_data_held: false")
    raw = raw.replace('version: "2023-01-01"', 'version: "2024-01-01"').replace(
        "effective: 2023-01-01", "effective: 2024-01-01"
    )
    path = club.folder.parent / "statement-2024.yaml"
    path.write_text(raw)
    loaded, text = policy.read_file(path, limits=PolicySettings())
    with club.database.session() as session:
        policy.publish(session, loaded, text, actor="test")
    with pytest.raises(InvalidRequest) as refused:
        club.submit(RequestKind.ACCESS, "phone", "+1 512 555 0102", BEN_FACTS)
    assert "verified by a code sent to an e-mail address; give an e-mail address" in refused.value.detail


def test_levels_fail_closed() -> None:
    from charter.policy import service as policy
    from charter.requests import terms
    from charter.settings import PolicySettings
    from tests.conftest import EXAMPLES

    statement = policy.read_file(EXAMPLES / "statement-2023.yaml", limits=PolicySettings())[0].statement
    found = terms.terms_for(statement, "eu", RequestKind.ACCESS)
    identity_start.check_level(statement, found, RequestKind.ACCESS, "phone")  # email_and_facts + data held: yes
    for level in ("email_facts_and_document", "something_new"):
        with pytest.raises(InvalidRequest):
            identity_start.check_level(
                statement, terms.Terms(**{**found.__dict__, "verification": level}), RequestKind.ACCESS, "phone"
            )
    with pytest.raises(InvalidRequest, match="consent records"):
        identity_start.check_level(statement, found, RequestKind.RESTRICTION, "loyalty_id")


# -- the status secret ------------------------------------------------------------------------------------


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_status_secret_is_stored_hashed_and_opens_only_its_request(club: World) -> None:
    received = club.submit(RequestKind.ACCESS, "phone", "+1 512 555 0102", BEN_FACTS)
    assert received.secret is not None
    now = utcnow()
    with club.database.session() as session:
        stored = session.scalars(select(RequestSecret)).one()
        assert received.secret not in stored.secret_sha256
        found = status_secret.find(session, received.secret, now=now)
        assert found is not None and found.public_id == received.public_id
        for wrong in ("", "x" * 43, received.secret[:-1] + ("A" if received.secret[-1] != "A" else "B"), "a b"):
            assert status_secret.find(session, wrong, now=now) is None
    with club.database.session() as session:  # wrong tries lock nothing: the owner still gets in
        assert status_secret.find(session, received.secret, now=now + timedelta(seconds=1)) is not None
