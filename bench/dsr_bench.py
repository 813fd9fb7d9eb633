"""Data subject requests on PostgreSQL against hand-written SQL (issue 4, "Figures").

Shapes (the issue's first and third):

* ``wide``: ``customer`` + 5 child tables (3 rows per customer) + 5 grandchild
  tables (2 rows per child row): 46 rows per person, ``--people`` people
  (default 10,000), loaded with COPY. Real foreign keys and an index on every
  reference column.
* ``heavy`` (``--heavy``): ``hcustomer`` + ``hitem`` (2,000 rows of one person,
  fields rewritten) + ``hline`` (2,000 rows, one per item, deleted): one person
  with 4,001 rows, among ``--heavy-filler`` ordinary people.

A Fides-style dataset YAML (identity ``customer.email``, references
child → customer and grandchild → child, ``charter:`` erasure strategies) and
a systems file (``url_env``) are written to a temp dir and loaded with
Charter's own loader. Charter's state lives in a second database.

For ``--samples`` random people: (a) access: from an approved access request
to the sealed package written (``Runner.run``, in-process); (b) erasure: from
an approved deletion request to the verified erasure (fetch, erase, verify
steps, certificate). Requests are created and approved outside the timing
(the issue's clock starts at "a request that needs no further approval").

Baseline, same run, interleaved person by person: hand-written SQL over one
kept psycopg connection, one transaction per person: access = the customer
row by e-mail + one ``= ANY`` query per table, written as JSON to a file;
erasure = the same reads, ``DELETE`` grandchildren / children, ``UPDATE``
customer (HMAC of the e-mail, NULLs), then a verification SELECT of what is
left. Also ``baseline_new_connection``: the same with a fresh connection per
person (Charter's runner opens a fresh engine per run).

JSON on stdout, progress on stderr. Databases ``charter_bench_dsr_store`` and
``charter_bench_dsr_state`` are created and dropped (unless ``--keep``).

Run::

    .venv/bin/python bench/dsr_bench.py                 # 10,000 people, 20 samples
    .venv/bin/python bench/dsr_bench.py --heavy         # + the 4,001-row person
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import io
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, event

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _pg import create_database, drop_database, libpq, log  # noqa: E402
from tests.requests.conftest import Recorder  # noqa: E402  (the tests' in-memory mailer)
from tests.subjects.factories import make_vault, publish_examples  # noqa: E402

from charter.db import Database, migrate  # noqa: E402
from charter.db.base import utcnow  # noqa: E402
from charter.execution import service  # noqa: E402
from charter.execution.runner import Runner  # noqa: E402
from charter.requests import intake, review  # noqa: E402
from charter.requests.kinds import RequestKind  # noqa: E402
from charter.settings import DatabaseSettings, ExecutionSettings, Settings  # noqa: E402
from charter.subjects.service import Vault  # noqa: E402

STORE_DB = "charter_bench_dsr_store"
STATE_DB = "charter_bench_dsr_state"
URL_ENV = "CHARTER_BENCH_DSR_STORE_URL"
FIDES = {"wide": {"access_s": 1.04, "erasure_s": 5.75}, "heavy": {"access_s": 1.2, "erasure_s": 261.0}}
CHILDREN = 5


def email(n: int) -> str:
    return f"person{n}@example.org"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the wide shape ---------------------------------------------------------------------------------

WIDE_DDL = [
    "CREATE TABLE customer (id bigint PRIMARY KEY, email text NOT NULL, first_name text, last_name text,"
    " phone text, created_at timestamptz NOT NULL DEFAULT now())",
    *[
        f"CREATE TABLE child{i} (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customer(id),"
        f" label text, amount_cents integer, note text)"
        for i in range(1, CHILDREN + 1)
    ],
    *[
        f"CREATE TABLE grand{i} (id bigint PRIMARY KEY, child{i}_id bigint NOT NULL REFERENCES child{i}(id),"
        f" detail text, value integer)"
        for i in range(1, CHILDREN + 1)
    ],
]
WIDE_INDEXES = [
    "CREATE INDEX ix_customer_email ON customer (email)",
    *[f"CREATE INDEX ix_child{i}_customer ON child{i} (customer_id)" for i in range(1, CHILDREN + 1)],
    *[f"CREATE INDEX ix_grand{i}_child ON grand{i} (child{i}_id)" for i in range(1, CHILDREN + 1)],
]


def _copy(conn: psycopg.Connection[Any], table: str, columns: str, lines: Any) -> None:
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for n, line in enumerate(lines, 1):
            buffer.write(line)
            if n % 50_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def load_wide(url: str, people: int) -> dict[str, float]:
    begun = time.perf_counter()
    with psycopg.connect(libpq(url)) as conn:
        for ddl in WIDE_DDL:
            conn.execute(ddl)
        _copy(
            conn,
            "customer",
            "id, email, first_name, last_name, phone",
            (f"{p}\t{email(p)}\tFirst{p}\tLast{p}\t+1555{p:07d}\n" for p in range(1, people + 1)),
        )
        for i in range(1, CHILDREN + 1):
            _copy(
                conn,
                f"child{i}",
                "id, customer_id, label, amount_cents, note",
                (
                    f"{(p - 1) * 3 + k + 1}\t{p}\tlabel {i}-{k}\t{(p * 7 + k) % 10000}\tnote for {p}\n"
                    for p in range(1, people + 1)
                    for k in range(3)
                ),
            )
            _copy(
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
        for ddl in WIDE_INDEXES:
            conn.execute(ddl)
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


def ref(collection: str) -> str:
    return "{references: [{dataset: bench_store, field: " + collection + ".id, direction: from}]}"


def wide_yaml() -> str:
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
    for i in range(1, CHILDREN + 1):
        out += f"      - name: child{i}\n        charter: {{erasure: delete_row}}\n        fields:\n"
        out += field("id", "system.operations", meta="{primary_key: true, data_type: integer}")
        out += field("customer_id", "user.unique_id", meta=ref("customer"))
        out += field("label", "user.behavior.purchase_history")
        out += field("amount_cents", "user.behavior.purchase_history")
        out += field("note", "user.content")
    for i in range(1, CHILDREN + 1):
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


# --- the heavy shape (3 tables, one person with 4,001 rows) -------------------------------------------

HEAVY_ROWS = 2_000


def load_heavy(url: str, filler: int) -> None:
    with psycopg.connect(libpq(url)) as conn:
        conn.execute("CREATE TABLE hcustomer (id bigint PRIMARY KEY, email text NOT NULL, name text, phone text)")
        conn.execute(
            "CREATE TABLE hitem (id bigint PRIMARY KEY, hcustomer_id bigint NOT NULL REFERENCES hcustomer(id),"
            " title text, address text, amount integer)"
        )
        conn.execute(
            "CREATE TABLE hline (id bigint PRIMARY KEY, hitem_id bigint NOT NULL REFERENCES hitem(id), body text)"
        )
        # person 1 is heavy: 2,000 items, one line each; the filler people have 2 items + 2 lines
        _copy(
            conn,
            "hcustomer",
            "id, email, name, phone",
            (f"{p}\t{email(p)}\tName {p}\t+1{p}\n" for p in range(1, filler + 2)),
        )
        items = [(n, 1) for n in range(1, HEAVY_ROWS + 1)]
        items += [(HEAVY_ROWS + (p - 2) * 2 + k + 1, p) for p in range(2, filler + 2) for k in range(2)]
        _copy(
            conn,
            "hitem",
            "id, hcustomer_id, title, address, amount",
            (f"{i}\t{p}\ttitle {i}\t{i} Main St\t{i % 97}\n" for i, p in items),
        )
        _copy(conn, "hline", "id, hitem_id, body", (f"{i}\t{i}\tbody of {i}\n" for i, _p in items))
        conn.execute("CREATE INDEX ix_hcustomer_email ON hcustomer (email)")
        conn.execute("CREATE INDEX ix_hitem_c ON hitem (hcustomer_id)")
        conn.execute("CREATE INDEX ix_hline_i ON hline (hitem_id)")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def heavy_yaml() -> str:
    out = "dataset:\n  - fides_key: bench_store\n    name: Bench heavy store\n    collections:\n"
    out += "      - name: hcustomer\n        fields:\n"
    out += field("id", "user.unique_id", meta="{primary_key: true, data_type: integer}")
    out += field(
        "email", "user.contact.email", meta="{identity: email, data_type: string}", charter="{erasure: keyed_hash}"
    )
    out += field("name", "user.name", charter="{erasure: set_null}")
    out += field("phone", "user.contact.phone_number", charter="{erasure: set_null}")
    out += "      - name: hitem\n        fields:\n"
    out += field("id", "system.operations", meta="{primary_key: true, data_type: integer}")
    out += field("hcustomer_id", "user.unique_id", meta=ref("hcustomer"))
    out += field("title", "user.content", charter="{erasure: set_null}")
    out += field("address", "user.contact.address.street", charter="{erasure: set_null}")
    out += field("amount", "system.operations")
    out += "      - name: hline\n        charter: {erasure: delete_row}\n        fields:\n"
    out += field("id", "system.operations", meta="{primary_key: true, data_type: integer}")
    out += field("hitem_id", "system.operations", meta=ref("hitem"))
    out += field("body", "user.content")
    return out


# --- baselines (hand-written SQL, one transaction per person) ------------------------------------------


def base_key(secret: bytes) -> bytes:
    return hashlib.sha256(b"bench baseline\x00" + secret).digest()


def wide_reads(cur: psycopg.Cursor[Any], mail: str) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    out["customer"] = cur.execute("SELECT * FROM customer WHERE email = %s", (mail,)).fetchall()
    ids = [r[0] for r in out["customer"]]
    for i in range(1, CHILDREN + 1):
        out[f"child{i}"] = cur.execute(f"SELECT * FROM child{i} WHERE customer_id = ANY(%s)", (ids,)).fetchall()
        kids = [r[0] for r in out[f"child{i}"]]
        out[f"grand{i}"] = cur.execute(f"SELECT * FROM grand{i} WHERE child{i}_id = ANY(%s)", (kids,)).fetchall()
    return out


def wide_access_sql(conn: psycopg.Connection[Any], mail: str, folder: Path, n: int) -> int:
    with conn.transaction(), conn.cursor() as cur:
        found = wide_reads(cur, mail)
    (folder / f"baseline-{n}.json").write_text(json.dumps(found, default=str))
    return sum(len(v) for v in found.values())


def wide_erase_sql(conn: psycopg.Connection[Any], mail: str, key: bytes) -> int:
    with conn.transaction(), conn.cursor() as cur:
        found = wide_reads(cur, mail)
        ids = [r[0] for r in found["customer"]]
        for i in range(1, CHILDREN + 1):
            kids = [r[0] for r in found[f"child{i}"]]
            cur.execute(f"DELETE FROM grand{i} WHERE child{i}_id = ANY(%s)", (kids,))
            cur.execute(f"DELETE FROM child{i} WHERE customer_id = ANY(%s)", (ids,))
        hashed = hmac.new(key, mail.encode(), hashlib.sha256).hexdigest()[:32]
        cur.execute(
            "UPDATE customer SET email = %s, first_name = NULL, last_name = NULL, phone = NULL WHERE id = ANY(%s)",
            (hashed, ids),
        )
        left = cur.execute(
            "SELECT (SELECT count(*) FROM customer WHERE email = %s OR (id = ANY(%s) AND"
            " (first_name IS NOT NULL OR last_name IS NOT NULL OR phone IS NOT NULL)))"
            + "".join(f" + (SELECT count(*) FROM child{i} WHERE customer_id = ANY(%s))" for i in range(1, CHILDREN + 1))
            + "".join(
                f" + (SELECT count(*) FROM grand{i} WHERE child{i}_id = ANY(%s))" for i in range(1, CHILDREN + 1)
            ),
            (mail, ids, *[ids] * CHILDREN, *[[r[0] for r in found[f"child{i}"]] for i in range(1, CHILDREN + 1)]),
        ).fetchone()[0]
        if left:
            raise RuntimeError(f"baseline erasure left {left} rows")
    return sum(len(v) for v in found.values())


def heavy_reads(cur: psycopg.Cursor[Any], mail: str) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    out["hcustomer"] = cur.execute("SELECT * FROM hcustomer WHERE email = %s", (mail,)).fetchall()
    ids = [r[0] for r in out["hcustomer"]]
    out["hitem"] = cur.execute("SELECT * FROM hitem WHERE hcustomer_id = ANY(%s)", (ids,)).fetchall()
    items = [r[0] for r in out["hitem"]]
    out["hline"] = cur.execute("SELECT * FROM hline WHERE hitem_id = ANY(%s)", (items,)).fetchall()
    return out


def heavy_erase_sql(conn: psycopg.Connection[Any], mail: str, key: bytes) -> int:
    with conn.transaction(), conn.cursor() as cur:
        found = heavy_reads(cur, mail)
        ids = [r[0] for r in found["hcustomer"]]
        items = [r[0] for r in found["hitem"]]
        cur.execute("DELETE FROM hline WHERE hitem_id = ANY(%s)", (items,))
        cur.execute("UPDATE hitem SET title = NULL, address = NULL WHERE id = ANY(%s)", (items,))
        hashed = hmac.new(key, mail.encode(), hashlib.sha256).hexdigest()[:32]
        cur.execute("UPDATE hcustomer SET email = %s, name = NULL, phone = NULL WHERE id = ANY(%s)", (hashed, ids))
        left = cur.execute(
            "SELECT (SELECT count(*) FROM hcustomer WHERE email = %s)"
            " + (SELECT count(*) FROM hitem WHERE id = ANY(%s) AND (title IS NOT NULL OR address IS NOT NULL))"
            " + (SELECT count(*) FROM hline WHERE hitem_id = ANY(%s))",
            (mail, items, items),
        ).fetchone()[0]
        if left:
            raise RuntimeError(f"baseline heavy erasure left {left} rows")
    return sum(len(v) for v in found.values())


# --- Charter -----------------------------------------------------------------------------------------


class _KeepingRunner(Runner):
    """Diagnostic: the runner without its ``finally: close every connector`` (connectors shared across runs)."""

    def run(self, public_id: str) -> Any:
        return self._run(public_id)


class StatementCounter:
    """Statements sent per database (SQLAlchemy engines), by a class-level cursor-execute listener."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        event.listen(Engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        name = conn.engine.url.database or "?"
        catalog = "pg_catalog" in statement or "information_schema" in statement
        key = f"{name}{' (catalog)' if catalog else ''}"
        self.counts[key] = self.counts.get(key, 0) + 1

    def take(self) -> dict[str, int]:
        out, self.counts = self.counts, {}
        return out


class Charter:
    def __init__(self, state_url: str, store_url: str, home: Path, datamap_dir: Path) -> None:
        self.database = Database(state_url)
        migrate(self.database)
        publish_examples(self.database)
        self.config = Settings.load(
            env="test",
            home=home,
            database=DatabaseSettings(url=state_url),
            execution=ExecutionSettings(max_attempts=3, retry_base=0.01, retry_max=0.05),
        )
        self.vault: Vault = make_vault(self.config.secret_key())
        self.datamap = service.load_datamap(self.config, datamap_dir)
        self.env = {URL_ENV: store_url}
        self._kept: dict[str, Any] = {}

    def approved(self, kind: RequestKind, mail: str) -> str:
        """As tests/execution/conftest.py's ``approved``: received, verified by its code, approved."""
        mailer = Recorder()
        now = utcnow()
        submission = intake.Submission(kind=kind, identity_kind="email", identity=mail, jurisdiction="eu", details={})
        done = intake.submit(self.database, mailer, submission, vault=self.vault, settings=self.config, now=now)
        intake.verify_code(
            self.database,
            done.public_id,
            mailer.code(),
            vault=self.vault,
            settings=self.config,
            now=now + timedelta(seconds=1),
        )
        with self.database.session() as session:
            review.approve(
                session, review.get(session, done.public_id), actor="bench", vault=self.vault, identity_checked=True
            )
        return done.public_id

    def run(self, public_id: str, *, keep_connectors: bool = False) -> tuple[float, Any]:
        """``Runner.run`` timed. ``keep_connectors``: a diagnostic only (not Charter's behaviour today) — the
        store connectors (engine + reflected tables) are kept across runs instead of closed after each."""
        if keep_connectors:
            runner: Runner = _KeepingRunner(
                self.database, self.config, self.vault, self.datamap, env=self.env, sleep=lambda _s: None
            )
            runner._connectors = self._kept
        else:
            runner = Runner(self.database, self.config, self.vault, self.datamap, env=self.env, sleep=lambda _s: None)
        begun = time.perf_counter()
        outcome = runner.run(public_id)
        took = time.perf_counter() - begun
        if outcome.status != "completed":
            raise RuntimeError(f"request {public_id}: {outcome.as_dict()}")
        return took, outcome


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values) * 1000, 2),
        "p95_ms": round(p95 * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def compare(charter: list[float], baseline: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(charter) / statistics.median(baseline), 2),
        "p95": round(stats(charter)["p95_ms"] / stats(baseline)["p95_ms"], 2),
    }


def timed(fn: Any, *args: Any) -> float:
    begun = time.perf_counter()
    fn(*args)
    return time.perf_counter() - begun


def bench_wide(
    charter: Charter, store_url: str, people: int, samples: int, rng: random.Random, folder: Path, diag: int
) -> dict[str, Any]:
    chosen = rng.sample(range(1, people + 1), samples * 3)
    access_people, charter_erase, base_erase = chosen[:samples], chosen[samples : 2 * samples], chosen[2 * samples :]
    key = base_key(charter.config.secret_key())
    log("creating and approving requests (not timed)")
    access_ids = [charter.approved(RequestKind.ACCESS, email(p)) for p in access_people]
    erase_ids = [charter.approved(RequestKind.DELETION, email(p)) for p in charter_erase]
    # warm-up: one of each, not counted (imports, first reflection)
    warm_a = charter.approved(RequestKind.ACCESS, email(chosen[0]))
    charter.run(warm_a)
    results: dict[str, list[float]] = {
        k: []
        for k in (
            "charter_access",
            "base_access",
            "base_access_newconn",
            "charter_erasure",
            "base_erasure",
            "base_erasure_newconn",
        )
    }
    steps: dict[str, int] = {}
    conn = psycopg.connect(libpq(store_url))
    log(f"access: {samples} people, Charter and baseline interleaved")
    for n, (p, rid) in enumerate(zip(access_people, access_ids, strict=True)):
        took, outcome = charter.run(rid)
        steps["access"] = outcome.steps
        results["charter_access"].append(took)
        results["base_access"].append(timed(wide_access_sql, conn, email(p), folder, n))

        def fresh(mail: str = email(p), n: int = n) -> None:
            with psycopg.connect(libpq(store_url)) as c:
                wide_access_sql(c, mail, folder, n)

        results["base_access_newconn"].append(timed(fresh))
    log(f"erasure: {samples} people each for Charter and baseline, interleaved")
    half = samples // 2
    for n, (_p, rid, q) in enumerate(zip(charter_erase, erase_ids, base_erase, strict=True)):
        took, outcome = charter.run(rid)
        steps["erasure"] = outcome.steps
        results["charter_erasure"].append(took)
        if n < half:
            results["base_erasure"].append(timed(wide_erase_sql, conn, email(q), key))
        else:

            def fresh(mail: str = email(q)) -> None:
                with psycopg.connect(libpq(store_url)) as c:
                    wide_erase_sql(c, mail, key)

            results["base_erasure_newconn"].append(timed(fresh))
    conn.close()
    log(f"diagnostics: statements per run; {diag} runs each with connectors kept across runs")
    counter = StatementCounter()
    spare = [p for p in range(1, people + 1) if p not in set(chosen)]
    extra = rng.sample(spare, 2 + 2 * diag)
    rid = charter.approved(RequestKind.ACCESS, email(extra[0]))
    counter.take()
    charter.run(rid)
    statements = {"access": counter.take()}
    rid = charter.approved(RequestKind.DELETION, email(extra[1]))
    counter.take()
    charter.run(rid)
    statements["erasure"] = counter.take()
    event.remove(Engine, "before_cursor_execute", counter._seen)
    kept_ids = [charter.approved(RequestKind.ACCESS, email(p)) for p in extra[2 : 2 + diag]]
    kept_erase = [charter.approved(RequestKind.DELETION, email(p)) for p in extra[2 + diag :]]
    charter.run(charter.approved(RequestKind.ACCESS, email(chosen[0])), keep_connectors=True)  # fill the cache
    kept = {
        "access": stats([charter.run(r, keep_connectors=True)[0] for r in kept_ids]),
        "erasure": stats([charter.run(r, keep_connectors=True)[0] for r in kept_erase]),
    }
    for connector in charter._kept.values():
        connector.close()
    # check Charter's erasures: nothing of those people left
    with psycopg.connect(libpq(store_url)) as c:
        ids = charter_erase
        left = c.execute("SELECT count(*) FROM customer WHERE email = ANY(%s)", ([email(p) for p in ids],)).fetchone()[
            0
        ]
        left += sum(
            c.execute(f"SELECT count(*) FROM child{i} WHERE customer_id = ANY(%s)", (ids,)).fetchone()[0]
            for i in range(1, 6)
        )
        nulls = c.execute(
            "SELECT count(*) FROM customer WHERE id = ANY(%s) AND phone IS NULL AND first_name IS NULL", (ids,)
        ).fetchone()[0]
    return {
        "plan_steps": steps,
        "charter": {"access": stats(results["charter_access"]), "erasure": stats(results["charter_erasure"])},
        "baseline": {"access": stats(results["base_access"]), "erasure": stats(results["base_erasure"])},
        "baseline_new_connection": {
            "access": stats(results["base_access_newconn"]),
            "erasure": stats(results["base_erasure_newconn"]),
        },
        "ratio_charter_over_baseline": {
            "access": compare(results["charter_access"], results["base_access"]),
            "erasure": compare(results["charter_erasure"], results["base_erasure"]),
        },
        "ratio_charter_over_baseline_new_connection": {
            "access": compare(results["charter_access"], results["base_access_newconn"]),
            "erasure": compare(results["charter_erasure"], results["base_erasure_newconn"]),
        },
        "fides_median": FIDES["wide"],
        "statements_per_run": statements,
        "diagnostic_connectors_kept_across_runs": kept,
        "speedup_vs_fides_median": {
            "access": round(FIDES["wide"]["access_s"] / statistics.median(results["charter_access"]), 1),
            "erasure": round(FIDES["wide"]["erasure_s"] / statistics.median(results["charter_erasure"]), 1),
        },
        "check": {"charter_erased_rows_left": left, "customers_pseudonymized": nulls, "expected": len(ids)},
        "raw_ms": {k: [round(v * 1000, 2) for v in vs] for k, vs in results.items()},
    }


def bench_heavy(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    store_url = create_database(STORE_DB + "_heavy")
    state_url = create_database(STATE_DB + "_heavy")
    try:
        load_heavy(store_url, args.heavy_filler)
        datamap_dir = folder / "heavy_datamap"
        datamap_dir.mkdir()
        (datamap_dir / "dataset.yaml").write_text(heavy_yaml())
        (datamap_dir / "systems.yaml").write_text(systems_yaml())
        charter = Charter(state_url, store_url, folder / "heavy_home", datamap_dir)
        key = base_key(charter.config.secret_key())
        # a person can be erased only once: the baseline erases a twin of the heavy person (same rows)
        with psycopg.connect(libpq(store_url)) as c:
            twin = args.heavy_filler + 2
            c.execute("INSERT INTO hcustomer VALUES (%s, %s, 'Twin', '+1')", (twin, email(twin)))
            base = 10_000_000
            c.execute(
                "INSERT INTO hitem SELECT id + %s, %s, title, address, amount FROM hitem WHERE hcustomer_id = 1",
                (base, twin),
            )
            c.execute(
                "INSERT INTO hline SELECT id + %s, hitem_id + %s, body FROM hline WHERE hitem_id <= %s",
                (base, base, HEAVY_ROWS),
            )
            c.commit()
        warm = charter.approved(RequestKind.ACCESS, email(3))
        charter.run(warm)
        access = charter.approved(RequestKind.ACCESS, email(1))
        access_s, _ = charter.run(access)
        rid = charter.approved(RequestKind.DELETION, email(1))
        log("heavy: Charter erasure of the 4,001-row person")
        erase_s, outcome = charter.run(rid)
        with psycopg.connect(libpq(store_url)) as c:
            base_s = timed(heavy_erase_sql, c, email(twin), key)
            left = c.execute("SELECT count(*) FROM hline WHERE hitem_id <= %s", (HEAVY_ROWS,)).fetchone()[0]
            left += c.execute("SELECT count(*) FROM hitem WHERE hcustomer_id = 1 AND title IS NOT NULL").fetchone()[0]
        return {
            "rows_of_person": 1 + 2 * HEAVY_ROWS,
            "filler_people": args.heavy_filler,
            "charter_access_ms": round(access_s * 1000, 1),
            "charter_erasure_ms": round(erase_s * 1000, 1),
            "baseline_erasure_ms": round(base_s * 1000, 1),
            "ratio_erasure": round(erase_s / base_s, 2),
            "fides": FIDES["heavy"],
            "plan_steps": outcome.steps,
            "check_rows_left": left,
        }
    finally:
        if not args.keep:
            drop_database(STORE_DB + "_heavy")
            drop_database(STATE_DB + "_heavy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--heavy", action="store_true", help="also the 3-table, 4,001-row person (erasure)")
    parser.add_argument("--heavy-filler", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="leave the databases in place")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    out: dict[str, Any] = {
        "bench": "dsr_bench",
        "people": args.people,
        "samples": args.samples,
        "python": sys.version.split()[0],
        "cores": os.cpu_count(),
        "load_before": os.getloadavg()[0],
    }
    with tempfile.TemporaryDirectory(prefix="charter-dsr-bench-") as tmp:
        folder = Path(tmp)
        store_url = create_database(STORE_DB)
        state_url = create_database(STATE_DB)
        try:
            log(f"loading {args.people} people x 46 rows with COPY")
            out["load"] = load_wide(store_url, args.people)
            out["load"]["rows"] = args.people * 46
            datamap_dir = folder / "datamap"
            datamap_dir.mkdir()
            (datamap_dir / "dataset.yaml").write_text(wide_yaml())
            (datamap_dir / "systems.yaml").write_text(systems_yaml())
            charter = Charter(state_url, store_url, folder / "home", datamap_dir)
            out["rss_mb_before_requests"] = round(rss_mb(), 1)
            out["wide"] = bench_wide(charter, store_url, args.people, args.samples, rng, folder, args.samples)
            charter.database.engine.dispose()
        finally:
            if not args.keep:
                drop_database(STORE_DB)
                drop_database(STATE_DB)
        if args.heavy:
            out["heavy"] = bench_heavy(args, folder)
    out["peak_rss_mb"] = round(rss_mb(), 1)
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
