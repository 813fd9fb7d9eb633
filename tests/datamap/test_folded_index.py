"""The live check names the index an identity's folded matching needs (issue 11: matched as people expect).

E-mail is compared as ``lower(trim(column))`` and a phone by its digits on
every store (P-RGT-1: every row of the person, whatever the case). An index
on the bare column does not serve that comparison: a note says which index
would, and says nothing once it exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.datamap.conftest import Check

Write = Callable[[str, str], Path]

MAP = """\
systems:
  - {id: crm, kind: sql, url_env: CRM_URL, datasets: [crm]}
dataset:
  - fides_key: crm
    SCHEMA
    collections:
      - name: contacts
        fields:
          - name: id
            fides_meta: {primary_key: true}
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email}
"""


def _notes(report: object) -> list[str]:
    return [f.render() for f in report.findings if f.severity == "note"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_note_names_the_functional_index_until_it_exists(
    backend: str, write: Write, check: Check, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    schema = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'crm.db'}"
    else:
        url, schema = request.getfixturevalue("postgres_url"), f"crm_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url)
    table = f'"{schema}".contacts' if schema else "contacts"
    with engine.begin() as conn:
        if schema:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, email VARCHAR(200))"))
        conn.execute(text(f"CREATE INDEX ix_plain ON {table} (email)"))  # the bare column serves nothing folded
    path = write(
        "crm.yaml", MAP.replace("SCHEMA", f"fides_meta: {{namespace: {{schema: {schema}}}}}" if schema else "")
    )
    try:
        [line] = _notes(check(path, live=True, env={"CRM_URL": url}))
        assert "'contacts.email' is matched as an email (case and surrounding spaces ignored)" in line
        assert "CREATE INDEX ON contacts (lower(" in line and "trim(email, " in line
        with engine.begin() as conn:
            advised = line.split("On a large table: ")[1].replace("ON contacts", f"ix_folded ON {table}")
            conn.execute(text(advised))  # the statement exactly as the note advises it
        assert _notes(check(path, live=True, env={"CRM_URL": url})) == []
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE' if schema else "DROP TABLE contacts"))
        engine.dispose()
