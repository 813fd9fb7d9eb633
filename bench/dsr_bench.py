"""Data subject requests on PostgreSQL against hand-written SQL (issue 4, "Figures").

Shapes (the issue's first, second and third):

* ``wide``: ``customer`` + ``--children`` child tables (3 rows per customer) +
  as many grandchild tables (2 rows per child row), ``--people`` people
  (default 10,000), loaded with COPY, real foreign keys and an index on every
  reference column (``_wide.py``). ``--children 5`` (the default) is the
  11-table shape, 46 rows per person; ``--children 25`` the 51-table shape,
  226 rows per person.
* ``heavy`` (``--heavy``): ``hcustomer`` + ``hitem`` (2,000 rows of one person,
  fields rewritten) + ``hline`` (2,000 rows, one per item, deleted): one person
  with 4,001 rows, among ``--heavy-filler`` ordinary people.

A Fides-style dataset YAML (identity ``customer.email``, references
child → customer and grandchild → child, ``charter:`` erasure strategies) and
a systems file (``url_env``) are written to a temp dir and loaded with
Charter's own loader. Charter's state lives in a second database.

For ``--samples`` random people: (a) access: from an approved access request
to the sealed package written (``Runner.run``, in-process, built as the worker
builds it: store connectors kept between runs, ``execution.kept``); (b) erasure: from
an approved deletion request to the verified erasure (fetch, erase, verify
steps, certificate). Requests are created and approved outside the timing
(the issue's clock starts at "a request that needs no further approval").

Baseline, same run, interleaved person by person: hand-written SQL over one
kept psycopg connection, one transaction per person: access = the customer
row by e-mail + one ``= ANY`` query per table, written as JSON to a file;
erasure = the same reads, ``DELETE`` grandchildren / children, ``UPDATE``
customer (HMAC of the e-mail, NULLs), then a verification that proves as Charter must
since issue 11: every touched row read again by its primary key (deleted ones gone, the
customer holding exactly its erasure), the discovery's search again and the e-mail searched
case-insensitively, in one SELECT. Both sides match the e-mail as Charter folds it (``lower(btrim(…))``)
through the functional index ``charter datamap check --live`` advises. Also
``baseline_new_connection``: the same with a fresh connection per person, and
``diagnostic_connectors_per_run``: Charter with its store connectors built and closed
with each run (as a one-shot ``charter requests run`` does).

Fides, measured in the same run (no quoted figure), by ``bench/peers/fides_bench.py`` (its own venv,
databases and Redis db; the same ``--people``, ``--children``, ``--samples``, ``--seed``): ``--with-fides``
starts it before Charter's part and times its requests interleaved person by person with Charter's and the
baseline's (the same people: its store is its own), so the machine's drift lands on all three alike;
``--with-fides after`` runs the script as a subprocess after Charter's part; ``--fides-results FILE`` reads
the JSON it wrote. Each gives ``wide.fides`` and ``wide.ratio_fides_over_charter``; without them
``wide.fides`` is null.

``wide.commit_floor``: one durable and one relaxed commit on this machine's PostgreSQL (median ms), the
floor under any figure that ends in a durable "completed" (access: one; erasure: two, plus the store's).

JSON on stdout, progress on stderr. Databases ``--store-db`` and ``--state-db``
(default ``charter_bench_dsr_store_<pid>`` and ``…_state_<pid>``) are created through
``--admin-url`` (default ``CHARTER_BENCH_POSTGRES_URL``) and dropped (unless ``--keep``).

Run::

    .venv/bin/python bench/dsr_bench.py                 # 10,000 people, 20 samples
    .venv/bin/python bench/dsr_bench.py --heavy         # + the 4,001-row person
    .venv/bin/python bench/dsr_bench.py --children 25   # the 51-table shape
    .venv/bin/python bench/dsr_bench.py --with-fides    # + Fides on the same shape, interleaved
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import _wide
import psycopg
from _charter import Charter, RequestKind, StatementCounter, compare, rss_mb, stats, timed
from _pg import create_database, drop_database, libpq, log, use_admin_url
from _wide import URL_ENV, base_key, email, field, ref, systems_yaml
from peers import fides_bench

STORE_DB = f"charter_bench_dsr_store_{os.getpid()}"
STATE_DB = f"charter_bench_dsr_state_{os.getpid()}"
PEER = Path(__file__).resolve().parent / "peers" / "fides_bench.py"
FIDES_NOTE = "not measured in this run: add --with-fides, or run bench/peers/fides_bench.py and pass --fides-results"


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
        _wide.copy(
            conn,
            "hcustomer",
            "id, email, name, phone",
            (f"{p}\t{email(p)}\tName {p}\t+1{p}\n" for p in range(1, filler + 2)),
        )
        items = [(n, 1) for n in range(1, HEAVY_ROWS + 1)]
        items += [(HEAVY_ROWS + (p - 2) * 2 + k + 1, p) for p in range(2, filler + 2) for k in range(2)]
        _wide.copy(
            conn,
            "hitem",
            "id, hcustomer_id, title, address, amount",
            (f"{i}\t{p}\ttitle {i}\t{i} Main St\t{i % 97}\n" for i, p in items),
        )
        _wide.copy(conn, "hline", "id, hitem_id, body", (f"{i}\t{i}\tbody of {i}\n" for i, _p in items))
        conn.execute("CREATE INDEX ix_hcustomer_email ON hcustomer (email)")
        conn.execute("CREATE INDEX ix_hcustomer_email_folded ON hcustomer (lower(btrim(email, E' \\t\\n\\r')))")
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


def heavy_reads(cur: psycopg.Cursor[Any], mail: str) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    out["hcustomer"] = cur.execute(
        "SELECT * FROM hcustomer WHERE lower(btrim(email, E' \\t\\n\\r')) = %s", (mail,)
    ).fetchall()
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
        lines = [r[0] for r in found["hline"]]
        left = cur.execute(  # by primary key, by the discovery's search, and the e-mail searched (issue 11)
            "SELECT (SELECT count(*) FROM hcustomer WHERE lower(btrim(email, E' \\t\\n\\r')) = %s)"
            " + (SELECT count(*) FROM hcustomer WHERE id = ANY(%s) AND (email IS DISTINCT FROM %s"
            " OR name IS NOT NULL OR phone IS NOT NULL))"
            " + (SELECT count(*) FROM hitem WHERE id = ANY(%s) AND (title IS NOT NULL OR address IS NOT NULL))"
            " + (SELECT count(*) FROM hline WHERE id = ANY(%s) OR hitem_id = ANY(%s))",
            (mail, ids, hashed, items, lines, items),
        ).fetchone()[0]
        if left:
            raise RuntimeError(f"baseline heavy erasure left {left} rows")
    return sum(len(v) for v in found.values())


def bench_wide(
    charter: Charter,
    store_url: str,
    args: argparse.Namespace,
    rng: random.Random,
    folder: Path,
    peer: fides_bench.Peer | None = None,
) -> dict[str, Any]:
    """Charter, the hand-written SQL and (given ``peer``) Fides, interleaved person by person.

    Fides has a store of its own loaded with the same shape, so it gets the very people Charter gets."""
    people, samples, children, diag = args.people, args.samples, args.children, args.samples
    chosen = rng.sample(range(1, people + 1), samples * 3)
    access_people, charter_erase, base_erase = chosen[:samples], chosen[samples : 2 * samples], chosen[2 * samples :]
    key = base_key(charter.config.secret_key())
    log("creating and approving requests (not timed)")
    access_ids = [charter.approved(RequestKind.ACCESS, email(p)) for p in access_people]
    erase_ids = [charter.approved(RequestKind.DELETION, email(p)) for p in charter_erase]
    # warm-up: one of each, not counted (imports, first reflection)
    warm_a = charter.approved(RequestKind.ACCESS, email(chosen[0]))
    charter.run(warm_a)
    fides_runs: dict[str, list[dict[str, float]]] = {"access": [], "erasure": []}
    if peer is not None:
        log("Fides warm-up: one access and one erasure request (not counted)")
        peer.time(chosen[0], "bench_access")
        peer.time(min(set(range(1, people + 1)) - set(chosen)), "bench_erasure")
    names = ("charter_access", "base_access", "base_access_newconn", "charter_erasure", "base_erasure")
    results: dict[str, list[float]] = {k: [] for k in (*names, "base_erasure_newconn")}
    steps: dict[str, int] = {}
    conn = psycopg.connect(libpq(store_url))
    also = ", Fides" if peer is not None else ""
    log(f"access: {samples} people, Charter{also} and baseline interleaved")
    for n, (p, rid) in enumerate(zip(access_people, access_ids, strict=True)):
        took, outcome = charter.run(rid)
        steps["access"] = outcome.steps
        results["charter_access"].append(took)
        results["base_access"].append(timed(_wide.access_sql, conn, email(p), folder, n, children))

        def fresh(mail: str = email(p), n: int = n) -> None:
            with psycopg.connect(libpq(store_url)) as c:
                _wide.access_sql(c, mail, folder, n, children)

        results["base_access_newconn"].append(timed(fresh))
        if peer is not None:
            fides_runs["access"].append(peer.time(p, "bench_access"))
            time.sleep(args.fides_settle_ms / 1000)
    log(f"erasure: {samples} people each for Charter{also} and baseline, interleaved")
    half = samples // 2
    for n, (p, rid, q) in enumerate(zip(charter_erase, erase_ids, base_erase, strict=True)):
        took, outcome = charter.run(rid)
        steps["erasure"] = outcome.steps
        results["charter_erasure"].append(took)
        if peer is not None:
            fides_runs["erasure"].append(peer.time(p, "bench_erasure"))
            time.sleep(args.fides_settle_ms / 1000)
        if n < half:
            results["base_erasure"].append(timed(_wide.erase_sql, conn, email(q), key, children))
        else:

            def fresh(mail: str = email(q)) -> None:
                with psycopg.connect(libpq(store_url)) as c:
                    _wide.erase_sql(c, mail, key, children)

            results["base_erasure_newconn"].append(timed(fresh))
    conn.close()
    log(f"diagnostics: statements per run; {diag} runs each with connectors built and closed per run")
    counter = StatementCounter()
    taken = set(chosen)
    spare = [p for p in range(1, people + 1) if p not in taken]
    extra = rng.sample(spare, 2 + 2 * diag)
    rid = charter.approved(RequestKind.ACCESS, email(extra[0]))
    counter.take()
    charter.run(rid)
    statements = {"access": counter.take()}
    rid = charter.approved(RequestKind.DELETION, email(extra[1]))
    counter.take()
    charter.run(rid)
    statements["erasure"] = counter.take()
    counter.close()
    fresh_ids = [charter.approved(RequestKind.ACCESS, email(p)) for p in extra[2 : 2 + diag]]
    fresh_erase = [charter.approved(RequestKind.DELETION, email(p)) for p in extra[2 + diag :]]
    per_run = {
        "access": stats([charter.run(r, per_run=True)[0] for r in fresh_ids]),
        "erasure": stats([charter.run(r, per_run=True)[0] for r in fresh_erase]),
    }
    out: dict[str, Any] = {
        "tables": 1 + 2 * children,
        "rows_per_person": _wide.rows_per_person(children),
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
        "statements_per_run": statements,
        "diagnostic_connectors_per_run": per_run,
    }
    out["check"] = _wide.rows_left(store_url, charter_erase, children)
    out["commit_floor"] = commit_floor(charter.database.url)
    if peer is not None:
        out["fides_runs"] = {
            "access": fides_bench.summarize(fides_runs["access"]),
            "erasure": fides_bench.summarize(fides_runs["erasure"]),
            "check": fides_bench.check_store(peer.store_url, charter_erase, children),
            **peer.rss(),
        }
    out["raw_ms"] = {k: [round(v * 1000, 2) for v in vs] for k, vs in results.items()}
    return out


def commit_floor(state_url: str, samples: int = 50) -> dict[str, Any]:
    """What one commit of a one-row INSERT costs on this machine's PostgreSQL, durable (the log flushed:
    ``synchronous_commit = on``) and relaxed (``off``), median ms. Context for the ratios: a request that
    says "completed" needs one durable commit (access), a deletion two (its discovery before any write,
    and the end) plus the store's own; the hand-written baseline's access commits nothing durable, its
    erasure only the store's."""
    out: dict[str, Any] = {"samples": samples}
    with psycopg.connect(libpq(state_url)) as conn:
        # a table of the database's own (a temporary one writes no log, so its commit flushes nothing)
        conn.execute("CREATE TABLE bench_commit_floor (n integer)")
        conn.commit()
        try:
            for mode in ("on", "off", "on", "off"):
                taken = []
                for n in range(samples):
                    begun = time.perf_counter()
                    conn.execute(f"SET LOCAL synchronous_commit TO {mode}")
                    conn.execute("INSERT INTO bench_commit_floor VALUES (%s)", (n,))
                    conn.commit()
                    taken.append(time.perf_counter() - begun)
                key = "durable_ms" if mode == "on" else "relaxed_ms"
                out.setdefault(key, []).append(round(statistics.median(taken) * 1000, 3))
        finally:
            conn.rollback()
            conn.execute("DROP TABLE bench_commit_floor")
            conn.commit()
    return out


def bench_heavy(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    store_url = create_database(args.store_db + "_heavy")
    state_url = create_database(args.state_db + "_heavy")
    charter: Charter | None = None
    try:
        load_heavy(store_url, args.heavy_filler)
        datamap_dir = folder / "heavy_datamap"
        datamap_dir.mkdir()
        (datamap_dir / "dataset.yaml").write_text(heavy_yaml())
        (datamap_dir / "systems.yaml").write_text(systems_yaml())
        charter = Charter(state_url, {URL_ENV: store_url}, folder / "heavy_home", datamap_dir)
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
            "fides": None,
            "fides_note": "not measured: bench/peers/fides_bench.py runs the wide shape only",
            "plan_steps": outcome.steps,
            "check_rows_left": left,
        }
    finally:
        if charter is not None:
            charter.close()
        if not args.keep:
            drop_database(args.store_db + "_heavy")
            drop_database(args.state_db + "_heavy")


# --- Fides, the peer, measured by bench/peers/fides_bench.py ------------------------------------------


def peer_args(args: argparse.Namespace) -> argparse.Namespace:
    """fides_bench's options for this run: the same shape, people and seed, plus ``--fides-arg``."""
    shape = ["--people", str(args.people), "--samples", str(args.samples)]
    shape += ["--children", str(args.children), "--seed", str(args.seed)]
    shape += ["--admin-url", args.admin_url] if args.admin_url else []
    parsed = fides_bench.make_parser().parse_args([*args.fides_arg, *shape])
    if parsed.clock != "approve":
        raise SystemExit("--with-fides interleaved times Fides from the approval, as Charter: no --clock submit")
    return parsed


def run_fides(args: argparse.Namespace) -> dict[str, Any]:
    """The peer script as a subprocess on the same shape (its own databases, venv and Redis db): its JSON.

    A subprocess, not an import: Fides lives in a venv of its own, and the script cleans up after itself."""
    command = [
        sys.executable,
        str(PEER),
        *("--people", str(args.people), "--samples", str(args.samples)),
        *("--children", str(args.children), "--seed", str(args.seed)),
        *(["--admin-url", args.admin_url] if args.admin_url else []),
        *args.fides_arg,
    ]
    log("Fides: " + " ".join(command[1:]))
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)  # noqa: S603 - our own script
    if args.fides_save:
        Path(args.fides_save).write_text(done.stdout)
    return dict(json.loads(done.stdout))


def read_fides(path: str, args: argparse.Namespace) -> dict[str, Any]:
    """The peer script's JSON, refused unless it measured the same shape (people, child tables)."""
    peer = dict(json.loads(Path(path).read_text()))
    if (peer.get("people"), peer.get("children")) != (args.people, args.children):
        raise SystemExit(
            f"{path} measured {peer.get('people')} people, {peer.get('children')} child tables;"
            f" this run {args.people}, {args.children}"
        )
    return peer


def with_fides(wide: dict[str, Any], peer: dict[str, Any] | None) -> None:
    """``wide.fides`` (the peer's figures, client-side: approval until ``complete`` seen) and the ratio."""
    if peer is None:
        wide["fides"] = None
        wide["fides_note"] = FIDES_NOTE
        return
    wide["fides"] = {
        "version": peer["fides_version"],
        "people": peer["people"],
        "samples": peer["samples"],
        "clock": peer["clock"],
        "execution": peer.get("execution"),
        "when": peer.get("when", "after Charter's part (a separate run of bench/peers/fides_bench.py)"),
        "settle_ms": peer.get("settle_ms"),
        "access": peer["access"]["until_complete_seen"],
        "erasure": peer["erasure"]["until_complete_seen"],
        "server_side": {k: peer[k]["fides_reviewed_to_finished"] for k in ("access", "erasure")},
        "approve_call": {k: peer[k]["approve_call"] for k in ("access", "erasure")},
        "failed": {k: peer[k].get("failed", 0) for k in ("access", "erasure")},
        "server_peak_rss_mb": peer.get("server_peak_rss_mb"),
        "load": [peer.get("load_before"), peer.get("load_after")],
        "check": peer.get("check"),
        "raw_ms": {k: peer[k]["raw_ms"] for k in ("access", "erasure")},
    }
    wide["ratio_fides_over_charter"] = {
        kind: {
            q: round(peer[kind]["until_complete_seen"][f"{q}_ms"] / wide["charter"][kind][f"{q}_ms"], 1)
            for q in ("median", "p95")
        }
        for kind in ("access", "erasure")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--children", type=int, default=5, help="child tables (5: 11 tables, 25: 51 tables)")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--heavy", action="store_true", help="also the 3-table, 4,001-row person (erasure)")
    parser.add_argument("--heavy-filler", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="leave the databases in place")
    parser.add_argument("--store-db", default=STORE_DB, help="the store's database name (created, then dropped)")
    parser.add_argument("--state-db", default=STATE_DB, help="Charter's database name (created, then dropped)")
    parser.add_argument("--admin-url", default=None, help="PostgreSQL admin URL (default CHARTER_BENCH_POSTGRES_URL)")
    fides_group = parser.add_mutually_exclusive_group()
    fides_group.add_argument(
        "--with-fides",
        nargs="?",
        const="interleaved",
        choices=("interleaved", "after"),
        help="also measure Fides (bench/peers/fides_bench.py) on the same shape: interleaved person by person"
        " with Charter (the default), or after Charter's part, as a subprocess",
    )
    fides_group.add_argument("--fides-results", default=None, help="JSON bench/peers/fides_bench.py wrote in this run")
    parser.add_argument(
        "--fides-settle-ms",
        type=float,
        default=0.0,
        help="interleaved: pause after each Fides request, so what it leaves running does not land on Charter's",
    )
    parser.add_argument(
        "--fides-save", default=None, help="with --with-fides after: also write the peer's whole JSON here"
    )
    parser.add_argument(
        "--fides-arg", action="append", default=[], help="passed on to fides_bench.py (repeat: --fides-arg=--keep)"
    )
    args = parser.parse_args()
    if args.admin_url:
        use_admin_url(args.admin_url)
    rng = random.Random(args.seed)
    out: dict[str, Any] = {
        "bench": "dsr_bench",
        "people": args.people,
        "samples": args.samples,
        "children": args.children,
        "python": sys.version.split()[0],
        "cores": os.cpu_count(),
        "load_before": os.getloadavg()[0],
    }
    rows = _wide.rows_per_person(args.children)
    with tempfile.TemporaryDirectory(prefix="charter-dsr-bench-") as tmp:
        folder = Path(tmp)
        store_url = create_database(args.store_db)
        state_url = create_database(args.state_db)
        charter: Charter | None = None
        peers = ExitStack()
        try:
            peer: fides_bench.Peer | None = None
            if args.with_fides == "interleaved":
                fargs = peer_args(args)
                cache = fides_bench.open_redis(fargs)
                peers.callback(lambda: log(f"deleted {cache.clean()} Redis keys from Fides' db {cache.db}"))
                fides_folder = folder / "fides"
                fides_folder.mkdir()
                fides_info: dict[str, Any] = {"load_before": os.getloadavg()[0], **fides_bench.describe(fargs)}
                peer = peers.enter_context(fides_bench.running_fides(fargs, cache, fides_folder, fides_info))
            log(f"loading {args.people} people x {rows} rows ({1 + 2 * args.children} tables) with COPY")
            out["load"] = _wide.load(store_url, args.people, args.children)
            out["load"]["rows"] = args.people * rows
            datamap_dir = _wide.write_datamap(folder / "datamap", args.children)
            charter = Charter(state_url, {URL_ENV: store_url}, folder / "home", datamap_dir)
            out["rss_mb_before_requests"] = round(rss_mb(), 1)
            out["wide"] = bench_wide(charter, store_url, args, rng, folder, peer)
            if peer is not None:
                runs = out["wide"].pop("fides_runs")
                fides_info.update(runs, load_after=os.getloadavg()[0], settle_ms=args.fides_settle_ms)
                fides_info["when"] = "interleaved with Charter, person by person"
                peers.close()  # Fides stopped and its databases dropped before the heavy shape, if any
                with_fides(out["wide"], fides_info)
        finally:
            peers.close()
            if charter is not None:
                charter.close()
            if not args.keep:
                drop_database(args.store_db)
                drop_database(args.state_db)
        if args.with_fides == "after":
            with_fides(out["wide"], run_fides(args))
        elif args.fides_results:
            with_fides(out["wide"], read_fides(args.fides_results, args))
        elif not args.with_fides:
            with_fides(out["wide"], None)
        if args.heavy:
            out["heavy"] = bench_heavy(args, folder)
    out["peak_rss_mb"] = round(rss_mb(), 1)
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
