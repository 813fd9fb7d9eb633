"""The demo organization's own databases: a shop and a support desk, as SQLite files.

They hold the same synthetic people as the demo ledger (:mod:`charter.demo.people`),
so a request from ``ana@example.org`` finds her orders and tickets. The data
map describing them is ``examples/west/datamap/``. Deterministic (a fixed
seed); invented data on ``example.org`` only. Safe to run again: a store
that already holds its people is left as it is.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    insert,
    select,
)

from charter.demo import people

SEED = 20240401
SHOP_FILE = "shop.db"
SUPPORT_FILE = "support.db"
START = datetime(2023, 2, 1, tzinfo=UTC)
NAMED_NAMES = {
    "ana@example.org": ("Ana", "Costa"),
    "ben@example.org": ("Ben", "Brandt"),
    "chloe@example.org": ("Chloe", "Dubois"),
    "dev@example.org": ("Dev", "Ito"),
}
CITIES = (("Lisbon", "PT", "1100-148"), ("Berlin", "DE", "10115"), ("Lyon", "FR", "69001"), ("Austin", "US", "78701"))
SKUS = ("mug-01", "tee-02", "cap-03", "book-04", "pen-05")

shop = MetaData()
customers = Table(
    "customers",
    shop,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("phone", String(32)),
    Column("birth_date", Date),
    Column("created_at", DateTime, nullable=False),
)
addresses = Table(
    "addresses",
    shop,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("street", String(200), nullable=False),
    Column("city", String(100), nullable=False),
    Column("postal_code", String(20), nullable=False),
    Column("country", String(2), nullable=False),
)
orders = Table(
    "orders",
    shop,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("placed_at", DateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("total_cents", Integer, nullable=False),
)
order_items = Table(
    "order_items",
    shop,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
    Column("sku", String(40), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("price_cents", Integer, nullable=False),
)
payments = Table(
    "payments",
    shop,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
    Column("card_holder", String(200)),
    Column("card_last4", String(4)),
    Column("amount_cents", Integer, nullable=False),
    Column("paid_at", DateTime, nullable=False),
)

support = MetaData()
tickets = Table(
    "tickets",
    support,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("opened_at", DateTime, nullable=False),
)
messages = Table(
    "messages",
    support,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False),
    Column("author", String(20), nullable=False),
    Column("body", Text, nullable=False),
    Column("sent_at", DateTime, nullable=False),
)
SUBJECTS = ("Where is my order?", "Refund for a damaged mug", "Change my delivery address", "Invoice copy")


def _name(email: str) -> tuple[str, str]:
    if email in NAMED_NAMES:
        return NAMED_NAMES[email]
    first, _, rest = email.partition("@")[0].partition(".")
    return first.capitalize(), rest.rstrip("0123456789").capitalize()


def shop_rows(emails: list[str], rng: random.Random) -> dict[Table, list[dict[str, object]]]:
    rows: dict[Table, list[dict[str, object]]] = {t: [] for t in shop.sorted_tables}
    order_id = item_id = 0
    for customer_id, email in enumerate(emails, start=1):
        first, last = _name(email)
        joined = START + timedelta(days=rng.randrange(0, 700), minutes=rng.randrange(0, 1440))
        born = date(rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28))
        if email == "dev@example.org":
            born = date(2008, 5, 17)  # the demo's minor (attested age 15 in 2023)
        phone = f"+1512555{customer_id:04d}" if rng.random() < 0.6 else None
        rows[customers].append(
            {
                "id": customer_id,
                "email": email,
                "first_name": first,
                "last_name": last,
                "phone": phone,
                "birth_date": born,
                "created_at": joined,
            }
        )
        city, country, postal = rng.choice(CITIES)
        street = f"{rng.randint(1, 200)} {rng.choice(('Main', 'Oak', 'Harbour', 'Mill'))} Street"
        row = {"customer_id": customer_id, "street": street, "city": city, "postal_code": postal, "country": country}
        rows[addresses].append({"id": customer_id, **row})
        for _ in range(rng.randint(0, 3) if email not in NAMED_NAMES else 2):
            order_id += 1
            placed = joined + timedelta(days=rng.randrange(1, 300))
            total = 0
            for _ in range(rng.randint(1, 3)):
                item_id += 1
                price, quantity = rng.choice((900, 1500, 2400, 3200)), rng.randint(1, 2)
                total += price * quantity
                rows[order_items].append(
                    {
                        "id": item_id,
                        "order_id": order_id,
                        "sku": rng.choice(SKUS),
                        "quantity": quantity,
                        "price_cents": price,
                    }
                )
            rows[orders].append(
                {
                    "id": order_id,
                    "customer_id": customer_id,
                    "placed_at": placed,
                    "status": "shipped",
                    "total_cents": total,
                }
            )
            rows[payments].append(
                {
                    "id": order_id,
                    "order_id": order_id,
                    "card_holder": f"{first} {last}",
                    "card_last4": f"{rng.randint(0, 9999):04d}",
                    "amount_cents": total,
                    "paid_at": placed + timedelta(minutes=2),
                }
            )
    return rows


def support_rows(emails: list[str], rng: random.Random) -> dict[Table, list[dict[str, object]]]:
    rows: dict[Table, list[dict[str, object]]] = {tickets: [], messages: []}
    message_id = 0
    for email in emails:
        if email not in ("ana@example.org", "ben@example.org") and rng.random() > 0.3:
            continue
        ticket_id = len(rows[tickets]) + 1
        opened = START + timedelta(days=rng.randrange(30, 800), minutes=rng.randrange(0, 1440))
        subject = rng.choice(SUBJECTS)
        rows[tickets].append(
            {"id": ticket_id, "email": email, "subject": subject, "status": "closed", "opened_at": opened}
        )
        first, _ = _name(email)
        conversation = (
            ("customer", f"Hello, this is {first}. {subject} Thanks!"),
            ("agent", f"Hi {first}, thanks for writing; it is sorted now."),
        )
        for offset, (author, body) in enumerate(conversation):
            message_id += 1
            sent = opened + timedelta(hours=offset * 5)
            rows[messages].append(
                {"id": message_id, "ticket_id": ticket_id, "author": author, "body": body, "sent_at": sent}
            )
    return rows


def fill(engine: Engine, metadata: MetaData, first: Table, rows: dict[Table, list[dict[str, object]]]) -> int:
    """Create the tables and add ``rows`` unless ``first`` already holds some; return the rows of ``first`` added."""
    metadata.create_all(engine)
    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(first)).scalar_one():
            return 0
        for table in metadata.sorted_tables:
            if rows[table]:
                conn.execute(insert(table), rows[table])
    return len(rows[first])


def _fill(path: Path, metadata: MetaData, first: Table, rows: dict[Table, list[dict[str, object]]]) -> int:
    engine = create_engine(f"sqlite:///{path}")
    try:
        return fill(engine, metadata, first, rows)
    finally:
        engine.dispose()


def create(home: Path, *, count: int = 250) -> dict[str, int]:
    """Create (once) the shop and support stores under ``home``; return the people added to each."""
    home.mkdir(parents=True, exist_ok=True)
    emails = people.emails(count)
    added = {
        SHOP_FILE: _fill(home / SHOP_FILE, shop, customers, shop_rows(emails, random.Random(SEED))),  # noqa: S311
        SUPPORT_FILE: _fill(home / SUPPORT_FILE, support, tickets, support_rows(emails, random.Random(SEED + 1))),  # noqa: S311
    }
    _folded_indexes(home)
    return added


#: The indexes that serve Charter's identity matching (e-mail case- and space-insensitive, phone by digits), as
#: ``charter datamap check --live`` suggests them; SQLite and PostgreSQL index expressions, MariaDB cannot.
FOLDED_INDEXES = {
    SHOP_FILE: (
        "CREATE INDEX IF NOT EXISTS ix_customers_email_folded ON customers "
        "(lower(trim(email, ' ' || char(9) || char(10) || char(13))))",
        "CREATE INDEX IF NOT EXISTS ix_customers_phone_folded ON customers (replace(replace(replace(replace("
        "replace(replace(replace(phone, ' ', ''), '-', ''), '(', ''), ')', ''), '.', ''), '+', ''), '/', ''))",
    ),
    SUPPORT_FILE: (
        "CREATE INDEX IF NOT EXISTS ix_tickets_email_folded ON tickets "
        "(lower(trim(email, ' ' || char(9) || char(10) || char(13))))",
    ),
}


def _folded_indexes(home: Path) -> None:
    for file, statements in FOLDED_INDEXES.items():
        engine = create_engine(f"sqlite:///{home / file}")
        try:
            with engine.begin() as conn:
                for statement in statements:
                    conn.exec_driver_sql(statement)
        finally:
            engine.dispose()
