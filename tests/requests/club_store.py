"""A members' club store where people are known by phone and loyalty number, some with no e-mail at all.

For requests started without an e-mail address (issue 11, docs/design/identity-start.md). A Fides-style
dataset with three identity kinds (``email``, ``phone_number``, the custom ``loyalty_id``) and the facts the
privacy center asks for (postal code, date of birth). Read back with plain SQL, never with Charter's reading.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Engine, ForeignKey, Integer, MetaData, String, Table, create_engine, insert, select, text

from tests.execution import fides_style

metadata = MetaData()
members = Table(
    "members",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("email", String(120)),
    Column("phone", String(40)),
    Column("loyalty_id", String(64)),
    Column("name", String(80)),
    Column("postal_code", String(12)),
    Column("birth_date", String(10)),
)
visits = Table(
    "visits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("member_id", Integer, ForeignKey("members.id")),
    Column("note", String(200)),
)

ANA = {"id": 1, "email": "ana@example.org", "phone": "+1 512 555 0101", "loyalty_id": "L-1001", "name": "Ana Costa",
       "postal_code": "78701", "birth_date": "1990-04-01"}  # fmt: skip
BEN = {"id": 2, "email": None, "phone": "+1 (512) 555-0102", "loyalty_id": "L-1002", "name": "Ben Brandt",
       "postal_code": "78702", "birth_date": "1985-02-03"}  # fmt: skip
CLEO = {"id": 3, "email": None, "phone": "+15125550103", "loyalty_id": "L-1003", "name": "Cleo Dias",
        "postal_code": "78703", "birth_date": "1979-11-30"}  # fmt: skip
PEOPLE = [ANA, BEN, CLEO]
VISITS = [
    {"id": 10, "member_id": 1, "note": "Ana asked about the pool"},
    {"id": 11, "member_id": 2, "note": "Ben booked a court"},
    {"id": 12, "member_id": 2, "note": "Ben renewed"},
    {"id": 13, "member_id": 3, "note": "Cleo joined"},
]

DATASET = """\
dataset:
  - fides_key: club_db
    name: Members' club
    fides_meta: {namespace: {schema: SCHEMA}}
    collections:
      - name: members
        fields:
          - name: id
            data_categories: [system.operations]
            fides_meta: {primary_key: true}
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email, data_type: string, length: 120}
          - name: phone
            data_categories: [user.contact.phone_number]
            fides_meta: {identity: phone_number, data_type: string, length: 40}
          - name: loyalty_id
            data_categories: [user.unique_id]
            fides_meta: {identity: loyalty_id, data_type: string, length: 64}
          - name: name
            data_categories: [user.name]
            fides_meta: {data_type: string, length: 80}
          - name: postal_code
            data_categories: [user.contact.address.postal_code]
            fides_meta: {data_type: string, length: 12}
          - name: birth_date
            data_categories: [user.demographic.date_of_birth]
            fides_meta: {data_type: string, length: 10}
      - name: visits
        fides_meta: {masking_strategy_override: {strategy: delete}}
        fields:
          - name: id
            data_categories: [system.operations]
            fides_meta: {primary_key: true}
          - name: member_id
            data_categories: [system.operations]
            fides_meta:
              references:
                - {dataset: club_db, field: members.id, direction: from}
          - name: note
            data_categories: [user.content]
"""

SYSTEM = """\
systems:
  - id: club
    kind: sql
    url_env: CLUB_URL
    datasets: [club_db]
"""


@dataclass
class Store:
    url: str
    schema: str | None
    engine: Engine

    def rows(self, table: Table) -> list[dict[str, Any]]:
        """Every row of ``table`` by id, read by plain SQL."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(table).order_by(table.c.id)).mappings()]


@contextmanager
def store(backend: str, tmp_path: Path, *, admin_url: str | None = None) -> Iterator[Store]:
    """The club on ``backend``: a SQLite file or a PostgreSQL schema of its own."""
    schema: str | None = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'club.db'}"
    else:
        assert admin_url is not None
        url, schema = admin_url, f"club_{uuid.uuid4().hex[:8]}"
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
    engine = create_engine(url)
    if schema:
        engine = engine.execution_options(schema_translate_map={None: schema})
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(members), PEOPLE)
        conn.execute(insert(visits), VISITS)
    try:
        yield Store(url, schema, engine)
    finally:
        engine.dispose()
        if schema:
            cleanup = create_engine(url)
            with cleanup.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            cleanup.dispose()


def write_map(folder: Path, schema: str | None) -> Path:
    return fides_style.write_map(folder, schema, DATASET, SYSTEM)
