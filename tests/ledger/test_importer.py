"""Importing consents from CSV and JSON lines: valid rows recorded, each reject named by line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from charter.db import Database
from charter.errors import InvalidInput
from charter.ledger import importer
from charter.ledger import service as ledger
from charter.ledger.models import LedgerEvent
from charter.subjects import service as subjects
from tests.subjects.factories import make_vault

VAULT = make_vault()
HEADER = "identity_kind,identity,kind,at,source,purpose,on,origin\n"
CSV_ROWS = [
    "email,Ana@Example.org,consent.given,2024-03-01T10:00:00Z,banner,analytics_trends_benchmarks,,\n",  # line 2
    "email,ana@example.org,signal.gpc,2024-03-01T10:01:00Z,browser_signal,,true,\n",  # 3
    "email,not-an-email,consent.given,2024-03-01T10:00:00Z,,analytics_trends_benchmarks,,\n",  # 4 identity
    "phone,+1 415 555 0132,consent.given,2024-03-01T10:00:00Z,,no_such_purpose,,\n",  # 5 purpose
    "email,bo@example.org,consent.maybe,2024-03-01T10:00:00Z,,,,\n",  # 6 kind
    "email,bo@example.org,signal.dnt,yesterday,,,true,\n",  # 7 at
    "email,bo@example.org,signal.dnt,2024-03-01T10:00:00Z,,,perhaps,\n",  # 8 on
    "phone,+1 415 555 0132,transfer_consent.given,2024-03-01T10:00:00Z,,,,CN\n",  # 9 ok
    "email,bo@example.org,consent.given,2024-03-01T10:00:00Z,,,,\n",  # 10 data.purpose missing
]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def run(database: Database, path: Path, *, dry_run: bool = False) -> importer.ImportReport:
    with database.session() as session:
        return importer.import_file(session, path, vault=VAULT, actor="test", dry_run=dry_run)


def test_csv_records_valid_rows_and_reports_each_reject(ledger_db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "consents.csv", HEADER + "".join(CSV_ROWS))
    report = run(ledger_db, path)
    assert (report.rows, report.recorded) == (9, 3)
    assert [(r.line, r.field) for r in report.rejects] == [
        (4, "identity"),
        (5, "purpose"),
        (6, "kind"),
        (7, "at"),
        (8, "on"),
        (10, "data"),
    ]
    text = json.dumps(report.as_dict())
    assert "not-an-email" not in text and "bo@example" not in text and "415" not in text
    assert "no_such_purpose" in text
    with ledger_db.session() as session:
        ana = subjects.resolve(session, "email", "ana@example.org", vault=VAULT, create=False)
        assert ana is not None
        state = ledger.state_of(session, ana)
        assert state.consented("analytics_trends_benchmarks") and state.gpc
        assert state.consents["analytics_trends_benchmarks"].statement_version == "2023-01-01"  # P-COL-4
        phone = subjects.resolve(session, "phone", "+14155550132", vault=VAULT, create=False)
        assert phone is not None and ledger.state_of(session, phone).transfer_consents == {"CN"}


def test_dry_run_records_nothing(ledger_db: Database, tmp_path: Path) -> None:
    report = run(ledger_db, write(tmp_path, "c.csv", HEADER + "".join(CSV_ROWS)), dry_run=True)
    assert report.valid == 3 and report.recorded == 0 and len(report.rejects) == 6
    with ledger_db.session() as session:
        assert session.scalar(select(func.count()).select_from(LedgerEvent)) == 0


def test_json_lines(ledger_db: Database, tmp_path: Path) -> None:
    lines = [
        {
            "identity_kind": "account_id",
            "identity": "A-1",
            "kind": "preference.set",
            "at": "2024-03-01T10:00:00Z",
            "data": {"key": "newsletter", "value": True},
            "evidence": {"banner_sha256": "ab" * 32},
        },
        "not json",
        ["a list"],
        {
            "identity_kind": "account_id",
            "identity": "A-1",
            "kind": "age.attested",
            "at": "2024-03-01T10:00:00Z",
            "age": 200,
        },
        {
            "identity_kind": "account_id",
            "identity": "A-1",
            "kind": "signal.gpc",
            "at": "2024-03-01T10:00:00Z",
            "colour": "red",
        },
    ]
    body = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n\n"
    report = run(ledger_db, write(tmp_path, "c.jsonl", body))
    assert report.recorded == 1
    assert [(r.line, r.field) for r in report.rejects] == [(2, "line"), (3, "line"), (4, "data"), (5, "colour")]


def test_unreadable_inputs(ledger_db: Database, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"\.csv or \.jsonl"):
        run(ledger_db, write(tmp_path, "c.txt", "x"))
    with pytest.raises(InvalidInput, match="unknown CSV columns: colour"):
        run(ledger_db, write(tmp_path, "c.csv", "identity_kind,identity,kind,at,colour\n"))
    with pytest.raises(InvalidInput, match="needs a at column"):
        run(ledger_db, write(tmp_path, "d.csv", "identity_kind,identity,kind\n"))
    with pytest.raises(InvalidInput, match="cannot be read"):
        run(ledger_db, tmp_path / "missing.csv")
    (tmp_path / "bin.csv").write_bytes(HEADER.encode() + b"\xff\xfe\n")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        run(ledger_db, tmp_path / "bin.csv")
