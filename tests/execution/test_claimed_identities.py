"""Other identifiers a requester gives: searched as given only once the office confirms them (issue 11, finding 7).

P-RGT-7: a request is acted on only for the person proven to make it. A phone
number typed next to one's own e-mail is a claim; searched as given, it would
hand someone else's records to the requester. P-RGT-1: once confirmed, every
collection keyed on it is searched.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from charter.datamap.model import DataMap
from charter.db import Database
from charter.db.base import utcnow
from charter.execution import service
from charter.execution.runner import Runner
from charter.requests import claimed, intake, queue, review
from charter.requests.errors import InvalidRequest
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.execution.conftest import read_package, table
from tests.requests.conftest import Recorder

STRANGER = "someone.else@example.net"


def _submitted(database: Database, config: Settings, vault: Vault, phone: str) -> str:
    mailer = Recorder()
    submission = intake.Submission(
        kind=RequestKind.ACCESS,
        identity_kind="email",
        identity=STRANGER,
        jurisdiction="eu",
        identities=(("phone", phone), ("loyalty_id", "  L-0042 ")),
    )
    done = intake.submit(database, mailer, submission, vault=vault, settings=config)
    later = utcnow() + timedelta(seconds=1)
    intake.verify_code(database, done.public_id, mailer.code(), vault=vault, settings=config, now=later)
    return done.public_id


def _approve(database: Database, vault: Vault, public_id: str, *, confirmed: bool) -> None:
    with database.session() as session:
        row = review.get(session, public_id)
        review.approve(session, row, actor="test", vault=vault, identity_checked=True, identities_checked=confirmed)


def _anas_phone(home: Path) -> str:
    [phone] = [r["phone"] for r in table(home, "customers") if r["email"] == "ana@example.org"]
    assert phone
    return str(phone)


def test_a_claimed_phone_is_not_searched_until_the_office_confirms_it(
    database: Database, config: Settings, vault: Vault, home: Path, datamap: DataMap
) -> None:
    """The stranger gives Ana's phone: unconfirmed, the plan starts from their own e-mail alone (P-RGT-7)."""
    public_id = _submitted(database, config, vault, _anas_phone(home))
    with database.session() as session:
        shown = queue.document(session, review.get(session, public_id), vault=vault)["other_identities"]
    assert [(o["kind"], o["confirmed"]) for o in shown] == [("loyalty_id", False), ("phone", False)]  # type: ignore[index]
    assert _anas_phone(home) not in json.dumps(shown) and "L-0042" not in json.dumps(shown)
    _approve(database, vault, public_id, confirmed=False)
    with database.session() as session:
        planned = service.plan_request(session, public_id, datamap, vault=vault)
    starts = {i.render() for s in planned.steps for i in s.inputs if "identity:" in i.render()}
    assert starts == {"email IN identity:email"}
    assert any("also gave a phone, not confirmed by the office" in n for n in planned.notes)
    outcome = Runner(database, config, vault, datamap, sleep=lambda _s: None).run(public_id)
    assert outcome.status == "completed"
    archive = zipfile.ZipFile(io.BytesIO(read_package(database, config.home, vault, public_id)))
    rows = sum(len(c["rows"]) for c in json.loads(archive.read("package.json"))["collections"])
    assert rows == 0  # nothing of Ana's reaches the stranger


def test_once_confirmed_a_claimed_phone_starts_the_search(
    database: Database, config: Settings, vault: Vault, home: Path, datamap: DataMap
) -> None:
    """The office confirmed the phone is the requester's: it is searched as given (P-RGT-1)."""
    phone = _anas_phone(home)
    public_id = _submitted(database, config, vault, phone)
    _approve(database, vault, public_id, confirmed=True)
    with database.session() as session:
        planned = service.plan_request(session, public_id, datamap, vault=vault)
    starts = {i.render() for s in planned.steps for i in s.inputs if "identity:" in i.render()}
    assert starts == {"email IN identity:email", "phone IN identity:phone"}
    assert any(
        "also gave a loyalty_id; no collection of the data map is keyed on that kind" in n for n in planned.notes
    )
    outcome = Runner(database, config, vault, datamap, sleep=lambda _s: None).run(public_id)
    assert outcome.status == "completed", outcome.error
    archive = zipfile.ZipFile(io.BytesIO(read_package(database, config.home, vault, public_id)))
    found = {c["collection"]: c["rows"] for c in json.loads(archive.read("package.json"))["collections"]}
    assert [r["phone"] for r in found["west_shop.customers"]] == [phone]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ([("email", "a@example.org")], "the e-mail address is the request's own identity"),
        ([("Loyalty Id", "x")], "a lower-case name such as phone or loyalty_id"),
        ([("phone", "not a number 12")], "identities: phone identity is not a"),
        ([("loyalty_id", "")], "a loyalty_id must be 1-200 printable characters"),
        ([("account_id", str(n)) for n in range(6)], "at most 5 other identifiers"),
    ],
)
def test_claimed_identifiers_are_checked_without_echoing_them(given: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        claimed.check(given)
    assert message in raised.value.detail
    assert all(value not in raised.value.detail for _, value in given if len(value) > 3)


def test_claimed_identifiers_are_normalized() -> None:
    assert claimed.check([("phone_number", "+1 (512) 555-0101"), ("loyalty_id", " L-1 "), ("loyalty_id", "L-1")]) == {
        "phone": ["+15125550101"],
        "loyalty_id": ["L-1"],
    }
