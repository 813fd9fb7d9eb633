"""A phone is found however a store holds it: with or without its country code, punctuated any way (issue 11,
"phone numbers matched on their normalized form whatever the stored format"; P-RGT-1, P-RGT-3).

The request carries ``+15125550102``; a shop's SMS log holds ``512-555-0102``, ``(512) 555-0102``,
``5125550102`` and ``+1 512 555 0102``. Each is the person's, and each must reach the access package and be
erased; a neighbour's number and a number of another country with the same national digits must not.
Checked by plain SQL, not through Charter.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from charter.db import Database
from charter.execution import service
from charter.execution.certificate import certificate_of
from charter.execution.runner import Runner
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.execution.conftest import approved, package_collections

ANA = "ana@example.org"
URL_ENV = "PHONES_URL"
HERS = ("512-555-0102", "(512) 555-0102", "5125550102", "+1 512 555 0102", " +1.512.555.0102 ")
OTHERS = ("512-555-0199", "+44 20 5125 550102", "+33 5 12 55 50 10")
MAP = f"""\
systems:
  - {{id: phones, kind: sql, url_env: {URL_ENV}, datasets: [phones]}}
dataset:
  - fides_key: phones
    collections:
      - name: customer
        fields:
          - {{name: id, data_categories: [system.operations], fides_meta: {{primary_key: true}}}}
          - {{name: email, data_categories: [user.contact.email], fides_meta: {{identity: email}}}}
          - {{name: phone, data_categories: [user.contact.phone_number], fides_meta: {{identity: phone_number}}}}
      - name: sms_log
        charter: {{erasure: {{strategy: delete_row}}}}
        fields:
          - {{name: id, data_categories: [system.operations], fides_meta: {{primary_key: true}}}}
          - {{name: phone, data_categories: [user.contact.phone_number], fides_meta: {{identity: phone_number}}}}
          - {{name: body, data_categories: [user.content]}}
"""


def _store(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customer (id INTEGER PRIMARY KEY, email TEXT, phone TEXT)")
        conn.execute("CREATE TABLE sms_log (id INTEGER PRIMARY KEY, phone TEXT, body TEXT)")
        conn.execute(
            "INSERT INTO customer VALUES (1, ?, '+15125550102'), (2, 'ben@example.org', '512-555-0199')", (ANA,)
        )
        for number, phone in enumerate(HERS + OTHERS, start=1):
            conn.execute("INSERT INTO sms_log VALUES (?, ?, ?)", (number, phone, f"message {number}"))
    return f"sqlite:///{path}"


def _rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return list(conn.execute(f"SELECT * FROM {table} ORDER BY id"))


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_every_form_of_her_number_is_found_and_erased_and_nobody_elses(
    database: Database, config: Settings, vault: Vault, tmp_path: Path
) -> None:
    store = tmp_path / "phones.db"
    url = _store(store)
    (tmp_path / "map").mkdir()
    (tmp_path / "map" / "phones.yaml").write_text(MAP)
    datamap = service.load_datamap(config, tmp_path / "map")

    def run(kind: RequestKind) -> str:
        public_id = approved(database, config, vault, kind, ANA)
        outcome = Runner(database, config, vault, datamap, env={URL_ENV: url}, sleep=lambda _s: None).run(public_id)
        assert outcome.status == "completed", outcome.error
        return public_id

    access = run(RequestKind.ACCESS)
    found = package_collections(database, config.home, vault, access)
    assert sorted(r["phone"] for r in found["phones.sms_log"]) == sorted(HERS)

    before = _rows(store, "sms_log")
    deletion = run(RequestKind.DELETION)
    after = _rows(store, "sms_log")
    assert after == [row for row in before if row[1] in OTHERS]  # hers gone, the others byte for byte
    document = certificate_of(database, deletion)
    assert document["outcome"] == "erased" and document["verified"] is True
