"""Issue 4's "wide" shape on PostgreSQL, for any number of child tables, and its hand-written SQL.

``customer`` + N child tables (3 rows per customer) + N grandchild tables (2 rows
per child row): 1 + 9N rows per person — N = 5 is the 11-table shape (46 rows),
N = 25 the 51-table shape (226 rows). Loaded with COPY, real foreign keys and an
index on every reference column. The data map is Fides-style YAML (identity
``customer.email``, references child → customer and grandchild → child,
``charter:`` strategies: ``keyed_hash`` on the e-mail, ``set_null`` on names and
phone, ``delete_row`` on every child and grandchild table).

The baseline is what a careful engineer writes by hand for the same work, one
transaction per person: the customer row by e-mail and one ``= ANY`` query per
table (access, written to a JSON file); for erasure the same reads, ``DELETE``
grandchildren then children, ``UPDATE customer``, then one verification SELECT.
Shared by ``dsr_bench.py`` and ``dsr_concurrency_bench.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import psycopg
from _pg import libpq

URL_ENV = "CHARTER_BENCH_DSR_STORE_URL"


def email(n: int) -> str:
    return f"person{n}@example.org"


def rows_per_person(children: int) -> int:
    return 1 + 3 * children + 6 * children


def ddl(children: int) -> list[str]:
    return [
        "CREATE TABLE customer (id bigint PRIMARY KEY, email text NOT NULL, first_name text, last_name text,"
        " phone text, created_at timestamptz NOT NULL DEFAULT now())",
        *[
            f"CREATE TABLE child{i} (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customer(id),"
            f" label text, amount_cents integer, note text)"
            for i in range(1, children + 1)
        ],
        *[
            f"CREATE TABLE grand{i} (id bigint PRIMARY KEY, child{i}_id bigint NOT NULL REFERENCES child{i}(id),"
            f" detail text, value integer)"
            for i in range(1, children + 1)
        ],
    ]


def indexes(children: int) -> list[str]:
    return [
        "CREATE INDEX ix_customer_email ON customer (email)",
        # what charter datamap check --live advises: the index the case-insensitive e-mail matching uses
        "CREATE INDEX ix_customer_email_folded ON customer (lower(btrim(email, E' \\t\\n\\r')))",
        *[f"CREATE INDEX ix_child{i}_customer ON child{i} (customer_id)" for i in range(1, children + 1)],
        *[f"CREATE INDEX ix_grand{i}_child ON grand{i} (child{i}_id)" for i in range(1, children + 1)],
    ]


def copy(conn: psycopg.Connection[Any], table: str, columns: str, lines: Iterable[str]) -> None:
    """COPY text lines into ``table``, sent in blocks of 50,000 lines (memory stays flat)."""
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as out:
        buffer = io.StringIO()
        for n, line in enumerate(lines, 1):
            buffer.write(line)
            if n % 50_000 == 0:
                out.write(buffer.getvalue())
                buffer = io.StringIO()
        out.write(buffer.getvalue())


def load(url: str, people: int, children: int) -> dict[str, float]:
    begun = time.perf_counter()
    with psycopg.connect(libpq(url)) as conn:
        for statement in ddl(children):
            conn.execute(statement)
        copy(
            conn,
            "customer",
            "id, email, first_name, last_name, phone",
            (f"{p}\t{email(p)}\tFirst{p}\tLast{p}\t+1555{p:07d}\n" for p in range(1, people + 1)),
        )
        for i in range(1, children + 1):
            copy(
                conn,
                f"child{i}",
                "id, customer_id, label, amount_cents, note",
                (
                    f"{(p - 1) * 3 + k + 1}\t{p}\tlabel {i}-{k}\t{(p * 7 + k) % 10000}\tnote for {p}\n"
                    for p in range(1, people + 1)
                    for k in range(3)
                ),
            )
            copy(
                conn,
                f"grand{i}",
                f"id, child{i}_id, detail, value",
                (
                    f"{(c - 1) * 2 + j + 1}\t{c}\tdetail {c}/{j}\t{j}\n"
                    for c in range(1, people * 3 + 1)
                    for j in range(2)
                ),
            )
        loaded = time.perf_counter() - begun
        for statement in indexes(children):
            conn.execute(statement)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return {"copy_s": round(loaded, 2), "total_s": round(time.perf_counter() - begun, 2)}


def field(name: str, categories: str, **extra: Any) -> str:
    out = f"          - name: {name}\n            data_categories: [{categories}]\n"
    if "meta" in extra:
        out += f"            fides_meta: {extra['meta']}\n"
    if "charter" in extra:
        out += f"            charter: {extra['charter']}\n"
    return out


def ref(collection: str, dataset: str = "bench_store") -> str:
    return "{references: [{dataset: " + dataset + ", field: " + collection + ".id, direction: from}]}"


def dataset_yaml(children: int) -> str:
    out = "dataset:\n  - fides_key: bench_store\n    name: Bench store\n    collections:\n"
    out += "      - name: customer\n        fields:\n"
    out += field("id", "user.unique_id", meta="{primary_key: true, data_type: integer}")
    out += field(
        "email", "user.contact.email", meta="{identity: email, data_type: string}", charter="{erasure: keyed_hash}"
    )
    out += field("first_name", "user.name.first", charter="{erasure: set_null}")
    out += field("last_name", "user.name.last", charter="{erasure: set_null}")
    out += field("phone", "user.contact.phone_number", charter="{erasure: set_null}")
    out += field("created_at", "system.operations")
    for i in range(1, children + 1):
        out += f"      - name: child{i}\n        charter: {{erasure: delete_row}}\n        fields:\n"
        out += field("id", "system.operations", meta="{primary_key: true, data_type: integer}")
        out += field("customer_id", "user.unique_id", meta=ref("customer"))
        out += field("label", "user.behavior.purchase_history")
        out += field("amount_cents", "user.behavior.purchase_history")
        out += field("note", "user.content")
    for i in range(1, children + 1):
        out += f"      - name: grand{i}\n        charter: {{erasure: delete_row}}\n        fields:\n"
        out += field("id", "system.operations", meta="{primary_key: true, data_type: integer}")
        out += field(f"child{i}_id", "system.operations", meta=ref(f"child{i}"))
        out += field("detail", "user.content")
        out += field("value", "system.operations")
    return out


def systems_yaml() -> str:
    return (
        "systems:\n  - id: bench\n    kind: sql\n    description: The bench's PostgreSQL store.\n"
        f"    url_env: {URL_ENV}\n    datasets: [bench_store]\n"
    )


def write_datamap(folder: Path, children: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.yaml").write_text(dataset_yaml(children))
    (folder / "systems.yaml").write_text(systems_yaml())
    return folder


# --- the hand-written baseline (one transaction per person) ----------------------------------------------


def base_key(secret: bytes) -> bytes:
    return hashlib.sha256(b"bench baseline\x00" + secret).digest()


def reads(cur: psycopg.Cursor[Any], mail: str, children: int) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    # matched as Charter matches an e-mail (case and surrounding spaces ignored), through the same index
    out["customer"] = cur.execute(
        "SELECT * FROM customer WHERE lower(btrim(email, E' \\t\\n\\r')) = %s", (mail,)
    ).fetchall()
    ids = [r[0] for r in out["customer"]]
    for i in range(1, children + 1):
        out[f"child{i}"] = cur.execute(f"SELECT * FROM child{i} WHERE customer_id = ANY(%s)", (ids,)).fetchall()
        kids = [r[0] for r in out[f"child{i}"]]
        out[f"grand{i}"] = cur.execute(f"SELECT * FROM grand{i} WHERE child{i}_id = ANY(%s)", (kids,)).fetchall()
    return out


def access_sql(conn: psycopg.Connection[Any], mail: str, folder: Path, n: int | str, children: int) -> int:
    with conn.transaction(), conn.cursor() as cur:
        found = reads(cur, mail, children)
    (folder / f"baseline-{n}.json").write_text(json.dumps(found, default=str))
    return sum(len(v) for v in found.values())


def erase_sql(conn: psycopg.Connection[Any], mail: str, key: bytes, children: int) -> int:
    span = range(1, children + 1)
    with conn.transaction(), conn.cursor() as cur:
        found = reads(cur, mail, children)
        ids = [r[0] for r in found["customer"]]
        for i in span:
            kids = [r[0] for r in found[f"child{i}"]]
            cur.execute(f"DELETE FROM grand{i} WHERE child{i}_id = ANY(%s)", (kids,))
            cur.execute(f"DELETE FROM child{i} WHERE customer_id = ANY(%s)", (ids,))
        hashed = hmac.new(key, mail.encode(), hashlib.sha256).hexdigest()[:32]
        cur.execute(
            "UPDATE customer SET email = %s, first_name = NULL, last_name = NULL, phone = NULL WHERE id = ANY(%s)",
            (hashed, ids),
        )
        # verified as Charter must (issue 11): every touched row read again by its primary key (deleted rows
        # gone, the customer holding exactly its erasure), the discovery's search again, the e-mail searched
        grands = {i: [r[0] for r in found[f"grand{i}"]] for i in span}
        kids_of = {i: [r[0] for r in found[f"child{i}"]] for i in span}
        left = cur.execute(
            "SELECT (SELECT count(*) FROM customer WHERE lower(btrim(email, E' \\t\\n\\r')) = %s)"
            " + (SELECT count(*) FROM customer WHERE id = ANY(%s) AND (email IS DISTINCT FROM %s"
            " OR first_name IS NOT NULL OR last_name IS NOT NULL OR phone IS NOT NULL))"
            + "".join(f" + (SELECT count(*) FROM child{i} WHERE id = ANY(%s) OR customer_id = ANY(%s))" for i in span)
            + "".join(f" + (SELECT count(*) FROM grand{i} WHERE id = ANY(%s) OR child{i}_id = ANY(%s))" for i in span),
            (
                mail,
                ids,
                hashed,
                *[x for i in span for x in (kids_of[i], ids)],
                *[x for i in span for x in (grands[i], kids_of[i])],
            ),
        ).fetchone()[0]
        if left:
            raise RuntimeError(f"baseline erasure left {left} rows")
    return sum(len(v) for v in found.values())


def rows_left(url: str, people: list[int], children: int) -> dict[str, int]:
    """After Charter's erasures: rows of those people still in a child table, customers pseudonymized."""
    with psycopg.connect(libpq(url)) as c:
        left = c.execute(
            "SELECT count(*) FROM customer WHERE email = ANY(%s)", ([email(p) for p in people],)
        ).fetchone()[0]
        left += sum(
            c.execute(f"SELECT count(*) FROM child{i} WHERE customer_id = ANY(%s)", (people,)).fetchone()[0]
            for i in range(1, children + 1)
        )
        nulls = c.execute(
            "SELECT count(*) FROM customer WHERE id = ANY(%s) AND phone IS NULL AND first_name IS NULL", (people,)
        ).fetchone()[0]
    return {"charter_erased_rows_left": left, "customers_pseudonymized": nulls, "expected": len(people)}
