"""Requests without an e-mail address over the API, the pages and the CLI (issue 11; P-RGT-1, P-RGT-3, P-RGT-7).

The club store (tests/requests/club_store.py) is a SQLite file; Charter's database runs on SQLite and
PostgreSQL. Public answers are compared byte for byte (modulo ids and secrets) across requesters.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from charter.auth.roles import Role
from charter.db import Database
from charter.execution import service
from charter.execution.runner import Runner
from charter.services import Services
from charter.settings import DatabaseSettings, DatamapSettings, ExecutionSettings, Settings
from charter.web.app import create_app
from tests.requests import club_store
from tests.requests.conftest import Recorder
from tests.subjects.factories import publish_examples
from tests.web.conftest import MakeSession, MakeToken

BEN = {"type": "access", "jurisdiction": "eu", "identity": {"kind": "phone", "value": "(512) 555-0102"}}
BEN_FACTS = {"postal_code": "78702", "date_of_birth": "1985-02-03"}


@pytest.fixture
def club(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[club_store.Store]:
    with club_store.store("sqlite", tmp_path) as made:
        monkeypatch.setenv("CLUB_URL", made.url)
        yield made


@pytest.fixture
def services(database: Database, tmp_path: Path, club: club_store.Store) -> Iterator[Services]:
    folder = club_store.write_map(tmp_path / "map", None)
    publish_examples(database)
    built = Services(
        Settings.load(
            env="test",
            home=tmp_path / "home",
            database=DatabaseSettings(url=database.url),
            datamap=DatamapSettings(path=folder),
            execution=ExecutionSettings(max_attempts=2, retry_base=0.01, retry_max=0.02),
        )
    )
    built.mailer = Recorder()
    yield built
    built.close()


@pytest.fixture
def app(services: Services) -> FastAPI:
    return create_app(services)


def _submit(app: FastAPI, body: dict[str, Any], client: str = "10.0.0.1") -> Any:
    with TestClient(app, client=(client, 1)) as person:
        return person.post("/api/v1/requests", json=body)


def _public(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k not in ("id", "status_secret", "status_url", "due_at")}


def test_a_phone_only_access_request_over_the_api_end_to_end(
    app: FastAPI, services: Services, make_token: MakeToken, club: club_store.Store
) -> None:
    """202 with the secret once; the office approves; the holder of the secret gets Ben's copy and nobody's else."""
    sent = _submit(app, {**BEN, "facts": BEN_FACTS})
    assert sent.status_code == 202, sent.text
    answer = sent.json()
    assert (
        answer["status"] == "in_review"
        and answer["status_secret"]
        and "/privacy/requests/open?token=" in (answer["status_url"])
    )
    client = TestClient(app, client=("10.0.0.1", 1))
    status = client.post("/api/v1/requests/status", json={"secret": answer["status_secret"]})
    assert status.status_code == 200 and status.json()["status"] == "in_review"
    token = make_token(Role.PRIVACY_OFFICER)
    office = {"Authorization": f"Bearer {token}"}
    shown = client.get(f"/api/v1/requests/{answer['id']}", headers=office).json()
    assert shown["identity_kind"] == "phone" and "facts prove the identity" in shown["without_email"]
    refused = client.post(f"/api/v1/requests/{answer['id']}/approve", json={}, headers=office)
    assert refused.status_code == 422 and "identity_checked" in refused.json()["detail"]
    approved = client.post(f"/api/v1/requests/{answer['id']}/approve", json={"identity_checked": True}, headers=office)
    assert approved.status_code == 200, approved.text
    datamap = service.load_datamap(services.settings)
    outcome = Runner(services.database, services.settings, services.vault, datamap, sleep=lambda _s: None).run(
        answer["id"]
    )
    assert outcome.status == "completed", outcome.error
    assert client.post("/api/v1/requests/status", json={"secret": answer["status_secret"]}).json()["copy"] is True
    assert services.mailer.messages == []  # type: ignore[attr-defined]  # nowhere to write: nothing was mailed
    copy = client.post("/api/v1/requests/status/copy", json={"secret": answer["status_secret"]})
    assert copy.status_code == 200, copy.text
    zipped = client.get(copy.json()["download_url"])
    assert zipped.status_code == 200
    found = json.loads(zipfile.ZipFile(io.BytesIO(zipped.content)).read("package.json"))
    names = {r.get("name") for c in found["collections"] for r in c["rows"] if "name" in r}
    assert names == {"Ben Brandt"}


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_every_public_answer_is_the_same_whoever_the_number_belongs_to(app: FastAPI) -> None:
    """Ben's own facts, wrong facts, a number nobody holds: one answer, one status document (P-RGT-7)."""
    answers = [
        _submit(app, {**BEN, "facts": BEN_FACTS}),
        _submit(app, {**BEN, "facts": {"postal_code": "10115", "date_of_birth": "2001-01-01"}}),
        _submit(app, {**BEN, "identity": {"kind": "phone", "value": "+1 512 555 0199"}, "facts": BEN_FACTS}),
        _submit(app, {**BEN, "identity": {"kind": "loyalty_id", "value": "L-1002"}, "facts": {"postal_code": "1"}}),
    ]
    assert {a.status_code for a in answers} == {202}
    assert len({json.dumps(_public(a.json()), sort_keys=True) for a in answers}) == 1
    client = TestClient(app, client=("10.0.0.2", 1))
    documents = [client.post("/api/v1/requests/status", json={"secret": a.json()["status_secret"]}) for a in answers]
    shapes = {json.dumps({k: v for k, v in d.json().items() if k not in ("id", "received_at", "due_at",
              "identity_kind")}, sort_keys=True) for d in documents}  # fmt: skip
    assert len(shapes) == 1


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({**BEN, "identity": {"kind": "passport", "value": "X1"}, "facts": BEN_FACTS}, 422, "email, loyalty_id, phone"),
        ({**BEN, "identity": {"kind": "phone", "value": "12"}, "facts": BEN_FACTS}, 422, "phone identity is not"),
        (BEN, 422, "give at least one fact (postal_code, date_of_birth)"),
        ({**BEN, "facts": {"date_of_birth": "yesterday"}}, 422, "facts.date_of_birth"),
        (
            {**BEN, "identity": {"kind": "loyalty_id", "value": "L-1"}, "type": "restriction", "facts": BEN_FACTS},
            422,
            "consent records",
        ),
    ],
)
def test_bad_input_is_a_problem_naming_the_fix(app: FastAPI, body: dict[str, Any], status: int, words: str) -> None:
    sent = _submit(app, body)
    assert sent.status_code == status, sent.text
    assert sent.headers["content-type"].startswith("application/problem+json")
    assert words in sent.json()["detail"] and "X1" not in sent.json()["detail"]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_wrong_secrets_spend_only_the_guessers_budget(app: FastAPI) -> None:
    """An attacker guessing secrets is stopped at 30 a minute; the owner, from their own address, is not."""
    secret = _submit(app, {**BEN, "facts": BEN_FACTS}).json()["status_secret"]
    attacker = TestClient(app, client=("10.6.6.6", 1))
    answers = [attacker.post("/api/v1/requests/status", json={"secret": "x" * 43}).status_code for _ in range(31)]
    assert set(answers[:30]) == {404} and answers[30] == 429
    assert attacker.post("/api/v1/requests/status", json={"secret": secret}).status_code == 429
    owner = TestClient(app, client=("10.0.0.7", 1))
    assert owner.post("/api/v1/requests/status", json={"secret": secret}).status_code == 200
    assert owner.post("/api/v1/requests/status/copy", json={"secret": secret}).status_code == 409  # not done yet


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_form_without_email_gives_the_link_once_and_opens_the_status_page(app: FastAPI) -> None:
    person = TestClient(app, follow_redirects=False, client=("10.0.0.3", 1))
    form = person.get("/privacy/requests")
    assert "I don't have an e-mail address, or don't want to use one" in form.text
    assert '<option value="loyalty_id">Loyalty id</option>' in form.text
    csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    fields = {"type": "deletion", "jurisdiction": "eu", "channel": "other", "identity_kind": "loyalty_id",
              "identity_value": "L-1003", "fact_postal_code": "78703", "fact_date_of_birth": "1979-11-30",
              "csrf_token": csrf}  # fmt: skip
    empty = person.post("/privacy/requests", data={**fields, "identity_value": ""})
    assert empty.status_code == 422 and "Enter the number or identifier we know you by." in empty.text
    sent = person.post("/privacy/requests", data=fields)
    assert sent.status_code == 200 and "Keep this link" in sent.text
    link = sent.text.split('id="status-link" type="text" readonly value="', 1)[1].split('"', 1)[0]
    stranger = TestClient(app, follow_redirects=False, client=("10.0.0.4", 1))
    opened = stranger.get(link.replace("http://127.0.0.1:8000", "").replace("&amp;", "&"))
    assert opened.status_code == 303
    page = stranger.get(opened.headers["location"])
    assert page.status_code == 200 and "Our privacy office is looking at your request." in page.text
    assert stranger.get("/privacy/requests/open?token=" + "y" * 43).status_code == 404


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_office_takes_a_request_by_phone_from_the_cli(services: Services, database: Database) -> None:
    from charter.cli.main import app as cli
    from tests.cli_runner import invoker

    invoke = invoker(cli, database, services.settings.home, CHARTER_DATAMAP_PATH=str(services.settings.datamap.path))
    done = invoke("requests", "submit", "--type", "access", "--identity", "phone:(512) 555-0102",
                  "--fact", "postal_code=78702", "--fact", "date_of_birth=1985-02-03", "--json")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["status_secret"]
    bad = invoke("requests", "submit", "--type", "access", "--identity", "passport:X1", "--fact", "postal_code=1")
    assert bad.exit_code == 2
    assert bad.stderr.strip().count("\n") == 0 and "use one of email, loyalty_id, phone" in bad.stderr


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_console_says_whether_the_facts_matched_before_the_office_confirms(
    app: FastAPI, make_session: MakeSession
) -> None:
    """P-RGT-7: a request without e-mail always asks the office to confirm; the hint under that box says what
    the facts did. Matched facts are never described as "not matched" (seen in the demo, as the DPO)."""
    matched = _submit(app, {**BEN, "facts": BEN_FACTS}).json()["id"]
    wrong = _submit(app, {**BEN, "facts": {"postal_code": "00000", "date_of_birth": "1900-01-01"}}).json()["id"]
    login = make_session(Role.PRIVACY_OFFICER)
    office = TestClient(app, follow_redirects=False)
    office.cookies.set("charter_session", login.cookie)
    shown = office.get(f"/console/requests/{matched}").text
    assert 'name="identity_checked"' in shown and "facts prove the identity" in shown
    assert "not matched" not in shown and "No e-mail address was confirmed" in shown
    refused = office.get(f"/console/requests/{wrong}").text
    assert 'name="identity_checked"' in refused and "Facts held were not matched" in refused


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_office_is_not_told_a_requester_without_email_is_being_told(
    app: FastAPI, make_session: MakeSession
) -> None:
    """A state the office reads ("the requester is being told") must be true: without an address nothing is
    sent, and the console says where the requester reads it instead."""
    public_id = _submit(app, {**BEN, "facts": BEN_FACTS}).json()["id"]
    login = make_session(Role.PRIVACY_OFFICER)
    office = TestClient(app, follow_redirects=False)
    office.cookies.set("charter_session", login.cookie)
    approved = office.post(
        f"/console/requests/{public_id}/approve", data={"csrf_token": login.csrf_token, "identity_checked": "yes"}
    )
    assert approved.status_code == 303, approved.text
    shown = office.get(approved.headers["location"]).text
    assert "is being told" not in shown and "sees it on their status page" in shown
    assert "bogus" not in office.get(f"/console/requests/{public_id}?done=bogus").text
