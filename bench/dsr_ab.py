"""Two versions of Charter's request runner, run for run in lockstep: a paired comparison that the machine's drift
cannot tilt.

On a shared or virtual machine the same code measured 16 to 28 ms per access run within one evening: a figure
taken before a change and one taken after differ by more than most changes. Here two worker processes, one per
version, each with its own store and state databases (the ``wide`` shape of ``dsr_bench.py``), take turns: the
coordinator asks the first for one run, then the second, then the first again, so both see the same moment of
the machine. The figure is the median of the per-pair ratios (new over base), with the medians of each side,
their CPU time, and the share of pairs in which the new version was faster.

``--base-src`` is a ``src`` folder of the version to compare with, for example::

    git archive <rev> src | tar -x -C /tmp/base
    .venv/bin/python bench/dsr_ab.py --base-src /tmp/base/src --kind access --runs 200

The new version is this checkout's ``src``. JSON on stdout, progress on stderr. Databases are created through
``--admin-url`` (default ``CHARTER_BENCH_POSTGRES_URL``), named ``--db-prefix`` + ``_store_``/``_state_`` + the
worker's pid, and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"


def worker(args: argparse.Namespace) -> None:
    """One version: set up its databases and requests, then one run per ``run`` line on stdin."""
    import _wide
    from _charter import Charter, RequestKind
    from _pg import create_database, drop_database, use_admin_url

    if args.admin_url:
        use_admin_url(args.admin_url)
    kind = RequestKind.ACCESS if args.kind == "access" else RequestKind.DELETION
    store_db, state_db = f"{args.db_prefix}_store_{os.getpid()}", f"{args.db_prefix}_state_{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="charter-dsr-ab-") as tmp:
        folder = Path(tmp)
        store_url, state_url = create_database(store_db), create_database(state_db)
        charter = None
        try:
            _wide.load(store_url, args.people, args.children)
            datamap = _wide.write_datamap(folder / "datamap", args.children)
            charter = Charter(state_url, {_wide.URL_ENV: store_url}, folder / "home", datamap)
            people = random.Random(args.seed).sample(range(1, args.people + 1), args.runs + args.warmup)
            ids = [charter.approved(kind, _wide.email(p)) for p in people]
            for rid in ids[: args.warmup]:
                charter.run(rid)
            print("ready", flush=True)
            for rid in ids[args.warmup :]:
                if sys.stdin.readline().strip() != "run":
                    break
                cpu = time.process_time()
                took, _outcome = charter.run(rid)
                print(f"{took * 1000:.4f} {(time.process_time() - cpu) * 1000:.4f}", flush=True)
        finally:
            if charter is not None:
                charter.close()
            drop_database(store_db)
            drop_database(state_db)


def _start(src: Path, args: argparse.Namespace) -> subprocess.Popen[str]:
    argv = [sys.executable, __file__, "--worker", "--kind", args.kind, "--runs", str(args.runs)]
    argv += ["--people", str(args.people), "--children", str(args.children), "--seed", str(args.seed)]
    argv += ["--warmup", str(args.warmup), "--db-prefix", args.db_prefix]
    argv += ["--admin-url", args.admin_url] if args.admin_url else []
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{HERE}"}
    return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)  # noqa: S603 - this script, this interpreter


def _ask(process: subprocess.Popen[str]) -> tuple[float, float]:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("run\n")
    process.stdin.flush()
    wall, cpu = process.stdout.readline().split()
    return float(wall), float(cpu)


def coordinate(args: argparse.Namespace) -> dict[str, Any]:
    sides = {"base": _start(Path(args.base_src).resolve(), args), "new": _start(SRC, args)}
    try:
        for process in sides.values():
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                raise SystemExit("a worker did not start; run it alone with --worker to see why")
        print(f"[ab] {args.runs} {args.kind} runs each, in turns", file=sys.stderr)
        runs: dict[str, list[tuple[float, float]]] = {"base": [], "new": []}
        for n in range(args.runs):
            order = ("base", "new") if n % 2 == 0 else ("new", "base")  # neither always goes first
            for side in order:
                runs[side].append(_ask(sides[side]))
    finally:
        for process in sides.values():
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout=120)
    ratios = [new[0] / base[0] for base, new in zip(runs["base"], runs["new"], strict=True)]
    cpu_ratios = [new[1] / base[1] for base, new in zip(runs["base"], runs["new"], strict=True) if base[1] > 0]

    def side(name: str) -> dict[str, float]:
        return {
            "median_ms": round(statistics.median(w for w, _ in runs[name]), 2),
            "median_cpu_ms": round(statistics.median(c for _, c in runs[name]), 2),
        }

    return {
        "bench": "dsr_ab",
        "kind": args.kind,
        "runs": args.runs,
        "people": args.people,
        "tables": 1 + 2 * args.children,
        "base_src": str(args.base_src),
        "base": side("base"),
        "new": side("new"),
        "paired_median_ratio_new_over_base": round(statistics.median(ratios), 3),
        "paired_median_cpu_ratio_new_over_base": round(statistics.median(cpu_ratios), 3) if cpu_ratios else None,
        "new_faster_share": round(sum(r < 1 for r in ratios) / len(ratios), 3),
        "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-src", help="the src folder of the version to compare with (git archive <rev> src)")
    parser.add_argument("--kind", choices=("access", "erasure"), default="access")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--children", type=int, default=5, help="child tables (5: the 11-table shape)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--admin-url", default=None, help="PostgreSQL admin URL (default CHARTER_BENCH_POSTGRES_URL)")
    parser.add_argument(
        "--db-prefix", default="charter_bench_ab", help="databases are <prefix>_store_<pid> and <prefix>_state_<pid>"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if not args.base_src:
        parser.error("--base-src is required")
    print(json.dumps(coordinate(args), indent=2))


if __name__ == "__main__":
    main()
