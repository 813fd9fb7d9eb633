"""The realistic multi-store dataset of issue 4: PostgreSQL + MariaDB + Redis, and its data map.

Per person ``p`` (1..N), 26 rows — N = 1,000,000 gives 26,000,000:

* PostgreSQL ``shop`` (18): ``customers`` 1, ``addresses`` 2, ``orders`` 3,
  ``order_items`` 6 (2 per order), ``payments`` 3 (1 per order),
  ``subscriptions`` 1, ``consents`` 2.
* MariaDB ``support`` (8): ``support_tickets`` 1 (``requester_email``),
  ``ticket_messages`` 2 per ticket, ``call_notes`` 1, ``loyalty_accounts`` 1
  (``email``), ``loyalty_events`` 3 per account.
* Redis (the run's key prefix, ``--redis-prefix``; any database): only the *active* people — every
  ``stride``-th person, ``stride = N // redis_people`` (10,000 by default, at any
  N): a session hash ``<prefix>:session:<token>`` holding the e-mail, and a cart hash
  ``<prefix>:cart:<customer id>``. Sessions expire in real shops, so only the
  recently active have one; keeping the Redis part the same size at 100k and
  1M people keeps the SCAN a session lookup needs (no index: the e-mail is a
  value, not in the key) the same at both sizes.

Values are realistic in shape (names from pools, e-mails, phones, street
addresses, postal codes, dates, card digits, free text), derived from ``p`` by
arithmetic — no Faker per row: 26M rows have to be generated in minutes. Ids are
arithmetic too (person ``p``'s orders are ``3(p-1)+1 .. 3p``), so a chunk of
people can be generated independently.

PostgreSQL is loaded with COPY, MariaDB with ``LOAD DATA LOCAL INFILE`` from
temp files of ≤ 1M rows, Redis with pipelines. Secondary indexes on every
reference and identity column and the foreign keys (real ones, within each
database) are added after the load.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _mariadb
import _redis
import psycopg
import pymysql
import redis
from _pg import libpq, log
from _wide import copy

#: the key prefix of the Redis part: ``<PREFIX>:session:…``, ``<PREFIX>:cart:…`` (``set_prefix``)
PREFIX = "cbm"
ENV_PG, ENV_MARIA, ENV_REDIS = (
    "CHARTER_BENCH_MULTI_PG_URL",
    "CHARTER_BENCH_MULTI_MARIA_URL",
    "CHARTER_BENCH_MULTI_REDIS_URL",
)


def _pool(text: str, sep: str | None = None) -> tuple[str, ...]:
    """A pool of values written as one string (keeps the module short)."""
    return tuple(text.split(sep))


FIRST = _pool(
    "Ana Ben Chloé Dmitri Elena Farid Grace Hiro Ines Jonas Kemal Lea Mateo Nora Olu Priya Quentin "
    "Rosa Sven Tomás Uma Viktor Wen Ximena Yusuf Zoe Amir Bianca Carlos Dana Emil Fatima Gustav Hana "
    "Ivan Julia Kofi Lucia Marek Nina Oscar Paula Rafael Sofia Theo Ulla Vera Will Yara Zain"
)
LAST = _pool(
    "Costa Brandt Nguyen Okafor Schmidt Rossi Dubois Tanaka Silva Novak Kowalski Jensen Haddad Moreau "
    "Fischer García Müller Yilmaz Kim Patel Larsen Romero Ivanova Smith Jones O'Brien Lindqvist "
    "Horvat Mendes Weber Kruger Petrov Santos Bauer Nakamura Akhtar Ferrari Dupont Andersen Wójcik"
)
STREETS = _pool(
    "Main St|Oak Avenue|Rue de la Paix|Hauptstraße|Via Roma|Calle Mayor|Station Road|Kings Road|"
    "Elm Street|Lakeview Drive",
    "|",
)
CITIES = _pool("Lisbon Berlin Paris Madrid Rome Dublin Warsaw Vienna Amsterdam Oslo Austin Toronto")
COUNTRIES = _pool("PT DE FR ES IT IE PL AT NL NO US CA")
PLANS = ("free", "plus", "family", "business")
PURPOSES = ("marketing_email", "analytics", "personalization", "third_party_sharing")
SUBJECTS = (
    "Where is my order?",
    "Refund for damaged item",
    "Change my delivery address",
    "Cannot log in",
    "Invoice request",
    "Cancel my subscription",
)
DOMAINS = ("example.org", "mail.example.com", "inbox.example.net", "example.co.uk")

PEOPLE_TABLES = {
    "customers": 1,
    "addresses": 2,
    "orders": 3,
    "order_items": 6,
    "payments": 3,
    "subscriptions": 1,
    "consents": 2,
    "support_tickets": 1,
    "ticket_messages": 2,
    "call_notes": 1,
    "loyalty_accounts": 1,
    "loyalty_events": 3,
}
ROWS_PER_PERSON = sum(PEOPLE_TABLES.values())


def first(p: int) -> str:
    return FIRST[(p * 7919) % len(FIRST)]


def last(p: int) -> str:
    return LAST[(p * 104729) % len(LAST)]


def email(p: int) -> str:
    return f"{first(p).lower()}.{last(p).lower().replace(chr(39), '')}{p}@{DOMAINS[p % len(DOMAINS)]}"


def phone(p: int) -> str:
    return f"+1{200 + p % 800:03d}{p % 10_000_000:07d}"


def birth(p: int) -> str:
    return f"{1950 + p % 55}-{1 + p % 12:02d}-{1 + p % 28:02d}"


def day(p: int, k: int) -> str:
    return f"{2019 + (p + k) % 7}-{1 + (p * 3 + k) % 12:02d}-{1 + (p + 5 * k) % 28:02d}"


def postal(p: int) -> str:
    return f"{10000 + (p * 37) % 89999}"


def token(p: int, k: int = 0) -> str:
    return hashlib.blake2b(f"session {p} {k}".encode(), digest_size=16).hexdigest()


def active(p: int, stride: int) -> bool:
    return p % stride == 0


def stride_of(people: int, redis_people: int) -> int:
    return max(1, people // max(1, redis_people))


# --- PostgreSQL --------------------------------------------------------------------------------------

PG_DDL = [
    "CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL, first_name text, last_name text,"
    " phone text, birth_date date, created_at timestamptz NOT NULL)",
    "CREATE TABLE addresses (id bigint PRIMARY KEY, customer_id bigint NOT NULL, kind text NOT NULL,"
    " line1 text, city text, postal_code text, country char(2))",
    "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, placed_at timestamptz NOT NULL,"
    " status text NOT NULL, total_cents integer NOT NULL, ship_postal_code text)",
    "CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint NOT NULL, sku text NOT NULL,"
    " quantity integer NOT NULL, price_cents integer NOT NULL)",
    "CREATE TABLE payments (id bigint PRIMARY KEY, order_id bigint NOT NULL, method text NOT NULL,"
    " card_last4 char(4), billing_name text, amount_cents integer NOT NULL, paid_at timestamptz NOT NULL)",
    "CREATE TABLE subscriptions (id bigint PRIMARY KEY, customer_id bigint NOT NULL, plan text NOT NULL,"
    " started_at date NOT NULL, renews boolean NOT NULL)",
    "CREATE TABLE consents (id bigint PRIMARY KEY, customer_id bigint NOT NULL, purpose text NOT NULL,"
    " granted_at timestamptz NOT NULL, ip_address inet)",
    "CREATE TABLE bench_meta (key text PRIMARY KEY, value text NOT NULL)",
    "CREATE TABLE bench_erased (person bigint PRIMARY KEY)",
]
PG_AFTER = [
    "CREATE INDEX ix_customers_email ON customers (email)",
    *[
        f"CREATE INDEX ix_{t}_{c} ON {t} ({c})"
        for t, c in (
            ("addresses", "customer_id"),
            ("orders", "customer_id"),
            ("order_items", "order_id"),
            ("payments", "order_id"),
            ("subscriptions", "customer_id"),
            ("consents", "customer_id"),
        )
    ],
    *[
        f"ALTER TABLE {t} ADD FOREIGN KEY ({c}) REFERENCES {r}(id)"
        for t, c, r in (
            ("addresses", "customer_id", "customers"),
            ("orders", "customer_id", "customers"),
            ("order_items", "order_id", "orders"),
            ("payments", "order_id", "orders"),
            ("subscriptions", "customer_id", "customers"),
            ("consents", "customer_id", "customers"),
        )
    ],
]


def pg_lines(table: str, lo: int, hi: int) -> Iterator[str]:
    """COPY text lines of ``table`` for people ``lo..hi-1``."""
    span = range(lo, hi)
    if table == "customers":
        for p in span:
            yield f"{p}\t{email(p)}\t{first(p)}\t{last(p)}\t{phone(p)}\t{birth(p)}\t{day(p, 0)} 10:{p % 60:02d}:00+00\n"
    elif table == "addresses":
        for p in span:
            for k, kind in enumerate(("home", "work")):
                yield (
                    f"{2 * (p - 1) + k + 1}\t{p}\t{kind}\t{1 + (p + k) % 250} {STREETS[(p + k) % len(STREETS)]}\t"
                    f"{CITIES[(p + 3 * k) % len(CITIES)]}\t{postal(p + k)}\t{COUNTRIES[(p + 3 * k) % len(COUNTRIES)]}\n"
                )
    elif table == "orders":
        for p in span:
            for k in range(3):
                o = 3 * (p - 1) + k + 1
                status = ("delivered", "shipped", "returned")[(p + k) % 3]
                yield f"{o}\t{p}\t{day(p, k + 1)} 12:00:00+00\t{status}\t{(o * 977) % 50_000 + 500}\t{postal(p)}\n"
    elif table == "order_items":
        for o in range(3 * (lo - 1) + 1, 3 * (hi - 1) + 1):
            for j in range(2):
                sku = (o * 31 + j) % 90_000 + 10_000
                yield f"{2 * (o - 1) + j + 1}\t{o}\tSKU-{sku}\t{1 + j}\t{(o * 13 + j) % 9_000 + 99}\n"
    elif table == "payments":
        for o in range(3 * (lo - 1) + 1, 3 * (hi - 1) + 1):
            p = (o - 1) // 3 + 1
            method = ("card", "card", "paypal")[o % 3]
            card = f"{(o * 7) % 10_000:04d}" if method == "card" else "\\N"
            paid = f"{day(p, o % 3 + 1)} 12:05:00+00"
            yield f"{o}\t{o}\t{method}\t{card}\t{first(p)} {last(p)}\t{(o * 977) % 50_000 + 500}\t{paid}\n"
    elif table == "subscriptions":
        for p in span:
            yield f"{p}\t{p}\t{PLANS[p % len(PLANS)]}\t{day(p, 2)}\t{'t' if p % 3 else 'f'}\n"
    elif table == "consents":
        for p in span:
            for k in range(2):
                yield (
                    f"{2 * (p - 1) + k + 1}\t{p}\t{PURPOSES[(p + k) % len(PURPOSES)]}\t{day(p, k)} 09:00:00+00\t"
                    f"10.{p % 250}.{(p // 250) % 250}.{1 + k}\n"
                )
    else:
        raise ValueError(table)


PG_TABLES = {
    "customers": "id, email, first_name, last_name, phone, birth_date, created_at",
    "addresses": "id, customer_id, kind, line1, city, postal_code, country",
    "orders": "id, customer_id, placed_at, status, total_cents, ship_postal_code",
    "order_items": "id, order_id, sku, quantity, price_cents",
    "payments": "id, order_id, method, card_last4, billing_name, amount_cents, paid_at",
    "subscriptions": "id, customer_id, plan, started_at, renews",
    "consents": "id, customer_id, purpose, granted_at, ip_address",
}

CHUNK = 100_000  # people per generated block


def _blocks(people: int) -> Iterator[tuple[int, int]]:
    for lo in range(1, people + 1, CHUNK):
        yield lo, min(people + 1, lo + CHUNK)


def load_pg(url: str, people: int) -> dict[str, float]:
    times: dict[str, float] = {}
    with psycopg.connect(libpq(url)) as conn:
        conn.execute("SET synchronous_commit = off")
        for statement in PG_DDL:
            conn.execute(statement)
        for table, columns in PG_TABLES.items():
            begun = time.perf_counter()
            copy(conn, table, columns, (line for lo, hi in _blocks(people) for line in pg_lines(table, lo, hi)))
            conn.commit()
            times[f"copy_{table}_s"] = round(time.perf_counter() - begun, 1)
            log(f"  postgresql {table}: {times[f'copy_{table}_s']} s")
        begun = time.perf_counter()
        for statement in PG_AFTER:
            conn.execute(statement)
        conn.execute("INSERT INTO bench_meta VALUES ('people', %s)", (str(people),))
        conn.commit()
        times["indexes_and_fks_s"] = round(time.perf_counter() - begun, 1)
        begun = time.perf_counter()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        times["vacuum_analyze_s"] = round(time.perf_counter() - begun, 1)
    return times


# --- MariaDB -----------------------------------------------------------------------------------------

MARIA_DDL = [
    "CREATE TABLE support_tickets (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL,"
    " requester_email VARCHAR(120) NOT NULL, subject VARCHAR(200) NOT NULL, body TEXT, opened_at DATETIME NOT NULL)",
    "CREATE TABLE ticket_messages (id BIGINT PRIMARY KEY, ticket_id BIGINT NOT NULL, author VARCHAR(20) NOT NULL,"
    " body TEXT, sent_at DATETIME NOT NULL)",
    "CREATE TABLE call_notes (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, phone VARCHAR(30),"
    " note TEXT, called_at DATETIME NOT NULL)",
    "CREATE TABLE loyalty_accounts (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, email VARCHAR(120) NOT NULL,"
    " tier VARCHAR(20) NOT NULL, points INT NOT NULL)",
    "CREATE TABLE loyalty_events (id BIGINT PRIMARY KEY, account_id BIGINT NOT NULL, kind VARCHAR(20) NOT NULL,"
    " points INT NOT NULL, at DATETIME NOT NULL)",
]
MARIA_AFTER = [
    "ALTER TABLE support_tickets ADD INDEX ix_tickets_email (requester_email),"
    " ADD INDEX ix_tickets_customer (customer_id)",
    "ALTER TABLE ticket_messages ADD INDEX ix_messages_ticket (ticket_id),"
    " ADD FOREIGN KEY fk_messages_ticket (ticket_id) REFERENCES support_tickets(id)",
    "ALTER TABLE call_notes ADD INDEX ix_calls_customer (customer_id)",
    "ALTER TABLE loyalty_accounts ADD INDEX ix_loyalty_email (email), ADD INDEX ix_loyalty_customer (customer_id)",
    "ALTER TABLE loyalty_events ADD INDEX ix_events_account (account_id),"
    " ADD FOREIGN KEY fk_events_account (account_id) REFERENCES loyalty_accounts(id)",
]


def maria_lines(table: str, lo: int, hi: int) -> Iterator[str]:
    span = range(lo, hi)
    if table == "support_tickets":
        for p in span:
            subject = SUBJECTS[p % len(SUBJECTS)]
            yield (
                f"{p}\t{p}\t{email(p)}\t{subject}\tHello, this is {first(p)} {last(p)}. {subject} "
                f"My phone is {phone(p)}.\t{day(p, 4)} 08:30:00\n"
            )
    elif table == "ticket_messages":
        for p in span:
            for k in range(2):
                author = ("customer", "agent")[k]
                body = f"Message {k + 1} about ticket {p} from {author}."
                yield f"{2 * (p - 1) + k + 1}\t{p}\t{author}\t{body}\t{day(p, 4)} 09:{10 * k:02d}:00\n"
    elif table == "call_notes":
        for p in span:
            note = f"Called {first(p)} about order {3 * p}; prefers e-mail."
            yield f"{p}\t{p}\t{phone(p)}\t{note}\t{day(p, 5)} 15:00:00\n"
    elif table == "loyalty_accounts":
        for p in span:
            yield f"{p}\t{p}\t{email(p)}\t{('bronze', 'silver', 'gold')[p % 3]}\t{(p * 17) % 5000}\n"
    elif table == "loyalty_events":
        for p in span:
            for k in range(3):
                kind = ("earn", "earn", "redeem")[k]
                yield f"{3 * (p - 1) + k + 1}\t{p}\t{kind}\t{(p + k) % 300}\t{day(p, k)} 18:00:00\n"
    else:
        raise ValueError(table)


def maria_url(database: str) -> str:
    return _mariadb.database_url(database)


def maria_connect(database: str, admin_url: str | None = None) -> pymysql.Connection[Any]:
    """A connection to ``database`` in a transaction of its own (autocommit off), as the baseline uses."""
    return _mariadb.connect(database, admin_url=admin_url, autocommit=False)


def load_maria(database: str, people: int) -> dict[str, float]:
    times: dict[str, float] = {}
    with _mariadb.connect(database) as conn, conn.cursor() as cur, tempfile.TemporaryDirectory() as tmp:
        cur.execute("SELECT @@GLOBAL.local_infile")
        was = int(cur.fetchone()[0])
        if not was:  # the server's setting, put back as it was below
            cur.execute("SET GLOBAL local_infile = 1")
        try:
            _load_maria(cur, tmp, people, times)
        finally:
            if not was:
                cur.execute("SET GLOBAL local_infile = 0")
    return times


def _load_maria(cur: Any, tmp: str, people: int, times: dict[str, float]) -> None:
    cur.execute("SET SESSION foreign_key_checks = 0, unique_checks = 0")
    for statement in MARIA_DDL:
        cur.execute(statement)
    for table in ("support_tickets", "ticket_messages", "call_notes", "loyalty_accounts", "loyalty_events"):
        begun = time.perf_counter()
        path = Path(tmp) / f"{table}.tsv"
        for lo, hi in _blocks(people):
            with path.open("w", encoding="utf-8") as out:
                out.writelines(maria_lines(table, lo, hi))
            cur.execute(
                f"LOAD DATA LOCAL INFILE %s INTO TABLE {table} CHARACTER SET utf8mb4"
                " FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n'",
                (str(path),),
            )
        times[f"load_{table}_s"] = round(time.perf_counter() - begun, 1)
        log(f"  mariadb {table}: {times[f'load_{table}_s']} s")
    begun = time.perf_counter()
    for statement in MARIA_AFTER:
        cur.execute(statement)
    cur.execute("ANALYZE TABLE support_tickets, ticket_messages, call_notes, loyalty_accounts, loyalty_events")
    cur.fetchall()
    times["indexes_and_fks_s"] = round(time.perf_counter() - begun, 1)


# --- Redis -------------------------------------------------------------------------------------------


def set_prefix(prefix: str) -> None:
    """The run's own key prefix (``--redis-prefix``): the data map's key patterns and the baseline use it."""
    global PREFIX  # one prefix per run; the measuring process sets it again from its setup
    PREFIX = prefix


def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True)


def load_redis(url: str, people: int, stride: int) -> dict[str, float]:
    """Sessions and carts under the run's prefix (any older keys under it deleted first, no other key)."""
    _redis.delete_prefix(url, f"{PREFIX}:")
    client = redis_client(url)
    begun = time.perf_counter()
    pipe = client.pipeline(transaction=False)
    keys = 0
    for p in range(stride, people + 1, stride):
        pipe.hset(
            f"{PREFIX}:session:{token(p)}",
            mapping={
                "email": email(p),
                "created_at": f"{day(p, 6)}T07:00:00",
                "ip": f"10.{p % 250}.0.1",
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
            },
        )
        pipe.hset(
            f"{PREFIX}:cart:{p}",
            mapping={
                "customer_id": str(p),
                "items": str(1 + p % 5),
                "ship_name": f"{first(p)} {last(p)}",
                "updated_at": f"{day(p, 6)}T07:05:00",
            },
        )
        keys += 2
        if keys % 10_000 == 0:
            pipe.execute()
    pipe.execute()
    client.close()
    return {"keys": keys, "load_s": round(time.perf_counter() - begun, 1)}
