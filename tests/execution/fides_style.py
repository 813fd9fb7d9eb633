"""A store shaped like the sample project Fides users start from, and its data map as they write it.

Written for Charter (no other project's files): customers with addresses,
orders, payment cards, logins and a visit log without a primary key. The
data map has data categories on every field and **no** ``charter:`` key:
how a Fides user's datasets look when they arrive (issue 11, finding 1).
E-mails are stored in mixed case and with spaces, as real rows are.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url

metadata = MetaData()
address = Table(
    "address",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("house", Integer),
    Column("street", String(100)),
    Column("city", String(60)),
    Column("zip", String(12)),
)
customer = Table(
    "customer",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("email", String(120), nullable=False, unique=True),
    Column("name", String(80)),
    Column("phone", String(30)),
    Column("created", DateTime),
    Column("address_id", Integer, ForeignKey("address.id")),
)
payment_card = Table(
    "payment_card",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("name", String(80)),
    Column("ccn", String(30)),
    Column("preferred", Boolean),
    Column("customer_id", Integer, ForeignKey("customer.id")),
    Column("billing_address_id", Integer, ForeignKey("address.id")),
)
orders = Table(
    "orders",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("customer_id", Integer, ForeignKey("customer.id")),
    Column("shipping_address_id", Integer, ForeignKey("address.id")),
)
login = Table(
    "login",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customer_id", Integer, ForeignKey("customer.id")),
    Column("time", DateTime),
)
visit = Table("visit", metadata, Column("email", String(120)), Column("last_visit", DateTime))
#: keyed on phone numbers, written in another format, with no reference to anything (finding 7)
sms_optin = Table(
    "sms_optin",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("msisdn", String(30), nullable=False),
    Column("opted_in", DateTime),
)

DATASET = """\
dataset:
  - fides_key: fides_style_db
    name: Sample shop database
    description: A shop's customers, as a Fides user describes them.
    fides_meta: {namespace: {schema: SCHEMA}}
    collections:
      - name: address
        fields:
          - name: id
            data_categories: [system.operations]
            fides_meta: {primary_key: true}
          - name: house
            data_categories: [user.contact.address.street]
            fides_meta: {data_type: integer}
          - name: street
            data_categories: [user.contact.address.street]
            fides_meta: {data_type: string, length: 100}
          - name: city
            data_categories: [user.contact.address.city]
          - name: zip
            data_categories: [user.contact.address.postal_code]
      - name: customer
        fields:
          - name: id
            data_categories: [user.unique_id]
            fides_meta: {primary_key: true}
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email, data_type: string}
          - name: name
            data_categories: [user.name]
            fides_meta: {data_type: string, length: 80}
          - name: phone
            data_categories: [user.contact.phone_number]
            fides_meta: {identity: phone_number}
          - name: created
            data_categories: [system.operations]
          - name: address_id
            data_categories: [system.operations]
            fides_meta:
              references:
                - {dataset: fides_style_db, field: address.id, direction: to}
      - name: payment_card
        fields:
          - name: id
            data_categories: [system.operations]
            fides_meta: {primary_key: true}
          - name: name
            data_categories: [user.financial]
          - name: ccn
            data_categories: [user.financial.bank_account]
          - name: preferred
            data_categories: [user]
          - name: customer_id
            data_categories: [user.unique_id]
            fides_meta:
              references:
                - {dataset: fides_style_db, field: customer.id, direction: from}
          - name: billing_address_id
            data_categories: [system.operations]
            fides_meta:
              references:
                - {dataset: fides_style_db, field: address.id, direction: to}
      - name: orders
        fields:
          - name: id
            data_categories: [system.operations]
            fides_meta: {primary_key: true}
          - name: customer_id
            data_categories: [user.unique_id]
            fides_meta:
              references:
                - {dataset: fides_style_db, field: customer.id, direction: from}
          - name: shipping_address_id
            data_categories: [system.operations]
            fides_meta:
              references:
                - {dataset: fides_style_db, field: address.id, direction: to}
      - name: login
        fields:
          - name: id
            data_categories: [system.operations]
            fides_meta: {primary_key: true}
          - name: customer_id
            data_categories: [user.unique_id]
            fides_meta:
              references:
                - {dataset: fides_style_db, field: customer.id, direction: from}
          - name: time
            data_categories: [user.sensor]
      - name: visit
        fides_meta: {masking_strategy_override: {strategy: delete}}
        fields:
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email}
          - name: last_visit
            data_categories: [system.operations]
      - name: sms_optin
        fields:
          - name: id
            data_categories: [system.operations]
            fides_meta: {primary_key: true}
          - name: msisdn
            data_categories: [user.contact.phone_number]
            fides_meta: {identity: phone_number}
          - name: opted_in
            data_categories: [system.operations]
"""

SYSTEM = """\
systems:
  - id: fides_style
    kind: sql
    url_env: FIDES_STYLE_URL
    datasets: [fides_style_db]
"""


@dataclass(frozen=True)
class Person:
    id: int
    email: str  # as stored: mixed case, spaces
    name: str
    phone: str  # as the shop writes it; the SMS system keeps the digits alone


PEOPLE = [
    Person(1, "Ana.Costa@Example.COM", "Ana Costa", "+1 (512) 555-0101"),
    Person(2, "ben@example.org", "Ben Brandt", "+1 512 555 0102"),
    Person(3, " bana.costa@example.com", "Bana Costa", "+1-512-555-0103"),
    Person(4, "ana.costa@example.co", "Ana Costa-Lima", "+1 512 555 0104"),
    Person(5, "Eduardo@Example.com", "Eduardo Reyes", "+1 512 555 0105"),
]
ANA = "ana.costa@example.com"  # as she types it in the request form
ANA_ID = 1


def rows() -> dict[Table, list[dict[str, Any]]]:
    """Several people; Ana has two cards, two orders, logins and visits logged in other cases."""
    at = datetime(2024, 5, 1, 12, 0, 0)
    out: dict[Table, list[dict[str, Any]]] = {t: [] for t in metadata.sorted_tables}
    for p in PEOPLE:
        out[address].append(
            {"id": 100 + p.id, "house": 10 + p.id, "street": f"{p.id} Elm St", "city": "Porto", "zip": f"40{p.id}"}
        )
        out[customer].append(
            {"id": p.id, "email": p.email, "name": p.name, "phone": p.phone, "created": at, "address_id": 100 + p.id}
        )
        digits = "".join(ch for ch in p.phone if ch.isdigit())
        out[sms_optin].append({"id": 500 + p.id, "msisdn": digits, "opted_in": at})
        if p.id == ANA_ID:
            for extra, street in ((201, "9 Billing Way"), (301, "7 Shipping Lane")):
                out[address].append({"id": extra, "house": 7, "street": street, "city": "Braga", "zip": "4700"})
        for n in range(2 if p.id == ANA_ID else 1):
            # Ana's second card is billed to, and her second order shipped to, addresses only they point at
            # (issue 11, finding 6: reached from a collection as far from her e-mail as the address itself)
            billing, shipping = (200 + n, 300 + n) if p.id == ANA_ID and n else (100 + p.id, 100 + p.id)
            card = {"id": f"card-{p.id}-{n}", "name": p.name, "ccn": f"4111{p.id:04d}{n:04d}", "preferred": n == 0}
            out[payment_card].append({**card, "customer_id": p.id, "billing_address_id": billing})
            out[orders].append({"id": f"ord-{p.id}-{n}", "customer_id": p.id, "shipping_address_id": shipping})
        out[login].append({"id": 1000 + p.id, "customer_id": p.id, "time": at})
        out[visit].append({"email": p.email.strip().upper(), "last_visit": at})
    out[visit].append({"email": ANA, "last_visit": at})
    return out


@dataclass
class Store:
    url: str
    schema: str | None
    engine: Engine

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table, read by plain SQL (not by Charter), in a stable order."""
        out = {}
        with self.engine.connect() as conn:
            for table in metadata.sorted_tables:
                ordered = select(table).order_by(*[c for c in table.c])
                out[table.name] = [dict(r) for r in conn.execute(ordered).mappings()]
        return out


def _bound(engine: Engine, schema: str | None) -> Engine:
    return engine.execution_options(schema_translate_map={None: schema}) if schema else engine


@contextmanager
def store(backend: str, tmp_path: Path, *, admin_url: str | None = None) -> Iterator[Store]:
    """The sample store on ``backend``: a SQLite file, a PostgreSQL schema, or a MariaDB database of its own."""
    schema: str | None = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'fides_style.db'}"
    elif backend == "postgresql":
        assert admin_url is not None
        url, schema = admin_url, f"Fides_Style_{uuid.uuid4().hex[:8]}"  # mixed case: quoted everywhere
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
    else:
        assert admin_url is not None
        name = f"fides_style_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        admin.dispose()
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine = _bound(create_engine(url), schema)
    metadata.create_all(engine)
    with engine.begin() as conn:
        for table, values in rows().items():
            if values:
                conn.execute(insert(table), values)
    try:
        yield Store(url, schema, engine)
    finally:
        engine.dispose()
        cleanup = create_engine(admin_url or url)
        with cleanup.begin() as conn:
            if backend == "postgresql":
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            elif backend == "mariadb":
                conn.execute(text(f"DROP DATABASE `{make_url(url).database}`"))
        cleanup.dispose()


def write_map(folder: Path, schema: str | None, dataset: str = DATASET, system: str = SYSTEM) -> Path:
    """A Fides-style dataset file and its system file in ``folder``; ``SCHEMA`` in the dataset's namespace
    becomes ``schema``, or the namespace goes (SQLite, MariaDB: the URL's database)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = (
        dataset.replace("SCHEMA", schema)
        if schema
        else dataset.replace("    fides_meta: {namespace: {schema: SCHEMA}}\n", "")
    )
    (folder / "dataset.yml").write_text(written)
    (folder / "system.yml").write_text(system)
    return folder
