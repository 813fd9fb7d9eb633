"""The hand-written baseline of the multi-store bench: the same reads, deletes and updates as Charter's plan.

One kept connection per store (psycopg, PyMySQL, redis-py), one transaction per
SQL store per person. Access: the customer by e-mail, then every table reached
from it with one ``= ANY`` / ``IN`` query (PostgreSQL), tickets and loyalty
accounts by e-mail and their children, call notes by the customer ids
(MariaDB), sessions by SCAN MATCH + HGET pipeline and HGETALL of the hits, the
carts by key (Redis); the rows written to one JSON file. Erasure: the same
reads, then the same strategies as the data map — DELETE addresses,
subscriptions, consents, ticket messages, tickets, loyalty events and accounts;
UPDATE the customer (HMAC of the e-mail, NULLs, birth date to January 1st),
orders (postal code redacted), payments (card digits and name NULL), call
notes; DEL the sessions, HDEL the cart's ``ship_name`` — then a verification
that re-reads each store (including the session SCAN), as Charter's verify
steps do.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _multistore_data as data
import psycopg
import pymysql
import redis

SCAN_COUNT = 500  # Charter's default CHARTER_CONNECTORS_SCAN_COUNT
REDACTED = "(erased)"
#: Seconds the baseline spent in each store since the last ``take_spent`` (to compare with Charter's split).
SPENT: dict[str, float] = {}


@contextmanager
def spent(store: str) -> Iterator[None]:
    begun = time.perf_counter()
    try:
        yield
    finally:
        SPENT[store] = SPENT.get(store, 0.0) + time.perf_counter() - begun


def take_spent() -> dict[str, float]:
    out = dict(SPENT)
    SPENT.clear()
    return out


@dataclass
class Stores:
    pg: psycopg.Connection[Any]
    maria: pymysql.Connection[Any]
    cache: redis.Redis | None  # None: the SQL-only comparison (``--no-redis``)

    def close(self) -> None:
        self.pg.close()
        self.maria.close()
        if self.cache is not None:
            self.cache.close()


Found = dict[str, list[Any]]


def _pg_reads(cur: psycopg.Cursor[Any], mail: str) -> Found:
    out: Found = {"customers": cur.execute("SELECT * FROM customers WHERE email = %s", (mail,)).fetchall()}
    ids = [r[0] for r in out["customers"]]
    for table in ("addresses", "orders", "subscriptions", "consents"):
        out[table] = cur.execute(f"SELECT * FROM {table} WHERE customer_id = ANY(%s)", (ids,)).fetchall()
    orders = [r[0] for r in out["orders"]]
    for table in ("order_items", "payments"):
        out[table] = cur.execute(f"SELECT * FROM {table} WHERE order_id = ANY(%s)", (orders,)).fetchall()
    return out


def _in(values: list[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _maria_reads(cur: Any, mail: str, ids: list[int]) -> Found:
    out: Found = {}
    cur.execute("SELECT * FROM support_tickets WHERE requester_email = %s", (mail,))
    out["support_tickets"] = list(cur.fetchall())
    tickets = [r[0] for r in out["support_tickets"]]
    out["ticket_messages"] = []
    if tickets:
        cur.execute(f"SELECT * FROM ticket_messages WHERE ticket_id IN ({_in(tickets)})", tickets)
        out["ticket_messages"] = list(cur.fetchall())
    out["call_notes"] = []
    if ids:
        cur.execute(f"SELECT * FROM call_notes WHERE customer_id IN ({_in(ids)})", ids)
        out["call_notes"] = list(cur.fetchall())
    cur.execute("SELECT * FROM loyalty_accounts WHERE email = %s", (mail,))
    out["loyalty_accounts"] = list(cur.fetchall())
    accounts = [r[0] for r in out["loyalty_accounts"]]
    out["loyalty_events"] = []
    if accounts:
        cur.execute(f"SELECT * FROM loyalty_events WHERE account_id IN ({_in(accounts)})", accounts)
        out["loyalty_events"] = list(cur.fetchall())
    return out


def _sessions(cache: redis.Redis, mail: str) -> list[str]:
    """Session keys whose hash holds ``mail``: SCAN (no index exists), HGET of each batch in one pipeline."""
    hits: list[str] = []
    batch: list[str] = []

    def check() -> None:
        pipe = cache.pipeline(transaction=False)
        for key in batch:
            pipe.hget(key, "email")
        hits.extend(k for k, v in zip(batch, pipe.execute(), strict=True) if v == mail)

    for key in cache.scan_iter(match=f"{data.PREFIX}:session:*", count=SCAN_COUNT, _type="HASH"):
        batch.append(key)
        if len(batch) >= SCAN_COUNT:
            check()
            batch = []
    if batch:
        check()
    return hits


def _redis_reads(cache: redis.Redis, mail: str, ids: list[int]) -> tuple[Found, list[str], list[str]]:
    sessions = _sessions(cache, mail)
    carts = [f"{data.PREFIX}:cart:{i}" for i in ids]
    pipe = cache.pipeline(transaction=False)
    for key in [*sessions, *carts]:
        pipe.hgetall(key)
    values = pipe.execute()
    found = {"sessions": values[: len(sessions)], "carts": [v for v in values[len(sessions) :] if v]}
    return found, sessions, [k for k, v in zip(carts, values[len(sessions) :], strict=True) if v]


def read_all(stores: Stores, mail: str) -> tuple[Found, list[str], list[str]]:
    with spent("postgresql_store"), stores.pg.transaction(), stores.pg.cursor() as cur:
        found = _pg_reads(cur, mail)
    ids = [r[0] for r in found["customers"]]
    with spent("mariadb_store"), stores.maria.cursor() as cur:
        found.update(_maria_reads(cur, mail, ids))
        stores.maria.commit()
    if stores.cache is None:
        return found, [], []
    with spent("redis_store"):
        cached, sessions, carts = _redis_reads(stores.cache, mail, ids)
    found.update(cached)
    return found, sessions, carts


def access(stores: Stores, mail: str, folder: Path, label: str) -> int:
    found = read_all(stores, mail)[0]
    (folder / f"baseline-{label}.json").write_text(json.dumps(found, default=str))
    return sum(len(v) for v in found.values())


def base_key(secret: bytes) -> bytes:
    return hashlib.sha256(b"bench baseline\x00" + secret).digest()


def erase(stores: Stores, mail: str, key: bytes) -> int:
    found, sessions, carts = read_all(stores, mail)
    ids = [r[0] for r in found["customers"]]
    orders = [r[0] for r in found["orders"]]
    hashed = hmac.new(key, mail.encode(), hashlib.sha256).hexdigest()[:32]
    with spent("postgresql_store"), stores.pg.transaction(), stores.pg.cursor() as cur:
        for table in ("addresses", "subscriptions", "consents"):
            cur.execute(f"DELETE FROM {table} WHERE customer_id = ANY(%s)", (ids,))
        cur.execute("UPDATE orders SET ship_postal_code = %s WHERE id = ANY(%s)", (REDACTED, orders))
        cur.execute("UPDATE payments SET card_last4 = NULL, billing_name = NULL WHERE order_id = ANY(%s)", (orders,))
        cur.execute(
            "UPDATE customers SET email = %s, first_name = NULL, last_name = NULL, phone = NULL,"
            " birth_date = date_trunc('year', birth_date)::date WHERE id = ANY(%s)",
            (hashed, ids),
        )
    tickets = [r[0] for r in found["support_tickets"]]
    accounts = [r[0] for r in found["loyalty_accounts"]]
    with spent("mariadb_store"), stores.maria.cursor() as cur:
        if tickets:
            cur.execute(f"DELETE FROM ticket_messages WHERE ticket_id IN ({_in(tickets)})", tickets)
            cur.execute(f"DELETE FROM support_tickets WHERE id IN ({_in(tickets)})", tickets)
        if accounts:
            cur.execute(f"DELETE FROM loyalty_events WHERE account_id IN ({_in(accounts)})", accounts)
            cur.execute(f"DELETE FROM loyalty_accounts WHERE id IN ({_in(accounts)})", accounts)
        if ids:
            cur.execute(
                f"UPDATE call_notes SET phone = NULL, note = %s WHERE customer_id IN ({_in(ids)})", [REDACTED, *ids]
            )
        stores.maria.commit()
    if stores.cache is not None:
        with spent("redis_store"):
            pipe = stores.cache.pipeline(transaction=True)
            if sessions:
                pipe.delete(*sessions)
            for cart in carts:
                pipe.hdel(cart, "ship_name")
            pipe.execute()
    left = _left(stores, mail, ids, orders)
    if left:
        raise RuntimeError(f"baseline erasure left {left} personal values")
    return sum(len(v) for v in found.values())


def _left(stores: Stores, mail: str, ids: list[int], orders: list[int]) -> int:
    """What the verification finds still identifying: rows that should be gone, fields that should be erased."""
    with spent("postgresql_store"), stores.pg.transaction(), stores.pg.cursor() as cur:
        left = cur.execute(
            "SELECT (SELECT count(*) FROM customers WHERE email = %s OR (id = ANY(%s) AND (first_name IS NOT NULL"
            " OR last_name IS NOT NULL OR phone IS NOT NULL)))"
            " + (SELECT count(*) FROM addresses WHERE customer_id = ANY(%s))"
            " + (SELECT count(*) FROM subscriptions WHERE customer_id = ANY(%s))"
            " + (SELECT count(*) FROM consents WHERE customer_id = ANY(%s))"
            " + (SELECT count(*) FROM orders WHERE id = ANY(%s) AND ship_postal_code <> %s)"
            " + (SELECT count(*) FROM payments WHERE order_id = ANY(%s) AND"
            " (card_last4 IS NOT NULL OR billing_name IS NOT NULL))",
            (mail, ids, ids, ids, ids, orders, REDACTED, orders),
        ).fetchone()[0]
    with spent("mariadb_store"), stores.maria.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM support_tickets WHERE requester_email = %s)"
            " + (SELECT count(*) FROM loyalty_accounts WHERE email = %s)",
            (mail, mail),
        )
        left += int(cur.fetchone()[0])
        if ids:
            cur.execute(
                f"SELECT count(*) FROM call_notes WHERE customer_id IN ({_in(ids)})"
                " AND (phone IS NOT NULL OR note <> %s)",
                [*ids, REDACTED],
            )
            left += int(cur.fetchone()[0])
        stores.maria.commit()
    if stores.cache is None:
        return left
    with spent("redis_store"):
        left += len(_sessions(stores.cache, mail))
        pipe = stores.cache.pipeline(transaction=False)
        for i in ids:
            pipe.hexists(f"{data.PREFIX}:cart:{i}", "ship_name")
        left += sum(1 for v in pipe.execute() if v)
    return left
